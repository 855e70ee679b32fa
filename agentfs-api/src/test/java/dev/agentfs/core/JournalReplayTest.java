package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.Content;
import dev.agentfs.spi.MetadataLog;
import dev.agentfs.vfs.Attr;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The journal rebuilds branches, snapshots and trees after a restart, and after a crash keeps
 * everything that was synced. Runs on a durable in-memory backstore whose log and content
 * survive "restarts" (new AgentFs instances over the same objects).
 */
class JournalReplayTest {

  /** Memory content with ids, and a log kept in a list: durable for the lifetime of the test. */
  static final class DurableMemory implements Backstore {
    final MemoryBackstore mem = MemoryBackstore.create();
    final Map<String, Content> byId = new ConcurrentHashMap<>();
    final AtomicLong ids = new AtomicLong();
    final List<List<ByteBuffer>> batches;
    final List<Integer> syncedAt = new ArrayList<>();
    /** When set, appends and syncs of the log fail with this errno and store nothing. */
    volatile Errno logFails;

    DurableMemory(List<List<ByteBuffer>> batches) {
      this.batches = batches;
    }

    final class IdContent implements Content {
      final String id;
      final Content c;

      IdContent(String id, Content c) {
        this.id = id;
        this.c = c;
        byId.put(id, this);
      }

      @Override public String id() {
        return id;
      }

      @Override public long size() {
        return c.size();
      }

      @Override public long allocatedBytes() {
        return c.allocatedBytes();
      }

      @Override public int read(long p, ByteBuffer d) throws AgentFsException {
        return c.read(p, d);
      }

      @Override public void write(long p, ByteBuffer s) throws AgentFsException {
        c.write(p, s);
      }

      @Override public void truncate(long s) throws AgentFsException {
        c.truncate(s);
      }

      @Override public void allocate(long o, long l, boolean k) throws AgentFsException {
        c.allocate(o, l, k);
      }

      @Override public void punchHole(long o, long l) throws AgentFsException {
        c.punchHole(o, l);
      }

      @Override public long seekData(long o) throws AgentFsException {
        return c.seekData(o);
      }

      @Override public long seekHole(long o) throws AgentFsException {
        return c.seekHole(o);
      }

      @Override public Content copy() throws AgentFsException {
        return new IdContent("c" + ids.incrementAndGet(), c.copy());
      }

      @Override public void sync(boolean d) {}

      @Override public void release() {
        byId.remove(id, this);
        c.release();
      }
    }

    @Override public String name() {
      return "durable-memory";
    }

    @Override public Set<BackstoreFeature> features() {
      return Set.of(BackstoreFeature.DURABLE);
    }

    @Override public Content newContent() throws AgentFsException {
      return new IdContent("c" + ids.incrementAndGet(), mem.newContent());
    }

    @Override public Content openContent(String id) throws AgentFsException {
      Content c = byId.get(id);
      if (c == null) {
        throw new AgentFsException(Errno.ENOENT, id);
      }
      return c;
    }

    @Override public long capacityBytes() {
      return mem.capacityBytes();
    }

    @Override public long usedBytes() {
      return mem.usedBytes();
    }

    @Override public MetadataLog metadataLog() {
      return new MetadataLog() {
        @Override public void append(List<ByteBuffer> batch, boolean sync)
            throws AgentFsException {
          failIfBroken();
          List<ByteBuffer> copy = new ArrayList<>();
          for (ByteBuffer b : batch) {
            ByteBuffer c = ByteBuffer.allocate(b.remaining());
            c.put(b.duplicate()).flip();
            copy.add(c);
          }
          synchronized (batches) {
            batches.add(copy);
            if (sync) {
              syncedAt.add(batches.size());
            }
          }
        }

        @Override public void sync() throws AgentFsException {
          failIfBroken();
        }

        private void failIfBroken() throws AgentFsException {
          Errno e = logFails;
          if (e != null) {
            throw new AgentFsException(e, "metadata log", null, "injected");
          }
        }

        @Override public void replay(BatchSink sink) throws AgentFsException {
          for (List<ByteBuffer> b : List.copyOf(batches)) {
            sink.accept(b);
          }
        }

        @Override public long sizeBytes() {
          return batches.size();
        }

        @Override public void compact(Compaction c) throws AgentFsException {
          List<List<ByteBuffer>> fresh = new ArrayList<>();
          c.writeTo(b -> fresh.add(List.copyOf(b)));
          synchronized (batches) {
            batches.clear();
            batches.addAll(fresh);
            syncedAt.add(batches.size());
          }
        }

        @Override public void close() {}
      };
    }

