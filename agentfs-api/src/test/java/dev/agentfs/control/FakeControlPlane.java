package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.CommitResult;
import dev.agentfs.Errno;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.vfs.Caller;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A hand-written {@link ControlPlane} for protocol tests: snapshots, branches and bindings in
 * maps, a configurable diff and commit result, and a log of every call. Public so the CLI's
 * tests (examples module) can use it through the api test-jar.
 */
public final class FakeControlPlane implements ControlPlane {
  public final List<String> calls = new ArrayList<>();
  public final Map<String, String> snapshots = new LinkedHashMap<>(); // name -> branch
  public final Map<String, String> branches = new LinkedHashMap<>(); // name -> base
  public final Map<Integer, String> bindings = new LinkedHashMap<>();
  public List<TreeDiff.Change> diff = List.of();
  public @Nullable CommitResult commitResult;
  public @Nullable RuntimeException failWith;
  public int commits;

  public FakeControlPlane() {
    branches.put("main", "");
  }

  private void log(String s) throws AgentFsException {
    calls.add(s);
    if (failWith != null) {
      throw failWith;
    }
  }

  @Override
  public void snapshotCreate(Caller caller, @Nullable String branch, String name)
      throws AgentFsException {
    log("snapshotCreate " + branch + " " + name);
    if (snapshots.containsKey(name)) {
      throw new AgentFsException(Errno.EEXIST, name, null, "snapshot exists");
    }
    snapshots.put(name, branch == null ? "main" : branch);
  }

  @Override
  public List<Item> snapshotList(Caller caller) throws AgentFsException {
    log("snapshotList");
    List<Item> out = new ArrayList<>();
    snapshots.forEach((n, b) -> {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("branch", b);
      f.put("created", "2026-01-01T00:00:00Z");
      out.add(new Item(n, f));
    });
    return out;
  }

  @Override
  public void snapshotDelete(Caller caller, String name) throws AgentFsException {
    log("snapshotDelete " + name);
    if (snapshots.remove(name) == null) {
      throw new AgentFsException(Errno.ENOENT, name, null, "no such snapshot");
    }
  }

  @Override
  public void branchCreate(Caller caller, String name, @Nullable String fromSnapshot,
      @Nullable String fromBranch) throws AgentFsException {
    log("branchCreate " + name + " " + fromSnapshot + " " + fromBranch);
    branches.put(name, fromSnapshot != null ? fromSnapshot : String.valueOf(fromBranch));
  }

  @Override
  public List<Item> branchList(Caller caller) throws AgentFsException {
    log("branchList");
    List<Item> out = new ArrayList<>();
    branches.forEach((n, b) -> out.add(new Item(n, Map.of("base", b))));
    return out;
  }

  @Override
  public void branchDelete(Caller caller, String name, boolean force) throws AgentFsException {
    log("branchDelete " + name + " " + force);
    if (!force && bindings.containsValue(name)) {
      throw new AgentFsException(Errno.EBUSY, name, null, "processes are bound to it");
    }
    if (branches.remove(name) == null) {
      throw new AgentFsException(Errno.ENOENT, name, null, "no such branch");
    }
  }

  @Override
  public void bind(Caller caller, int pid, String branch) throws AgentFsException {
    log("bind " + pid + " " + branch);
    bindings.put(pid, branch);
  }

  @Override
  public void unbind(Caller caller, int pid) throws AgentFsException {
    log("unbind " + pid);
    bindings.remove(pid);
  }

  @Override
  public String branchOf(Caller caller, int pid) throws AgentFsException {
    log("branchOf " + pid);
    return bindings.getOrDefault(pid, "main");
  }

  @Override
  public List<TreeDiff.Change> diff(Caller caller, String from, String to)
      throws AgentFsException {
    log("diff " + from + " " + to);
    return diff;
  }

  @Override
  public CommitResult commit(Caller caller, String branch, @Nullable String target,
      boolean toLower, boolean dryRun) throws AgentFsException {
    log("commit " + branch + " " + target + " " + toLower + " " + dryRun);
    commits++;
    if (commitResult != null) {
      return commitResult;
    }
    return new CommitResult(branch, toLower ? "<workspace>" : String.valueOf(target), dryRun,
        diff, List.of());
  }

  @Override
  public String patch(Caller caller, String from, String to) throws AgentFsException {
    log("patch " + from + " " + to);
    return "--- a/x\n+++ b/x\n";
  }

  @Override
  public void restore(Caller caller, String branch, String from, String path)
      throws AgentFsException {
    log("restore " + branch + " " + from + " " + path);
  }

  @Override
  public Path export(Caller caller, String branch) throws AgentFsException {
    log("export " + branch);
    return Path.of("/run/agentfs/export", branch);
  }

  @Override
  public Map<String, Object> info(Caller caller) throws AgentFsException {
    log("info");
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("pid", 99);
    o.put("store", "memory");
    o.put("branches", new ArrayList<>(branches.keySet()));
    return o;
  }

  @Override
  public Map<String, Object> checkpoint(Caller caller, String branch) throws AgentFsException {
    log("checkpoint " + branch);
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("branch", branch);
    o.put("checkpoint", null);
    o.put("created", false);
    o.put("pruned", List.of());
    return o;
  }

  @Override
  public void mountSnapshot(Caller caller, String name, Path path) throws AgentFsException {
    log("mountSnapshot " + name + " " + path);
    if (!snapshots.containsKey(name)) {
      throw new AgentFsException(Errno.ENOENT, "snapshot " + name);
    }
  }

  /** A change for tests. */
  public static TreeDiff.Change change(TreeDiff.Kind kind, String path, @Nullable String from) {
    return new TreeDiff.Change(kind, path, from, 42, false, true, false);
  }
}
