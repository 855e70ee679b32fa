package dev.agentfs;

import dev.agentfs.control.ControlPlane;
import dev.agentfs.core.Router;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.vfs.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The control plane of one {@link AgentFs}: snapshots, branches, bindings (applied to every
 * mount's router), diff, commit, and exports for {@code branch exec}. Checks who asks: binding
 * or unbinding another user's process, and deleting a branch others' processes are bound to,
 * need root or that user's uid. One instance serves the Java API; each mount gets its own
 * ({@link #forMount}), sharing the exports, so that a request through a mount's control file
 * is answered for that mount (the caller's branch there, {@link #info}).
 */
final class MountControl implements ControlPlane {
  private final AgentFs fs;
  private final Map<String, MountHandle> exports;
  private final @Nullable Router router;
  private final @Nullable Path mountPoint;

  MountControl(AgentFs fs) {
    this(fs, new ConcurrentHashMap<>(), null, null);
  }

  private MountControl(AgentFs fs, Map<String, MountHandle> exports, @Nullable Router router,
      @Nullable Path mountPoint) {
    this.fs = fs;
    this.exports = exports;
    this.router = router;
    this.mountPoint = mountPoint;
  }

  /** The plane that answers requests made through the mount at {@code mountPoint}. */
  MountControl forMount(Router r, Path mp) {
    return new MountControl(fs, exports, r, mp);
  }

  /** One control-file request from inside this plane's mount. */
  byte[] handle(Caller caller, byte[] request) {
    return dev.agentfs.control.ControlServer.handle(caller, request, this);
  }

  private String callerBranch(Caller c) {
    if (router != null) {
      return router.branchOf(c.pid());
    }
    List<Router> rs = fs.routers();
    return rs.isEmpty() ? AgentFs.MAIN : rs.get(0).branchOf(c.pid());
  }

  @Override
  public Map<String, Object> info(Caller caller) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("pid", ProcessHandle.current().pid());
    if (mountPoint != null) {
      o.put("mountpoint", mountPoint.toString());
      boolean export = exports.values().stream()
          .anyMatch(h -> h.mountPoint().toAbsolutePath().normalize().equals(mountPoint));
      o.put("kind", export ? "export" : "mount");
    }
    o.put("store", fs.backstore().name());
    Path lower = fs.core().lowerRoot();
    if (lower != null) {
      o.put("lower", lower.toString());
    }
    o.put("transport", fs.configuration().transport());
    o.put("readOnly", fs.configuration().has(Feature.READ_ONLY));
    if (router != null) {
      o.put("defaultBranch", router.defaultBranch());
    }
    o.put("branches", fs.core().branchNames());
    o.put("snapshots", fs.core().snapshotNames().size());
    List<Object> bound = new ArrayList<>();
    Map<Integer, String> b = router != null ? router.bindings() : bindings();
    new java.util.TreeMap<>(b).forEach((pid, branch) -> {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("pid", pid);
      e.put("branch", branch);
      bound.add(e);
    });
    o.put("bound", bound);
    CheckpointPolicy p = fs.configuration().checkpoints();
    if (p.enabled()) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("everySeconds", p.every().toSeconds());
      c.put("onExec", p.onExec());
      c.put("keepLast", p.keepLast());
      c.put("keepHourly", p.keepHourly());
      o.put("checkpoints", c);
    }
    return o;
  }

  @Override
  public Map<String, Object> checkpoint(Caller caller, String branch) throws AgentFsException {
    Checkpointer c = fs.checkpoints();
    return c.beforeExec(branch, c.now()).toJson();
  }

  /**
   * Only root may have the server mount a snapshot: the server runs as root and mount(2)
   * follows symlinks, so a check of the directory's owner could be raced into covering any
   * directory of the host (/etc) with a tree the caller wrote. Others read snapshots under
   * {@code .agentfs/snapshots/}.
   */
  @Override
  public void mountSnapshot(Caller caller, String name, Path path) throws AgentFsException {
    requireRoot(caller, name);
    fs.getSnapshot(name);
    fs.mountSnapshot(name, path);
  }

  @Override
  public void snapshotCreate(Caller caller, @Nullable String branch, String name)
      throws AgentFsException {
    fs.branch(branch == null ? callerBranch(caller) : branch).snapshot(name);
  }

  @Override
  public List<Item> snapshotList(Caller caller) {
    List<Item> out = new ArrayList<>();
    for (Snapshot s : fs.snapshots()) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("branch", s.branch());
      f.put("created", s.createdAt().toString());
      out.add(new Item(s.name(), f));
    }
    return out;
  }

  @Override
  public void snapshotDelete(Caller caller, String name) throws AgentFsException {
    fs.deleteSnapshot(name);
  }

  @Override
  public void branchCreate(Caller caller, String name, @Nullable String fromSnapshot,
      @Nullable String fromBranch) throws AgentFsException {
    if ((fromSnapshot == null) == (fromBranch == null)) {
      throw new AgentFsException(Errno.EINVAL, name, null,
          "give exactly one of a snapshot or a branch to start from");
    }
    if (fromSnapshot != null) {
      fs.createBranch(name, fs.getSnapshot(fromSnapshot));
    } else {
      fs.createBranch(name, fs.branch(fromBranch));
    }
  }

  @Override
  public List<Item> branchList(Caller caller) {
    List<Item> out = new ArrayList<>();
    Map<Integer, String> bound = bindings();
    for (Branch b : fs.branches()) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("base", b.base().orElse(""));
      f.put("bound", bound.values().stream().filter(b.name()::equals).count());
      f.put("exported", exports.containsKey(b.name()));
      out.add(new Item(b.name(), f));
    }
    return out;
  }

  private Map<Integer, String> bindings() {
    Map<Integer, String> all = new LinkedHashMap<>();
    for (Router r : fs.routers()) {
      all.putAll(r.bindings());
    }
    return all;
  }

  @Override
  public void branchDelete(Caller caller, String name, boolean force) throws AgentFsException {
    if (name.equals(AgentFs.MAIN)) {
      throw new AgentFsException(Errno.EBUSY, name, null, "the default branch stays");
    }
    List<Integer> pids = new ArrayList<>();
    bindings().forEach((pid, b) -> {
      if (b.equals(name)) {
        pids.add(pid);
      }
    });
    if (!pids.isEmpty() && !force) {
      throw new AgentFsException(Errno.EBUSY, name, null,
          pids.size() + " process(es) bound to it: " + pids + " (use force)");
    }
    for (int pid : pids) {
      authorize(caller, pid);
    }
    for (Router r : fs.routers()) {
      if (r.defaultBranch().equals(name)) {
        throw new AgentFsException(Errno.EBUSY, name, null, "it is a mount's default branch");
      }
    }
    MountHandle exported = exports.remove(name);
    if (exported != null) {
      exported.close();
    }
    for (int pid : pids) {
      for (Router r : fs.routers()) {
        try {
          r.unbind(pid);
        } catch (AgentFsException e) {
          // not bound on this mount
        }
      }
    }
    fs.deleteBranch(name);
  }

  /** Root, or the uid that owns {@code pid}. */
  private static void authorize(Caller caller, int pid) throws AgentFsException {
    if (caller.uid() == 0) {
      return;
    }
    int owner = uidOf(pid);
    if (owner != caller.uid()) {
      throw new AgentFsException(Errno.EPERM, "pid " + pid, null,
          "only root or the process's owner may change its binding");
    }
  }

  static int uidOf(int pid) throws AgentFsException {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    throw new AgentFsException(Errno.ESRCH, "pid " + pid);
  }

  @Override
  public void bind(Caller caller, int pid, String branch) throws AgentFsException {
    authorize(caller, pid);
    fs.branch(branch);
    List<Router> rs = fs.routers();
    if (rs.isEmpty()) {
      throw new AgentFsException(Errno.ENOTCONN, "pid " + pid, null,
          "nothing is mounted: bindings choose what a process sees through a mount");
    }
    for (Router r : rs) {
      r.bind(pid, branch);
    }
  }

  @Override
  public void unbind(Caller caller, int pid) throws AgentFsException {
    authorize(caller, pid);
    boolean any = false;
    for (Router r : fs.routers()) {
      try {
        r.unbind(pid);
        any = true;
      } catch (AgentFsException e) {
        // not bound on this mount
      }
    }
    if (!any) {
      throw new AgentFsException(Errno.ESRCH, "pid " + pid, null, "not bound");
    }
  }

  @Override
  public String branchOf(Caller caller, int pid) {
    if (router != null) {
      return router.branchOf(pid);
    }
    List<Router> rs = fs.routers();
    return rs.isEmpty() ? AgentFs.MAIN : rs.get(0).branchOf(pid);
  }

  @Override
  public List<TreeDiff.Change> diff(Caller caller, String from, String to)
      throws AgentFsException {
    return fs.diff(from, to);
  }

  @Override
  public CommitResult commit(Caller caller, String branch, @Nullable String target,
      boolean toLower, boolean dryRun) throws AgentFsException {
    if (caller.uid() != 0 && !dryRun) {
      throw new AgentFsException(Errno.EPERM, branch, null, "only root may commit");
    }
    if (toLower) {
      return fs.commitToLower(branch, dryRun);
    }
    return target == null ? fs.commit(branch, dryRun) : fs.commit(branch, target, dryRun);
  }

  @Override
  public synchronized Path export(Caller caller, String branch) throws AgentFsException {
    MountHandle m = exports.get(branch);
    if (m != null && m.isAlive()) {
      return m.mountPoint();
    }
    Branch b = fs.branch(branch);
    String mine = ProcessHandle.current().pid() + "-" + Integer.toHexString(
        System.identityHashCode(fs));
    Path dir = Path.of("/run/agentfs", mine, branch);
    try {
      createPrivate(dir);
    } catch (IOException e) {
      // Not root of the host (the root of a user namespace sees /run as someone else's):
      // the temporary directory, under a name of this process's own.
      Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "agentfs-exports-" + mine,
          branch);
      try {
        createPrivate(tmp);
      } catch (IOException e2) {
        e2.addSuppressed(e);
        throw new AgentFsException(Errno.EIO, tmp.toString(), e2);
      }
      dir = tmp;
    }
    m = fs.mount(b, dir);
    exports.put(branch, m);
    return dir;
  }

  @Override
  public String patch(Caller caller, String from, String to) throws AgentFsException {
    return fs.patch(from, to);
  }

  @Override
  public void reset(Caller caller, String branch, String to) throws AgentFsException {
    requireRoot(caller, branch);
    fs.resetBranch(branch, to);
  }

  @Override
  public void restore(Caller caller, String branch, String from, String path)
      throws AgentFsException {
    requireRoot(caller, branch);
    fs.restore(branch, from, path);
  }

  @Override
  public void setDefault(Caller caller, String branch) throws AgentFsException {
    requireRoot(caller, branch);
    for (Router r : fs.routers()) {
      r.setDefaultBranch(branch);
    }
  }

  private static void requireRoot(Caller caller, String branch) throws AgentFsException {
    if (caller.uid() != 0) {
      throw new AgentFsException(Errno.EPERM, branch, null, "only root may do this");
    }
  }

  /** Creates {@code dir} and its parent, the parent open to no one else. */
  private static void createPrivate(Path dir) throws IOException {
    Files.createDirectories(dir.getParent(),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.createDirectories(dir);
  }

  /** Closes the export mounts (the AgentFs closes every mount anyway). */
  void closeExports() {
    for (MountHandle m : exports.values()) {
      m.close();
      try {
        Files.deleteIfExists(m.mountPoint());
        Files.deleteIfExists(m.mountPoint().getParent());
      } catch (IOException e) {
        // still busy or not empty: leave it
      }
    }
    exports.clear();
  }
}