    @Override public void close() {}
  }

  /** Everything observable about a tree, as text, for comparing before and after. */
  static String dump(Branch b) throws AgentFsException {
    StringBuilder sb = new StringBuilder();
    dump(b, "/", sb);
    return sb.toString();
  }

  private static void dump(Branch b, String path, StringBuilder sb) throws AgentFsException {
    Attr a = b.lstat(path);
    sb.append(path).append(' ').append(Integer.toOctalString(a.mode())).append(' ')
        .append(a.uid()).append(':').append(a.gid()).append(" n=").append(a.nlink())
        .append(" s=").append(a.size()).append(" m=").append(a.mtimeNs()).append(" i=")
        .append(a.ino());
    TreeMap<String, String> xs = new TreeMap<>();
    if (!a.isSymlink()) {
      for (String x : b.listxattr(path)) {
        xs.put(x, new String(b.getxattr(path, x)));
      }
    }
    sb.append(' ').append(xs);
    if (a.isSymlink()) {
      sb.append(" -> ").append(b.readlink(path));
    } else if (a.isRegular()) {
      sb.append(" data=").append(java.util.Arrays.hashCode(b.read(path)));
    }
    sb.append('\n');
    if (a.isDirectory()) {
      for (String c : b.list(path)) {
        dump(b, path.equals("/") ? "/" + c : path + "/" + c, sb);
      }
    }
  }

  private static AgentFs open(DurableMemory store) {
    return AgentFs.builder().backstore(store).build();
  }

  private static Map<String, String> dumpAll(AgentFs fs) throws AgentFsException {
    Map<String, String> out = new TreeMap<>();
    for (Branch b : fs.branches()) {
      out.put("branch " + b.name(), dump(b));
    }
    return out;
  }

  @Test
  void restartRebuildsBranchesSnapshotsAndTrees() throws Exception {
    DurableMemory store = new DurableMemory(new ArrayList<>());
    Map<String, String> before;
    try (AgentFs fs = open(store)) {
      Branch main = fs.main();
      main.mkdirs("/src/deep/er");
      main.write("/src/a.txt", "alpha");
      main.write("/src/deep/b.bin", new byte[200_000]);
      main.symlink("../a.txt", "/src/deep/link");
      main.link("/src/a.txt", "/src/a-hard");
      main.setxattr("/src/a.txt", "user.tag", "v1".getBytes());
      main.chmod("/src/deep", 0700);
      var s1 = main.snapshot("s1");
      main.write("/src/a.txt", "alpha changed after s1");
      main.rename("/src/deep/b.bin", "/b-moved.bin");
      main.delete("/src/deep/er");
      Branch task = fs.createBranch("task", s1);
      task.write("/task-only", "t");
      task.deleteRecursively("/src/deep");
      main.snapshot("s2");
      fs.createBranch("from-s2", fs.getSnapshot("s2")).write("/x", "x");
      fs.createBranch("doomed", s1);
      fs.deleteBranch("doomed");
      before = dumpAll(fs);
    }
    try (AgentFs fs = open(store)) {
      assertEquals(before, dumpAll(fs));
      assertEquals(List.of("s1", "s2"),
          fs.snapshots().stream().map(s -> s.name()).toList());
      assertEquals("alpha", fs.createBranch("probe", fs.getSnapshot("s1")).readString("/src/a.txt"));
      // Inode numbers continue after the largest one replayed, so nothing collides.
      fs.main().write("/new-after-restart", "n");
      long ino = fs.main().stat("/new-after-restart").ino();
      assertTrue(ino > fs.main().stat("/b-moved.bin").ino());
    }
  }

