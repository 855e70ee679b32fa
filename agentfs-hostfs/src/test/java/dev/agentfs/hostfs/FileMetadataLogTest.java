package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileMetadataLogTest {
  @TempDir Path dir;

  private static List<ByteBuffer> batch(String... records) {
    List<ByteBuffer> b = new ArrayList<>();
    for (String r : records) {
      b.add(ByteBuffer.wrap(r.getBytes(StandardCharsets.UTF_8)));
    }
    return b;
  }

  private static List<List<String>> replay(FileMetadataLog log) throws AgentFsException {
    List<List<String>> out = new ArrayList<>();
    log.replay(
        b -> {
          List<String> rs = new ArrayList<>();
          for (ByteBuffer r : b) {
            byte[] bytes = new byte[r.remaining()];
            r.get(bytes);
            rs.add(new String(bytes, StandardCharsets.UTF_8));
          }
          out.add(rs);
        });
    return out;
  }

  private static List<List<String>> expected(int n) {
    List<List<String>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(records(i));
    }
    return out;
  }

  private static List<String> records(int i) {
    List<String> rs = new ArrayList<>();
    for (int j = 0; j <= i % 4; j++) {
      rs.add(j == 1 ? "" : "batch " + i + " record " + j + "-".repeat(i * 13 % 50));
    }
    return rs;
  }

  /** Writes {@code n} batches and returns the offset of each frame plus the end. */
  private long[] writeLog(Path p, int n) throws AgentFsException {
    long[] offsets = new long[n + 1];
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      for (int i = 0; i < n; i++) {
        offsets[i] = log.sizeBytes();
        log.append(batch(records(i).toArray(new String[0])), i % 2 == 0);
      }
      offsets[n] = log.sizeBytes();
    }
    return offsets;
  }

  @Test
  void appendReplayAndReopen() throws Exception {
    Path p = dir.resolve("meta.log");
    writeLog(p, 5);
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      assertEquals(expected(5), replay(log));
      log.append(batch(records(5).toArray(new String[0])), true);
      log.append(List.of(), false); // an empty batch is a batch too
    }
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      List<List<String>> want = expected(6);
      want.add(List.of());
      assertEquals(want, replay(log));
      assertEquals(Files.size(p), log.sizeBytes());
    }
  }

  @Test
  void replayDoesNotConsumeTheCallersBuffers() throws Exception {
    try (FileMetadataLog log = FileMetadataLog.open(dir.resolve("meta.log"))) {
      ByteBuffer r = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}).position(1);
      log.append(List.of(r), true);
      assertEquals(1, r.position());
      List<byte[]> got = new ArrayList<>();
      log.replay(
          b -> {
            byte[] x = new byte[b.get(0).remaining()];
            b.get(0).get(x);
            got.add(x);
          });
      assertEquals(1, got.size());
      assertTrue(Arrays.equals(new byte[] {2, 3, 4, 5}, got.get(0)));
    }
  }

  @Test
  void tornTailAtEveryOffsetOfTheLastFrame() throws Exception {
    Path full = dir.resolve("full.log");
    long[] off = writeLog(full, 6);
    byte[] bytes = Files.readAllBytes(full);
    long lastStart = off[5];
    for (long cut = lastStart; cut <= bytes.length; cut++) {
      Path p = dir.resolve("cut-" + cut + ".log");
      Files.write(p, Arrays.copyOf(bytes, (int) cut));
      int complete = cut == bytes.length ? 6 : 5;
      try (FileMetadataLog log = FileMetadataLog.open(p)) {
        assertEquals(expected(complete), replay(log), "cut at " + cut);
        long good = complete == 6 ? bytes.length : lastStart;
        assertEquals(good, log.sizeBytes(), "tail after cut at " + cut);
        assertEquals(good, Files.size(p), "file truncated to the last good batch");
        // The next append follows the last good batch.
        log.append(batch("after"), true);
      }
      try (FileMetadataLog log = FileMetadataLog.open(p)) {
        List<List<String>> want = expected(complete);
        want.add(List.of("after"));
        assertEquals(want, replay(log), "after appending past a cut at " + cut);
      }
      Files.delete(p);
    }
  }

  @Test
  void corruptCrcInTheMiddleStopsReplayThere() throws Exception {
    Path p = dir.resolve("meta.log");
    long[] off = writeLog(p, 6);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      long at = off[3] + FileMetadataLog.FRAME_HEADER_BYTES + 6; // a payload byte of batch 3
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x40);
    }
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      assertEquals(expected(3), replay(log));
      assertEquals(off[3], Files.size(p));
      log.append(batch("next"), true);
    }
    Path kept = dir.resolve("meta.log.discarded-" + off[3]);
    assertTrue(Files.exists(kept), "damaged bytes kept for inspection");
    assertEquals(off[6] - off[3], Files.size(kept));
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      List<List<String>> want = expected(3);
      want.add(List.of("next"));
      assertEquals(want, replay(log));
    }
  }

  @Test
  void garbageThatIsNotALogIsRefused() throws Exception {
    Path p = dir.resolve("meta.log");
    Files.writeString(p, "this is somebody's file, not a metadata log");
    AgentFsException e = assertThrows(AgentFsException.class, () -> FileMetadataLog.open(p));
    assertEquals(Errno.EIO, e.errno());
    assertEquals(p.toAbsolutePath().toString(), e.path());
    assertTrue(Files.size(p) > 16, "the file was left alone");
  }

  @Test
  void concurrentAppendersPreserveWholeBatches() throws Exception {
    Path p = dir.resolve("meta.log");
    int threads = 4;
    int perThread = 400;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        fs.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    String tag = id + ":" + i;
                    log.append(batch(tag + "/a", tag + "/b".repeat(i % 7), tag + "/c"), i % 50 == 0);
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get(2, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      List<List<String>> got = replay(log);
      assertEquals(threads * perThread, got.size());
      int[] next = new int[threads];
      for (List<String> b : got) {
        assertEquals(3, b.size(), "batch " + b);
        String tag = b.get(0).substring(0, b.get(0).length() - 2);
        int t = Integer.parseInt(tag.substring(0, tag.indexOf(':')));
        int i = Integer.parseInt(tag.substring(tag.indexOf(':') + 1));
        assertEquals(next[t]++, i, "per-thread order of " + tag);
        assertEquals(List.of(tag + "/a", tag + "/b".repeat(i % 7), tag + "/c"), b);
      }
    }
  }

  @Test
  void rewriteReplacesTheLogAtomically() throws Exception {
    Path p = dir.resolve("meta.log");
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      for (int i = 0; i < 100; i++) {
        log.append(batch("old " + i), false);
      }
      long before = log.sizeBytes();
      log.rewrite(List.of(batch("compacted", "state"), batch("second")));
      assertTrue(log.sizeBytes() < before);
      assertEquals(List.of(List.of("compacted", "state"), List.of("second")), replay(log));
      log.append(batch("after"), true);
    }
    assertTrue(!Files.exists(dir.resolve("meta.log.new")));
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      assertEquals(
          List.of(List.of("compacted", "state"), List.of("second"), List.of("after")),
          replay(log));
    }
  }

  @Test
  void compactionCanReadTheOldLogAndIsAskedForAgainOnlyAfterGrowth() throws Exception {
    Path p = dir.resolve("meta.log");
    try (FileMetadataLog log = FileMetadataLog.open(p, 4096)) {
      while (!log.wantsCompaction()) {
        log.append(batch("filler record"), false);
      }
      assertTrue(log.sizeBytes() > 4096);
      // The compaction reads the old log (as the core's does) and keeps every 10th batch.
      log.compact(out -> {
        int[] n = {0};
        log.replay(b -> {
          if (n[0]++ % 10 == 0) {
            out.accept(b);
          }
        });
      });
      long compacted = log.sizeBytes();
      assertEquals(compacted, log.compactedBytes());
      assertFalse(log.wantsCompaction());
      while (log.sizeBytes() <= 4096 || log.sizeBytes() <= FileMetadataLog.GROWTH * compacted) {
        assertFalse(log.wantsCompaction(), "at " + log.sizeBytes());
        log.append(batch("filler record"), false);
      }
      assertTrue(log.wantsCompaction());
    }
    try (FileMetadataLog log = FileMetadataLog.open(p, 4096)) {
      // The header remembers the compacted size (rounded up to KiB) across restarts.
      assertTrue(log.compactedBytes() > 0 && log.compactedBytes() % 1024 == 0);
      assertTrue(log.compactedBytes() < 4 * 1024 + 1024, "" + log.compactedBytes());
    }
  }

  @Test
  void replaysRunningDuringCompactionsReadOneWholeLog() throws Exception {
    try (FileMetadataLog log = FileMetadataLog.open(dir.resolve("meta.log"))) {
      for (int i = 0; i < 200; i++) {
        log.append(batch("old " + i), false);
      }
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Future<Integer> reader = pool.submit(() -> {
          int n = 0;
          while (!stop.get()) {
            List<List<String>> got = replay(log);
            // The old log (200 batches, maybe with appends) or one of the compacted ones.
            assertTrue(got.size() >= 200 || got.size() == 1 && got.get(0).get(0).startsWith("v"),
                "replayed " + got.size() + " batches");
            n++;
          }
          return n;
        });
        for (int v = 0; v < 50; v++) {
          String tag = "v" + v;
          log.compact(out -> out.accept(batch(tag)));
        }
        stop.set(true);
        assertTrue(reader.get(60, TimeUnit.SECONDS) > 0);
      } finally {
        pool.shutdownNow();
      }
      assertEquals(List.of(List.of("v49")), replay(log));
    }
  }

  @Test
  void aFailedCompactionKeepsTheOldLogUsable() throws Exception {
    Path p = dir.resolve("meta.log");
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      for (int i = 0; i < 10; i++) {
        log.append(batch(records(i).toArray(new String[0])), false);
      }
      AgentFsException e = assertThrows(AgentFsException.class, () -> log.compact(out -> {
        out.accept(batch("half"));
        throw new AgentFsException(Errno.EIO, "compaction", null, "injected");
      }));
      assertEquals("injected", e.getMessage().replaceAll(".*\\((.*)\\)", "$1"));
      assertFalse(Files.exists(dir.resolve("meta.log.new")));
      log.append(batch(records(10).toArray(new String[0])), true);
      assertEquals(expected(11), replay(log));
    }
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      assertEquals(expected(11), replay(log));
      assertEquals(0, log.compactedBytes());
    }
  }

  @Test
  void aStaleNewFileFromACrashedRewriteIsIgnored() throws Exception {
    Path p = dir.resolve("meta.log");
    writeLog(p, 3);
    Files.write(dir.resolve("meta.log.new"), new byte[] {1, 2, 3});
    try (FileMetadataLog log = FileMetadataLog.open(p)) {
      assertEquals(expected(3), replay(log));
    }
    assertTrue(!Files.exists(dir.resolve("meta.log.new")));
  }

  @Test
  void closedLogRefusesAppends() throws Exception {
    FileMetadataLog log = FileMetadataLog.open(dir.resolve("meta.log"));
    log.close();
    log.close();
    AgentFsException e = assertThrows(AgentFsException.class, () -> log.append(batch("x"), false));
    assertEquals(Errno.EIO, e.errno());
  }
}
