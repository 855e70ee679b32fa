package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.Content;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {
  static final Set<Errno> EXPECTED = EnumSet.of(Errno.ENOENT, Errno.EEXIST, Errno.ENOTEMPTY,
      Errno.EISDIR, Errno.ENOTDIR, Errno.EINVAL);

  /** Every file's bytes are one token repeated; returns a problem or null. */
  static String selfConsistent(String path, String data) {
    if (data.isEmpty()) {
      return null;
    }
    int bar = data.indexOf('|');
    if (bar < 0) {
      return path + " has no token: " + data;
    }
    String tok = data.substring(0, bar + 1);
    if (data.length() % tok.length() != 0 || !tok.repeat(data.length() / tok.length()).equals(data)) {
      return path + " torn content " + data;
    }
    return null;
  }

  @Test
  void mixedOperationsWithConcurrentSnapshotsStayConsistent() throws Exception {
    long seed = System.nanoTime();
    int threads = 12;
    for (int round = 0; round < 3; round++) {
      runRound(seed + round, threads);
    }
  }

  void runRound(long seed, int threads) throws Exception {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    long[] dirs = new long[4];
    for (int i = 0; i < dirs.length; i++) {
      dirs[i] = mkdir(v, ROOT, Vfs.ROOT, "d" + i, 0777);
    }
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger snaps = new AtomicInteger();
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      final int id = t;
      ts.add(new Thread(() -> {
        Random r = new Random(seed * 31 + id);
        try {
          start.await();
          for (int i = 0; i < 1500; i++) {
            try {
              step(v, dirs, r, id, i);
            } catch (AgentFsException e) {
              if (!EXPECTED.contains(e.errno())) {
                throw e;
              }
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    Thread snapper = new Thread(() -> {
      try {
        start.await();
        while (!done.get()) {
          String name = "s" + snaps.getAndIncrement();
          fx.core.snapshot("main", name);
          if (snaps.get() % 3 == 0) {
            fx.core.createBranch("b" + name, name);
          }
          if (snaps.get() % 5 == 0) {
            fx.core.deleteSnapshot("s" + (snaps.get() - 3));
          }
          Thread.yield();
        }
      } catch (Throwable e) {
        failures.add(e);
      }
    });
    snapper.start();
    ts.forEach(Thread::start);
    for (Thread t : ts) {
      t.join();
    }
    done.set(true);
    snapper.join();
    if (!failures.isEmpty()) {
      AssertionError ae = new AssertionError("seed=" + seed);
      failures.forEach(ae::addSuppressed);
      throw ae;
    }
    assertEquals(List.of(), check(v.st.table), "seed=" + seed);
    verifyContents(dump(v.st.table), seed);
    for (String s : fx.core.snapshotNames()) {
      LongTrie<Inode> t = fx.core.tableOf(s);
      assertEquals(List.of(), check(t), "seed=" + seed + " snapshot " + s);
      verifyContents(dump(t), seed);
    }
    assertTrue(snaps.get() > 0);
    // every name resolves through the public API too
    var br = fx.fs.main();
    for (int i = 0; i < dirs.length; i++) {
      for (String n : br.list("/d" + i)) {
        br.lstat("/d" + i + "/" + n);
      }
    }
  }

  static void verifyContents(Map<String, String> dump, long seed) {
    for (Map.Entry<String, String> e : dump.entrySet()) {
      String desc = e.getValue();
      assertFalse(desc.startsWith("MISSING"), "seed=" + seed + " " + e);
      int i = desc.indexOf(" data=");
      if (i >= 0) {
        String data = desc.substring(i + 6);
        int x = data.indexOf(" x:");
        if (x >= 0) {
          data = data.substring(0, x);
        }
        String p = selfConsistent(e.getKey(), data);
        assertEquals(null, p, "seed=" + seed);
        int s = desc.indexOf(" size=");
        long size = Long.parseLong(desc.substring(s + 6, desc.indexOf(' ', s + 6)));
        assertEquals(data.length(), size, "seed=" + seed + " " + e.getKey());
      }
    }
  }

  static void step(BranchFs v, long[] dirs, Random r, int id, int i) throws AgentFsException {
    long d1 = dirs[r.nextInt(dirs.length)];
    long d2 = dirs[r.nextInt(dirs.length)];
    String n1 = "f" + r.nextInt(12);
    String n2 = "f" + r.nextInt(12);
    switch (r.nextInt(10)) {
      case 0, 1 -> {
        Created c = v.create(ROOT, d1, b(n1), 0644, O_CREAT | O_EXCL | O_WRONLY, 0);
        String tok = "t" + id + "-" + i + "|";
        v.write(ROOT, c.attr().ino(), c.fh(), 0, ByteBuffer.wrap(b(tok.repeat(1 + r.nextInt(50)))));
        v.release(c.attr().ino(), c.fh());
        v.forget(c.attr().ino(), 1);
      }
      case 2, 3 -> v.rename(ROOT, d1, b(n1), d2, b(n2), r.nextInt(4) == 0 ? RENAME_NOREPLACE : 0);
      case 4 -> v.rename(ROOT, d1, b(n1), d2, b(n2), RENAME_EXCHANGE);
      case 5 -> v.unlink(ROOT, d1, b(n1));
      case 6 -> {
        long ino = v.lookupNoRef(ROOT, d1, b(n1));
        v.link(ROOT, ino, d2, b(n2));
        v.forget(ino, 1);
      }
      case 7 -> {
        long s = v.mkdir(ROOT, d1, b("s" + r.nextInt(4)), 0777, 0).ino();
        v.forget(s, 1);
      }
      case 8 -> v.rmdir(ROOT, d1, b("s" + r.nextInt(4)));
      default -> {
        // rewrite an existing file with a fresh token through O_TRUNC
        long ino = v.lookupNoRef(ROOT, d1, b(n1));
        long fh = v.open(ROOT, ino, O_WRONLY);
        try {
          v.setattr(ROOT, ino, fh, dev.agentfs.vfs.SetAttr.size(0));
        } finally {
          v.release(ino, fh);
        }
      }
    }
  }

  @Test
  void concurrentDirectoryRenamesNeverMakeCyclesOrLoseDirectories() throws Exception {
    long seed = System.nanoTime();
    Fx fx = new Fx();
    BranchFs v = fx.main();
    // a pool of directories known by inode; threads move them under each other
    int n = 12;
    long[] dirs = new long[n];
    for (int i = 0; i < n; i++) {
      dirs[i] = mkdir(v, ROOT, Vfs.ROOT, "x" + i, 0777);
    }
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      final int id = t;
      ts.add(new Thread(() -> {
        Random r = new Random(seed * 17 + id);
        try {
          start.await();
          for (int i = 0; i < 3000; i++) {
            long from = r.nextInt(4) == 0 ? Vfs.ROOT : dirs[r.nextInt(n)];
            long to = r.nextInt(4) == 0 ? Vfs.ROOT : dirs[r.nextInt(n)];
            String a = "x" + r.nextInt(n);
            String b = r.nextBoolean() ? a : "y" + r.nextInt(3);
            try {
              switch (r.nextInt(6)) {
                case 0 -> v.rmdir(ROOT, from, b("y" + r.nextInt(3)));
                case 1 -> v.forget(v.mkdir(ROOT, to, b("y" + r.nextInt(3)), 0777, 0).ino(), 1);
                case 2 -> v.rename(ROOT, from, b(a), to, b(b), RENAME_EXCHANGE);
                default -> v.rename(ROOT, from, b(a), to, b(b), 0);
              }
            } catch (AgentFsException e) {
              if (!EXPECTED.contains(e.errno())) {
                throw e;
              }
            }
            if (i % 500 == 0 && id == 0) {
              fx.core.snapshot("main", "s" + i);
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    ts.forEach(Thread::start);
    for (Thread t : ts) {
      t.join();
    }
    if (!failures.isEmpty()) {
      AssertionError ae = new AssertionError("seed=" + seed);
      failures.forEach(ae::addSuppressed);
      throw ae;
    }
    assertEquals(List.of(), check(v.st.table), "seed=" + seed);
    for (String s : fx.core.snapshotNames()) {
      assertEquals(List.of(), check(fx.core.tableOf(s)), "seed=" + seed + " " + s);
    }
    // (x directories may be gone: renaming onto an empty directory replaces it)
  }

  @Test
  void snapshotsTakenDuringWritesNeverChangeAfterwards() throws Exception {
    long seed = System.nanoTime();
    Fx fx = new Fx(MemoryBackstore.builder().chunkSize(512).build());
    BranchFs v = fx.main();
    int files = 4;
    long[] ino = new long[files];
    for (int i = 0; i < files; i++) {
      ino[i] = Fx.file(v, ROOT, Vfs.ROOT, "f" + i, 0644, "");
    }
    AtomicBoolean done = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      final int id = t;
      ts.add(new Thread(() -> {
        Random r = new Random(seed + id);
        try {
          for (int i = 0; i < 1500; i++) {
            int k = r.nextInt(files);
            long fh = v.open(ROOT, ino[k], O_RDWR);
            try {
              switch (r.nextInt(4)) {
                case 0 -> v.setattr(ROOT, ino[k], fh, dev.agentfs.vfs.SetAttr.size(r.nextInt(3000)));
                case 1 -> v.fallocate(ROOT, ino[k], fh,
                    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r.nextInt(3000), 1 + r.nextInt(900));
                default -> {
                  byte[] d = new byte[1 + r.nextInt(1500)];
                  java.util.Arrays.fill(d, (byte) ('a' + r.nextInt(26)));
                  v.write(ROOT, ino[k], fh, r.nextInt(3000), ByteBuffer.wrap(d));
                }
              }
            } finally {
              v.release(ino[k], fh);
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    Map<String, Map<String, String>> taken = new java.util.LinkedHashMap<>();
    Thread snapper = new Thread(() -> {
      try {
        int n = 0;
        while (!done.get()) {
          String name = "s" + n++;
          fx.core.snapshot("main", name);
          taken.put(name, dump(fx.core.tableOf(name)));
        }
      } catch (Throwable e) {
        failures.add(e);
      }
    });
    snapper.start();
    ts.forEach(Thread::start);
    for (Thread t : ts) {
      t.join();
    }
    done.set(true);
    snapper.join();
    if (!failures.isEmpty()) {
      AssertionError ae = new AssertionError("seed=" + seed);
      failures.forEach(ae::addSuppressed);
      throw ae;
    }
    assertTrue(taken.size() > 1);
    for (Map.Entry<String, Map<String, String>> e : taken.entrySet()) {
      assertEquals(e.getValue(), dump(fx.core.tableOf(e.getKey())),
          "seed=" + seed + " snapshot " + e.getKey() + " changed after it was taken");
    }
    // deleting all snapshots leaves exactly main's storage
    for (String s : fx.core.snapshotNames()) {
      fx.core.deleteSnapshot(s);
    }
    long want = 0;
    for (long i : ino) {
      want += v.node(i).content == null ? 0 : v.node(i).content.allocatedBytes();
    }
    assertEquals(want, fx.store.usedBytes(), "seed=" + seed);
  }

  // ------------------------------------------------------------- parallel writes

  /** Delegates to a memory backstore; writes to contents marked blocking wait on a latch. */
  static final class GateStore implements Backstore {
    final MemoryBackstore mem = MemoryBackstore.builder().build();
    volatile boolean armed;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch open = new CountDownLatch(1);

    @Override
    public String name() {
      return "gate";
    }

    @Override
    public Set<BackstoreFeature> features() {
      return mem.features();
    }

    @Override
    public Content newContent() throws AgentFsException {
      return new Gate(mem.newContent());
    }

    @Override
    public long capacityBytes() {
      return mem.capacityBytes();
    }

    @Override
    public long usedBytes() {
      return mem.usedBytes();
    }

    @Override
    public void close() {
      mem.close();
    }

    final class Gate implements Content {
      final Content d;
      volatile boolean blocking;

      Gate(Content d) {
        this.d = d;
      }

      public long size() {
        return d.size();
      }

      public long allocatedBytes() {
        return d.allocatedBytes();
      }

      public int read(long p, ByteBuffer dst) throws AgentFsException {
        return d.read(p, dst);
      }

      public void write(long p, ByteBuffer src) throws AgentFsException {
        if (blocking && armed) {
          entered.countDown();
          try {
            if (!open.await(30, TimeUnit.SECONDS)) {
              throw new AgentFsException(Errno.EIO, null);
            }
          } catch (InterruptedException e) {
            throw new AgentFsException(Errno.EINTR, null);
          }
        }
        d.write(p, src);
      }

      public void truncate(long s) throws AgentFsException {
        d.truncate(s);
      }

      public void allocate(long o, long l, boolean k) throws AgentFsException {
        d.allocate(o, l, k);
      }

      public void punchHole(long o, long l) throws AgentFsException {
        d.punchHole(o, l);
      }

      public long seekData(long o) throws AgentFsException {
        return d.seekData(o);
      }

      public long seekHole(long o) throws AgentFsException {
        return d.seekHole(o);
      }

      public Content copy() throws AgentFsException {
        return new Gate(d.copy());
      }

      public void sync(boolean x) throws AgentFsException {
        d.sync(x);
      }

      public void release() {
        d.release();
      }
    }
  }

  @Test
  void writeToOneFileDoesNotBlockWritesToAnother() throws Exception {
    GateStore store = new GateStore();
    AgentFs fs = AgentFs.builder().backstore(store).build();
    BranchFs v = fs.core().branch("main");
    long a = Fx.file(v, ROOT, Vfs.ROOT, "a", 0644, "a");
    long bb = Fx.file(v, ROOT, Vfs.ROOT, "b", 0644, "b");
    ((GateStore.Gate) v.node(a).content).blocking = true;
    store.armed = true;
    long fa = v.open(ROOT, a, O_WRONLY);
    long fb = v.open(ROOT, bb, O_RDWR);
    ExecutorService ex = Executors.newFixedThreadPool(2);
    try {
      Future<Integer> blocked = ex.submit(() -> v.write(ROOT, a, fa, 0, ByteBuffer.wrap(b("AAAA"))));
      assertTrue(store.entered.await(30, TimeUnit.SECONDS));
      AtomicInteger stage = new AtomicInteger();
      Future<Integer> other = ex.submit(() -> {
        int n = v.write(ROOT, bb, fb, 0, ByteBuffer.wrap(b("BBBB")));
        stage.set(1);
        Fx.file(v, ROOT, Vfs.ROOT, "c", 0644, "c");
        stage.set(2);
        // stat of the file being written must not wait for the write either
        v.getattr(ROOT, a, 0);
        stage.set(3);
        v.lookup(ROOT, Vfs.ROOT, b("a"));
        stage.set(4);
        return n;
      });
      try {
        assertEquals(4, other.get(20, TimeUnit.SECONDS));
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("blocked behind the write to a after stage " + stage.get());
      }
      assertFalse(blocked.isDone());
      store.open.countDown();
      assertEquals(4, blocked.get(20, TimeUnit.SECONDS));
      assertEquals("AAAA", readIno(v, a));
      assertEquals("BBBB", readIno(v, bb));
    } finally {
      store.open.countDown();
      ex.shutdownNow();
      v.release(a, fa);
      v.release(bb, fb);
    }
  }
}