  @Test
  void crashKeepsEverythingSyncedAndNothingTorn() throws Exception {
    List<List<ByteBuffer>> log = new ArrayList<>();
    DurableMemory store = new DurableMemory(log);
    String synced;
    AgentFs fs = open(store);
    Branch main = fs.main();
    main.write("/kept", "kept");
    main.mkdirs("/dir/sub");
    fs.core().syncMetadata();
    synced = dump(main);
    int syncedBatches = log.size();
    main.write("/lost-maybe", "x");
    // "kill -9": no close, no further flush; replay only what the log had at the sync.
    DurableMemory after = new DurableMemory(new ArrayList<>(log.subList(0, syncedBatches)));
    after.byId.putAll(store.byId);
    after.ids.set(store.ids.get());
    try (AgentFs again = open(after)) {
      assertEquals(synced, dump(again.main()));
      assertFalse(again.main().exists("/lost-maybe"));
    }
  }

  @Test
  void onlyContentALiveFileNeedsCountsAsLost() throws Exception {
    DurableMemory store = new DurableMemory(new ArrayList<>());
    try (AgentFs fs = open(store)) {
      fs.main().write("/f", "old");
      fs.main().write("/g", "g");
      fs.main().snapshot("s");
      fs.main().write("/f", "new"); // copy on write: the old content stays with s
      fs.deleteSnapshot("s"); // ... and is released, while older records still name it
    }
    try (AgentFs fs = open(store)) {
      assertEquals(0, fs.core().lostAtOpen(), "a replaced record's content is not lost");
      assertEquals("new", fs.main().readString("/f"));
    }
    store.byId.values().removeIf(c -> {
      try {
        return new String(read(c)).equals("g");
      } catch (AgentFsException e) {
        return false;
      }
    });
    try (AgentFs fs = open(store)) {
      assertEquals(1, fs.core().lostAtOpen());
      assertEquals("", fs.main().readString("/g"));
    }
  }

  private static byte[] read(Content c) throws AgentFsException {
    ByteBuffer b = ByteBuffer.allocate((int) c.size());
    c.read(0, b);
    return b.array();
  }

  @Test
  void deletedFilesAreReleasedOnlyAfterTheLogForgetsThem() throws Exception {
    DurableMemory store = new DurableMemory(new ArrayList<>());
    try (AgentFs fs = open(store)) {
      fs.main().write("/f", "data");
      fs.core().syncMetadata();
      int live = store.byId.size();
      fs.main().delete("/f");
      // Until the deletion is logged, the content must survive a crash-replay.
      assertEquals(live, store.byId.size());
      fs.core().syncMetadata();
      assertEquals(live - 1, store.byId.size());
    }
  }

  /**
   * A flush whose log append fails must not forget what it failed to write: the sync reports
   * the errno, and the next sync (once the log works again) writes those changes, so a restart
   * keeps them. Before the fix the dirty sets were emptied before the append, so the retry
   * "succeeded" with nothing to write and the changes were gone after a restart.
   */
  @Test
  void aFailedLogAppendIsRetriedByTheNextSync() throws Exception {
    DurableMemory store = new DurableMemory(new ArrayList<>());
    try (AgentFs fs = open(store)) {
      fs.main().write("/before", "synced before the fault");
      fs.core().syncMetadata();
      store.logFails = Errno.EIO;
      fs.main().write("/during", "written while the log fails");
      fs.main().mkdirs("/dir/sub");
      AgentFsException e = org.junit.jupiter.api.Assertions.assertThrows(
          AgentFsException.class, () -> fs.core().syncMetadata());
      assertEquals(Errno.EIO, e.errno());
      store.logFails = Errno.ENOSPC;
      e = org.junit.jupiter.api.Assertions.assertThrows(
          AgentFsException.class, () -> fs.core().syncMetadata());
      assertEquals(Errno.ENOSPC, e.errno());
      store.logFails = null;
      fs.core().syncMetadata();
    }
    try (AgentFs fs = open(store)) {
      assertEquals("synced before the fault", fs.main().readString("/before"));
      assertEquals("written while the log fails", fs.main().readString("/during"));
      assertTrue(fs.main().exists("/dir/sub"));
    }
  }
}
