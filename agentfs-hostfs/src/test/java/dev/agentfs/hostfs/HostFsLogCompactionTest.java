package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The metadata log of a running AgentFs on HostFs compacts itself once it has grown past its
 * threshold, at open and while running, and a SIGKILL at any step of a compaction loses nothing
 * that was synced. The kill lands exactly at a step: the child stops there through {@link
 * FileMetadataLog}'s stage hook and the test kills it. (SIGKILL keeps the page cache, so this
 * checks the write-new/rename protocol and recovery, not that the fsyncs reach the disk.)
 */
class HostFsLogCompactionTest {
  @TempDir Path dir;

  @Test
  void theLogShrinksByItselfWhileRunning() throws Exception {
    Path store = dir.resolve("s");
    Path logFile = store.resolve(HostFsBackstore.LOG_FILE);
    AtomicInteger compactions = new AtomicInteger();
    AtomicReference<CountDownLatch> next = new AtomicReference<>(new CountDownLatch(1));
    FileMetadataLog.compactionStage = s -> {
      if (s.equals("done")) {
        compactions.incrementAndGet();
        next.get().countDown();
      }
    };
    long appended = 0;
    HostFsBackstore hs = HostFsBackstore.builder().compactLogAbove(16 << 10).open(store);
    try (AgentFs fs = AgentFs.builder().backstore(hs).build()) {
      Branch main = fs.main();
      for (int i = 0; i < 1000; i++) {
        long before = hs.metadataLog().sizeBytes();
        main.write("/f" + i % 3, "v" + i);
        fs.core().syncMetadata();
        appended += Math.max(0, hs.metadataLog().sizeBytes() - before);
      }
      // The background flusher compacts within seconds of the log asking for it.
      next.set(new CountDownLatch(1));
      if (hs.metadataLog().wantsCompaction()) {
        assertTrue(next.get().await(30, TimeUnit.SECONDS), "no compaction within 30 s");
      }
      assertFalse(hs.metadataLog().wantsCompaction());
      long compacted = hs.metadataLog().compactedBytes();
      long onDisk = Files.size(logFile);
      assertTrue(compactions.get() > 0 && compacted > 0, "never compacted");
      assertTrue(compacted < 4096, "three small files compact to " + compacted + " bytes");
      assertTrue(onDisk <= 16 << 10, "on disk " + onDisk);
      assertTrue(appended > 5 * onDisk, "appended " + appended + ", on disk " + onDisk);
      System.out.printf("log: %d bytes appended, %d compactions, %d on disk, %d after the last%n",
          appended, compactions.get(), onDisk, compacted);
      for (int k = 0; k < 3; k++) {
        assertEquals("v" + (999 - (999 - k) % 3), main.readString("/f" + k));
      }
    } finally {
      FileMetadataLog.compactionStage = null;
    }
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build()) {
      for (int k = 0; k < 3; k++) {
        assertEquals("v" + (999 - (999 - k) % 3), fs.main().readString("/f" + k));
      }
    }
  }

  @Test
  void anOversizedLogIsCompactedAtOpen() throws Exception {
    Path store = dir.resolve("s");
    Path logFile = store.resolve(HostFsBackstore.LOG_FILE);
    HostFsBackstore never = HostFsBackstore.builder().compactLogAbove(Long.MAX_VALUE).open(store);
    try (AgentFs fs = AgentFs.builder().backstore(never).build()) {
      for (int i = 0; i < 120; i++) {
        ChildMain.compactionStep(fs, i);
        fs.core().syncMetadata();
      }
    }
    long before = Files.size(logFile);
    HostFsBackstore small = HostFsBackstore.builder().compactLogAbove(16 << 10).open(store);
    try (AgentFs fs = AgentFs.builder().backstore(small).build()) {
      long after = Files.size(logFile);
      assertTrue(after * 4 < before, "before " + before + ", after " + after);
      System.out.printf("log compacted at open: %d -> %d bytes%n", before, after);
      checkSteps(fs, 119, false);
    }
  }

  /** Killed at a step of the second compaction (after step 79); every synced step survives. */
  @ParameterizedTest
  @ValueSource(strings = {"written", "synced", "renamed", "done"})
  void sigkillAtAnyStepOfACompactionLosesNothing(String stage) throws Exception {
    Path store = dir.resolve("s");
    int last = runAndKill(store, stage, -1);
    assertEquals(2 * ChildMain.COMPACT_EVERY - 1, last, "the kill came after this step");
    boolean midway = stage.equals("written") || stage.equals("synced");
    assertEquals(midway, Files.exists(store.resolve(HostFsBackstore.LOG_FILE + ".new")),
        "a half-made new log is there exactly when the kill came before the rename");
    reopenAndCheck(store, last);
  }

  /** Killed after N synced steps, with compactions every 40 steps around those points. */
  @ParameterizedTest
  @ValueSource(ints = {41, 81})
  void sigkillAfterNStepsAroundCompactionsLosesNothing(int n) throws Exception {
    Path store = dir.resolve("s");
    assertEquals(n, runAndKill(store, "none", n));
    reopenAndCheck(store, n);
  }

  // ---------------------------------------------------------------- helpers

  /** Runs the child until it reports {@code stage} (or step {@code n}), kills it; last step. */
  private static int runAndKill(Path store, String stage, int n) throws Exception {
    Process child = Children.start("compact", store, stage);
    int last = -1;
    try {
      BufferedReader out = Children.lines(child);
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("synced ")) {
          last = Integer.parseInt(line.substring(7));
          if (last == n) {
            break;
          }
        } else if (line.equals("stage " + stage)) {
          break;
        } else {
          throw new AssertionError("unexpected line from the child: " + line);
        }
      }
      assertTrue(line != null, "the child stopped early, after step " + last);
      child.destroyForcibly();
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    } finally {
      child.destroyForcibly();
    }
    return last;
  }

  private static void reopenAndCheck(Path store, int last) throws Exception {
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build()) {
      checkSteps(fs, last, true);
      fs.main().write("/after", "a");
      fs.core().syncMetadata();
    }
    assertFalse(Files.exists(store.resolve(HostFsBackstore.LOG_FILE + ".new")));
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build()) {
      checkSteps(fs, last, true);
      assertEquals("a", fs.main().readString("/after"));
    }
  }

  /**
   * The state after {@link ChildMain#compactionStep} 0..{@code last}, with step last+1 maybe
   * partly there when {@code inFlight}: the kill may have landed inside it, after the
   * background flusher made some of it durable.
   */
  private static void checkSteps(AgentFs fs, int last, boolean inFlight) throws Exception {
    Branch main = fs.main();
    for (int j = 0; j <= last; j++) {
      String f = "/f" + j;
      if (j + 5 <= last) {
        assertFalse(main.exists(f), f + " was deleted in a synced step");
      } else if (inFlight && j + 5 == last + 1 && !main.exists(f)) {
        continue; // deleted by the step the kill interrupted, and flushed in the background
      } else {
        assertArrayEquals(ChildMain.data(j), main.read(f), f);
      }
    }
    // The interrupted step rewrites /counter in place (truncate, then write), as O_TRUNC does
    // on any filesystem: killed in between, the file is empty.
    String counter = main.readString("/counter");
    assertTrue(counter.equals(Integer.toString(last)) || inFlight
        && (counter.equals(Integer.toString(last + 1)) || counter.isEmpty()), "counter " + counter);
    for (int j = 0; j <= last; j += ChildMain.SNAPSHOT_EVERY) {
      boolean deleted = j + 2 * ChildMain.SNAPSHOT_EVERY <= last;
      String name = "s" + j;
      boolean present = fs.snapshots().stream().anyMatch(s -> s.name().equals(name));
      if (!(inFlight && !present && j + 2 * ChildMain.SNAPSHOT_EVERY == last + 1)) {
        assertEquals(!deleted, present, "snapshot s" + j);
      }
      if (present) {
        Branch view = fs.snapshotView("s" + j);
        assertEquals(Integer.toString(j), view.readString("/counter"), "s" + j);
        assertArrayEquals(ChildMain.data(j), view.read("/f" + j), "s" + j);
      }
    }
    List<String> names = main.list("/");
    assertTrue(names.size() <= 5 + 2 + 1, "stray entries: " + names);
  }
}
