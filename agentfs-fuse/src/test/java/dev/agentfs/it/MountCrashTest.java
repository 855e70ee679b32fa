package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.Snapshot;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.fuse.ControlClient;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.Passthrough;
import dev.agentfs.spi.MountHandle;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery through a real mount on HostFs. A child JVM ({@link CrashMountChild}) mounts
 * an AgentFs over a HostFs backstore; a python3 writer ({@code fsops.py}) changes files of
 * varying sizes through the mount (write, patch in place, truncate, rename, delete, mkdir,
 * rmdir), fsyncs each change and its directory and then reports it "synced", and after each
 * report churns unsynced files in {@code junk/}; between steps the test snapshots and branches
 * main through the control file, and writes into new branches with the writer bound to them.
 * After the N-th synced report the test SIGKILLs the child (the writer's churn still running),
 * detaches the dead mount with {@link KernelMounts#unmountStale}, reopens the same backstore
 * directory in a new mount and checks, through the mount: main has exactly the files and
 * directories the writer reported (with the reported sha256, later renames and deletions
 * applied), every entry below every tree is lstat-able with nlink 2 + subdirectories for
 * directories and 1 for files, every snapshot and branch the control plane confirmed exists
 * with the contents it had. Cycles run on the same backstore, so each recovery starts from a
 * recovered store; passthrough alternates between cycles. While the first child holds the
 * store, opening it again fails with EBUSY naming the holder, and the mount keeps working.
 *
 * <p>What this proves: the durability protocol (fsync through the mount reaches the content
 * file and a synced metadata-log batch before it returns; snapshot and branch replies follow
 * their synced records) and recovery (torn tails, stale mounts, replay, stray content). What it
 * does not prove: that fsync reaches the disk. SIGKILL leaves the host's page cache intact, so
 * data the server wrote but never fsync'd survives too; power loss is not simulated.
 *
 * <p>CI runs {@link #KILL_POINTS}; {@code -Dagentfs.crash.cycles=N} runs N cycles (points past
 * the list are random, from {@code -Dagentfs.crash.seed}).
 */
class MountCrashTest {
  /** Synced steps before the kill, per cycle: the kill lands after step N of that cycle. */
  static final int[] KILL_POINTS = {0, 1, 2, 3, 5, 8, 13, 21};

  private static final int CYCLES = Integer.getInteger("agentfs.crash.cycles", KILL_POINTS.length);
  private static final long SEED = Long.getLong("agentfs.crash.seed", 0x5EED_CAFEL);

  @TempDir Path tmp;

  private final TreeModel main = new TreeModel();
  private final Map<String, TreeModel> snapshots = new TreeMap<>();
  private final Map<String, TreeModel> branches = new TreeMap<>();
  private int junk;

  @Test
  void everythingSyncedSurvivesSigkillOfTheMountingJvm() throws Exception {
    Fuse.require();
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Random r = new Random(SEED);
    try {
      for (int cycle = 0; cycle < CYCLES; cycle++) {
        int killAfter = cycle < KILL_POINTS.length ? KILL_POINTS[cycle] : r.nextInt(30);
        Passthrough pt = cycle % 2 == 0 ? Passthrough.REQUIRED : Passthrough.OFF;
        String where = "seed " + SEED + ", cycle " + cycle + " (killed after synced step "
            + killAfter + ", passthrough " + pt + ")";
        runAndKill(store, mnt, pt, cycle, killAfter, r, where);
        assertTrue(KernelMounts.isStale(mnt), where + ": the killed server's mount is stale");
        assertTrue(KernelMounts.unmountStale(mnt), where);
        verify(store, mnt, where, cycle == CYCLES - 1 ? 0 : cycle - 1);
      }
    } finally {
      if (KernelMounts.isStale(mnt)) {
        KernelMounts.unmountStale(mnt);
      }
      KernelMounts.unmount(mnt);
    }
  }

  /** One child: steps until the {@code killAfter}-th synced report, then SIGKILL. */
  private void runAndKill(Path store, Path mnt, Passthrough pt, int cycle, int killAfter,
      Random r, String where) throws Exception {
    Process child = startChild(store, mnt, pt);
    try {
      awaitMounted(child, where);
      if (cycle == 0) {
        AgentFsException busy = assertThrows(AgentFsException.class,
            () -> HostFsBackstore.open(store), where + ": a second open of a held store");
        assertEquals(Errno.EBUSY, busy.errno(), busy.getMessage());
        assertTrue(busy.getMessage().contains("held by pid " + child.pid()), busy.getMessage());
      }
      try (ControlClient ctl = ControlClient.open(mnt)) {
        // Bind this JVM (and so the writers it starts) to main before anything is looked up,
        // so the kernel never caches root entries: the root invalidation a control-plane BIND
        // sends is asynchronous (a worker never waits for the kernel), and a writer bound
        // right after it could still resolve names through main's cached entries.
        ctl.call(Op.BIND, Map.of("pid", Long.toString(ProcessHandle.current().pid()),
            "branch", "main"));
        steps(ctl, child, cycle, killAfter, r, mnt, where);
      }
    } finally {
      child.destroyForcibly();
      child.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /** Writer steps, snapshots and branches until the {@code killAfter}-th synced step. */
  private void steps(ControlClient ctl, Process child, int cycle, int killAfter, Random r,
      Path mnt, String where) throws Exception {
    try (FsOps w = FsOps.start(mnt)) {
      for (int i = 0; ; i++) {
        w.send(main.nextOp(r));
        w.send("junk " + junk++);
        String reply = w.read();
        main.apply(reply);
        // The history, for reading a failure: which steps touched the path that differs.
        System.out.println("cycle " + cycle + " step " + i + ": " + reply);
        if (i == killAfter) {
          child.destroyForcibly(); // SIGKILL, while the writer churns junk/
          assertTrue(child.waitFor(60, TimeUnit.SECONDS), where);
          w.kill();
          return;
        }
        int event = r.nextInt(10);
        if (event < 2) {
          String name = "c" + cycle + "s" + i;
          ctl.call(Op.SNAPSHOT_CREATE, Map.of("name", name, "branch", "main"));
          snapshots.put(name, main.copy());
          System.out.println("cycle " + cycle + " step " + i + ": snapshot " + name);
        } else if (event == 2) {
          branch(ctl, w, "c" + cycle + "b" + i, r);
        }
      }
    }
  }

  /** A branch of main made through the control file, then one synced change inside it. */
  private void branch(ControlClient ctl, FsOps w, String name, Random r) throws Exception {
    ctl.call(Op.BRANCH_CREATE, Map.of("name", name, "fromBranch", "main"));
    snapshots.put(name + "@base", main.copy());
    TreeModel b = main.copy();
    branches.put(name, b);
    ctl.call(Op.BIND, Map.of("pid", Long.toString(w.pid()), "branch", name));
    String reply = w.call(b.nextOp(r));
    b.apply(reply);
    System.out.println("branch " + name + ": " + reply);
    ctl.call(Op.UNBIND, Map.of("pid", Long.toString(w.pid())));
  }

  /**
   * Reopens the store in a new mount and checks main and every snapshot and branch the test was
   * told is durable. Contents of those made before cycle {@code since} were checked after
   * earlier kills and are skipped (all are checked after the last), so long runs stay linear.
   */
  private void verify(Path store, Path mnt, String where, int since) throws Exception {
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build();
        MountHandle h = fs.mount(mnt);
        FsOps v = FsOps.start(mnt)) {
      main.check(v.manifest(mnt.toString()), where + ": main");
      assertEquals(snapshots.keySet(),
          new TreeSet<>(fs.snapshots().stream().map(Snapshot::name).toList()),
          where + ": snapshots");
      for (Map.Entry<String, TreeModel> s : snapshots.entrySet()) {
        if (older(s.getKey(), since)) {
          continue;
        }
        Path view = mnt.resolve(".agentfs/snapshots").resolve(s.getKey());
        s.getValue().check(v.manifest(view.toString()), where + ": snapshot " + s.getKey());
      }
      List<String> names = new ArrayList<>(branches.keySet());
      names.add("main");
      assertEquals(new TreeSet<>(names),
          new TreeSet<>(fs.branches().stream().map(Branch::name).toList()),
          where + ": branches");
      for (Map.Entry<String, TreeModel> b : branches.entrySet()) {
        if (older(b.getKey(), since)) {
          continue;
        }
        try (FsOps bound = FsOps.start(mnt)) {
          fs.bind((int) bound.pid(), b.getKey());
          b.getValue().check(bound.manifest(mnt.toString()), where + ": branch " + b.getKey());
        }
      }
    }
  }

  /** Whether snapshot or branch {@code name} ("c{cycle}...") was made before cycle {@code since}. */
  private static boolean older(String name, int since) {
    return Integer.parseInt(name.substring(1).replaceAll("[^0-9].*", "")) < since;
  }

  private static Process startChild(Path store, Path mnt, Passthrough pt) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), CrashMountChild.class.getName(),
        store.toString(), mnt.toString(), pt.name())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static void awaitMounted(Process child, String where) throws Exception {
    BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        String l;
        while ((l = out.readLine()) != null && !l.equals("mounted")) {
          // skip anything else
        }
        return l;
      } catch (java.io.IOException e) {
        return null;
      }
    }).get(60, TimeUnit.SECONDS);
    assertEquals("mounted", line, where + ": the child did not mount");
  }
}
