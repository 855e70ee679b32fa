package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Snapshot;
import dev.agentfs.core.JournalReplayTest.DurableMemory;
import dev.agentfs.spi.Content;
import dev.agentfs.vfs.Attr;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Compaction of the journal ({@link LogCompactor}) never changes what replay rebuilds: random
 * histories of file operations, snapshots, branches, resets and deletions (with flushes in
 * between, so state records of one inode pile up across batches) are replayed from the full
 * log and from its compacted form, and every branch, snapshot, inode number and the next inode
 * number must match. The seed of a failing history is in the message; more histories with
 * {@code -Dagentfs.compaction.histories=N}.
 */
class LogCompactionTest {
  private static final int HISTORIES = Integer.getInteger("agentfs.compaction.histories", 60);

  @Test
  void compactedLogReplaysToTheSameState() throws Exception {
    long totalBefore = 0;
    long totalAfter = 0;
    for (int h = 0; h < HISTORIES; h++) {
      long seed = 0x5EED_0000L + h;
      List<List<ByteBuffer>> log = new ArrayList<>();
      DurableMemory store = new DurableMemory(log);
      Map<String, String> live;
      try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
        history(fs, new Random(seed), 400, false);
        live = state(fs);
      }
      List<List<ByteBuffer>> compacted = compact(log);
      totalBefore += records(log);
      totalAfter += records(compacted);
      Map<String, Content> contents = new HashMap<>(store.byId);
      Map<String, String> full = replay(store, log, contents);
      Map<String, String> small = replay(store, compacted, contents);
      same(live, withoutProbe(full), "seed " + seed + ": the full log replays to the live state");
      same(full, small, "seed " + seed + ": the compacted log replays to the same state");
      // A second compaction finds nothing more to drop.
      assertEquals(records(compacted), records(compact(compacted)), "seed " + seed);
    }
    System.out.printf("%d histories: %d records, %d after compaction%n", HISTORIES, totalBefore,
        totalAfter);
    assertTrue(totalAfter * 2 < totalBefore,
        "compaction kept " + totalAfter + " of " + totalBefore + " records");
  }

  @Test
  void compactingWhileRunningKeepsEverything() throws Exception {
    for (int h = 0; h < HISTORIES / 4; h++) {
      long seed = 0xC0FFEE00L + h;
      List<List<ByteBuffer>> log = new ArrayList<>();
      DurableMemory store = new DurableMemory(log);
      Map<String, String> live;
      try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
        history(fs, new Random(seed), 400, true);
        live = state(fs);
      }
      Map<String, String> again = replay(store, log, new HashMap<>(store.byId));
      same(live, withoutProbe(again), "seed " + seed);
    }
  }

  @Test
  void overwritesShrinkToOneRecordPerInode() throws Exception {
    List<List<ByteBuffer>> log = new ArrayList<>();
    DurableMemory store = new DurableMemory(log);
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      fs.main().write("/f", "0");
      for (int i = 1; i <= 500; i++) {
        fs.main().write("/f", Integer.toString(i));
        fs.core().syncMetadata();
      }
      int before = records(log);
      fs.core().compactMetadata();
      int after = records(log);
      assertTrue(before > 500, "records before: " + before);
      // INOS, root and /f with their entry, and what the last flush left.
      assertTrue(after <= 6, "records after: " + after);
      assertEquals("500", fs.main().readString("/f"));
    }
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      assertEquals("500", fs.main().readString("/f"));
    }
  }

  @Test
  void deletedSnapshotsAndBranchesLeaveNothingBehind() throws Exception {
    List<List<ByteBuffer>> log = new ArrayList<>();
    DurableMemory store = new DurableMemory(log);
    Map<String, String> live;
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      fs.main().write("/keep", "k");
      fs.core().syncMetadata();
      fs.core().compactMetadata();
      int base = records(log);
      for (int i = 0; i < 50; i++) {
        Snapshot s = fs.main().snapshot("s" + i);
        Branch b = fs.createBranch("b" + i, s);
        b.write("/only-in-b", "x" + i);
        fs.core().syncMetadata();
        fs.deleteBranch("b" + i);
        fs.deleteSnapshot("s" + i);
      }
      fs.core().compactMetadata();
      assertEquals(base, records(log), "nothing of the 50 deleted branches is left");
      live = state(fs);
    }
    same(live, withoutProbe(replay(store, log, new HashMap<>(store.byId))), "replay");
  }

  @Test
  void inodeNumbersOfDroppedRecordsAreNotReused() throws Exception {
    List<List<ByteBuffer>> log = new ArrayList<>();
    DurableMemory store = new DurableMemory(log);
    long highest;
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      Branch b = fs.createBranch("tmp", fs.main().snapshot("s"));
      for (int i = 0; i < 20; i++) {
        b.write("/f" + i, "x");
      }
      highest = b.stat("/f19").ino();
      fs.core().syncMetadata();
      fs.deleteBranch("tmp");
      fs.deleteSnapshot("s");
      fs.core().compactMetadata();
    }
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      fs.main().write("/new", "n");
      assertTrue(fs.main().stat("/new").ino() > highest);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static final String PROBE = "next ino";

  private static Map<String, String> withoutProbe(Map<String, String> state) {
    Map<String, String> m = new TreeMap<>(state);
    m.remove(PROBE);
    return m;
  }

  /** Equal maps, or a failure that shows the first entry that differs. */
  private static void same(Map<String, String> want, Map<String, String> got, String what) {
    if (want.equals(got)) {
      return;
    }
    for (String k : new java.util.TreeSet<>(want.keySet())) {
      if (!want.get(k).equals(got.get(k))) {
        assertEquals(want.get(k), got.get(k), what + ": " + k);
      }
    }
    assertEquals(want.keySet(), got.keySet(), what);
  }

  private static List<List<ByteBuffer>> compact(List<List<ByteBuffer>> log) throws Exception {
    List<List<ByteBuffer>> out = new ArrayList<>();
    LogCompactor.compact(sink -> {
      for (List<ByteBuffer> b : log) {
        sink.accept(b);
      }
    }, b -> out.add(List.copyOf(b)));
    return out;
  }

  private static int records(List<List<ByteBuffer>> log) {
    int n = 0;
    for (List<ByteBuffer> b : log) {
      n += b.size();
    }
    return n;
  }

  /** Opens a copy of {@code store} whose log is {@code log}; returns its state. */
  private static Map<String, String> replay(DurableMemory store, List<List<ByteBuffer>> log,
      Map<String, Content> contents) throws AgentFsException {
    DurableMemory copy = new DurableMemory(new ArrayList<>(log));
    copy.byId.putAll(contents);
    copy.ids.set(store.ids.get());
    try (AgentFs fs = AgentFs.builder().backstore(copy).build()) {
      Map<String, String> s = state(fs);
      // The next inode number continues after every number the log ever used.
      fs.main().write("/.next-ino-probe", "");
      s.put(PROBE, Long.toString(fs.main().stat("/.next-ino-probe").ino()));
      fs.main().delete("/.next-ino-probe");
      return s;
    }
  }

  /** Everything observable: trees of branches and snapshots, bases, origins and times. */
  private static Map<String, String> state(AgentFs fs) throws AgentFsException {
    Map<String, String> out = new TreeMap<>();
    for (Branch b : fs.branches()) {
      out.put("branch " + b.name(), b.base().orElse("-") + "\n" + dump(b, "/"));
    }
    for (Snapshot s : fs.snapshots()) {
      out.put("snapshot " + s.name(), s.branch() + " " + s.createdNs() + "\n"
          + dump(fs.snapshotView(s.name()), "/"));
    }
    return out;
  }

  /** Random operations on random branches; failures (ENOENT, ENOTEMPTY, ...) are part of it. */
  private static void history(AgentFs fs, Random r, int steps, boolean compactWhileRunning)
      throws AgentFsException {
    String[] dirs = {"/", "/d0/", "/d1/", "/d0/e/"};
    int names = 0;
    for (int i = 0; i < steps; i++) {
      List<Branch> branches = fs.branches();
      Branch b = branches.get(r.nextInt(branches.size()));
      String p = dirs[r.nextInt(dirs.length)] + "f" + r.nextInt(5);
      String q = dirs[r.nextInt(dirs.length)] + "f" + r.nextInt(5);
      String d = dirs[1 + r.nextInt(dirs.length - 1)];
      d = d.substring(0, d.length() - 1);
      List<Snapshot> snaps = fs.snapshots();
      try {
        switch (r.nextInt(20)) {
          case 0, 1, 2, 3 -> b.write(p, bytes(r));
          case 4 -> b.append(p, bytes(r));
          case 5 -> b.mkdirs(d);
          case 6 -> b.delete(p);
          case 7 -> b.rename(p, q);
          case 8 -> b.link(p, q);
          case 9 -> b.chmod(p, 0600 + r.nextInt(0100));
          case 10 -> b.setxattr(p, "user.k" + r.nextInt(2), bytes(r));
          case 11 -> b.deleteRecursively(d);
          case 12 -> b.rename(d, dirs[1 + r.nextInt(2)] + "moved" + r.nextInt(2));
          case 13 -> b.snapshot("s" + names++);
          case 14 -> {
            if (!snaps.isEmpty()) {
              fs.createBranch("b" + names++, snaps.get(r.nextInt(snaps.size())));
            }
          }
          case 15 -> {
            if (!snaps.isEmpty()) {
              fs.deleteSnapshot(snaps.get(r.nextInt(snaps.size())).name());
            }
          }
          case 16 -> {
            if (!b.name().equals("main")) {
              fs.deleteBranch(b.name());
            }
          }
          case 17 -> {
            if (!snaps.isEmpty() && r.nextInt(3) == 0) {
              fs.resetBranch(b.name(), snaps.get(r.nextInt(snaps.size())).name());
            }
          }
          case 18 -> b.symlink("t" + r.nextInt(3), p);
          default -> b.truncate(p, r.nextInt(5000));
        }
      } catch (AgentFsException e) {
        // an invalid step for the current tree; the history goes on
      }
      if (r.nextInt(3) == 0) {
        fs.core().syncMetadata();
      }
      if (compactWhileRunning && r.nextInt(40) == 0) {
        fs.core().compactMetadata();
      }
    }
  }

  /** Like {@link JournalReplayTest#dump} but with hashes of xattr values, to keep it short. */
  private static String dump(Branch b, String path) throws AgentFsException {
    Attr a = b.lstat(path);
    StringBuilder sb = new StringBuilder(path).append(' ').append(Integer.toOctalString(a.mode()))
        .append(" n=").append(a.nlink()).append(" s=").append(a.size()).append(" m=")
        .append(a.mtimeNs()).append(" c=").append(a.ctimeNs()).append(" i=").append(a.ino());
    if (a.isSymlink()) {
      sb.append(" -> ").append(b.readlink(path));
    } else {
      for (String x : new java.util.TreeSet<>(b.listxattr(path))) {
        sb.append(' ').append(x).append('=').append(Arrays.hashCode(b.getxattr(path, x)));
      }
    }
    if (a.isRegular()) {
      sb.append(" data=").append(Arrays.hashCode(b.read(path)));
    }
    sb.append('\n');
    if (a.isDirectory()) {
      for (String c : b.list(path)) {
        sb.append(dump(b, path.equals("/") ? "/" + c : path + "/" + c));
      }
    }
    return sb.toString();
  }

  private static byte[] bytes(Random r) {
    byte[] b = new byte[r.nextInt(3) == 0 ? 0 : r.nextInt(3000)];
    r.nextBytes(b);
    return b;
  }
}
