package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Automatic checkpoints on a fake clock: names, skipping unchanged branches, pruning by
 * keep-last and keep-hourly with the storage reclaimed, bases kept, exec checkpoints, and the
 * timer wiring (the scheduled task is captured and run by hand: nothing sleeps).
 */
class CheckpointerTest {
  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  private static AgentFs fs(CheckpointPolicy p) {
    return AgentFs.builder().checkpoints(p).build();
  }

  private static List<String> names(Checkpointer c, String branch) {
    List<String> out = new ArrayList<>();
    c.list(branch).forEach(k -> out.add(k.name()));
    return out;
  }

  @Test
  void namesAreRecognisableAndUnchangedBranchesGetNoNewOne() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly().withKeepLast(5))) {
      Checkpointer c = fs.checkpoints();
      fs.main().write("/f", "1");
      Checkpointer.Result r = c.checkpoint("main", T0);
      assertEquals("auto-main-20260301T120000Z", r.checkpoint());
      assertTrue(r.created());
      Checkpointer.Result again = c.checkpoint("main", T0.plusSeconds(60));
      assertFalse(again.created(), "nothing changed: no new checkpoint");
      assertEquals("auto-main-20260301T120000Z", again.checkpoint());
      fs.main().write("/f", "2");
      assertEquals("auto-main-20260301T120000Z-2", c.checkpoint("main", T0).checkpoint(),
          "the same second again gets a suffix");
      fs.main().write("/f", "3");
      c.checkpoint("main", T0.plusSeconds(1));
      assertEquals(List.of("auto-main-20260301T120001Z", "auto-main-20260301T120000Z-2",
          "auto-main-20260301T120000Z"), names(c, "main"), "newest first");
      assertEquals("2", fs.snapshotView("auto-main-20260301T120000Z-2").readString("/f"));
      assertEquals("main", fs.getSnapshot("auto-main-20260301T120000Z").branch());
      assertEquals(Errno.ENOENT, assertThrows(AgentFsException.class,
          () -> c.checkpoint("nope", T0)).errno());
    }
  }

  @Test
  void aPrunedNameIsNeverReusedOutOfOrder() throws Exception {
    // Four checkpoints in one second with keep-last 2: pruning frees the bare name, and a
    // new checkpoint must still sort as the newest (it once took the freed name and was
    // pruned at once as the oldest).
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly().withKeepLast(2))) {
      Checkpointer c = fs.checkpoints();
      for (int i = 1; i <= 4; i++) {
        fs.main().write("/f", "v" + i);
        assertTrue(c.checkpoint("main", T0.plusMillis(100 * i)).created());
      }
      assertEquals(List.of("auto-main-20260301T120000Z-4", "auto-main-20260301T120000Z-3"),
          names(c, "main"));
      assertEquals("v4", fs.snapshotView(names(c, "main").get(0)).readString("/f"));
      fs.main().write("/f", "v5");
      assertEquals("auto-main-20260301T120000Z-5",
          c.checkpoint("main", T0.minusSeconds(3600)).checkpoint(), "a clock set back");
      assertEquals("v5", fs.snapshotView(names(c, "main").get(0)).readString("/f"));
    }
  }

  @Test
  void otherSnapshotsAreNotCheckpoints() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly().withKeepLast(1))) {
      Branch ab = fs.createBranch("a-b", fs.main());
      fs.createBranch("a", fs.main());
      ab.write("/x", "x");
      fs.checkpoints().checkpoint("a-b", T0);
      fs.main().snapshot("auto-main-by-hand");
      fs.main().snapshot("auto-main-20200101T000000Z-x");
      fs.branch("a").write("/y", "y");
      fs.checkpoints().checkpoint("a", T0.plusSeconds(5));
      fs.branch("a").write("/y", "z");
      fs.checkpoints().checkpoint("a", T0.plusSeconds(10));
      assertEquals(List.of("auto-a-20260301T120010Z"), names(fs.checkpoints(), "a"),
          "auto-a-b-... belongs to branch a-b, and pruning a left it alone");
      assertEquals(List.of("auto-a-b-20260301T120000Z"), names(fs.checkpoints(), "a-b"));
      assertTrue(fs.core().snapshotNames().containsAll(
          List.of("auto-main-by-hand", "auto-main-20200101T000000Z-x")));
    }
  }

  @Test
  void keepLastOverFiftyRunsBoundsTheStore() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly().withKeepLast(3))) {
      Checkpointer c = fs.checkpoints();
      byte[] data = new byte[256 * 1024];
      long most = 0;
      for (int run = 0; run < 50; run++) {
        java.util.Arrays.fill(data, (byte) run);
        fs.main().write("/big", data);
        fs.main().write("/run-" + run, "r" + run);
        Checkpointer.Result r = c.checkpoint("main", T0.plusSeconds(60L * run));
        assertTrue(r.created());
        assertEquals(run < 3 ? 0 : 1, r.pruned().size(), "run " + run + ": " + r.pruned());
        most = Math.max(most, fs.backstore().usedBytes());
      }
      assertEquals(3, c.list("main").size());
      assertEquals(List.of("auto-main-20260301T124900Z", "auto-main-20260301T124800Z",
          "auto-main-20260301T124700Z"), names(c, "main"));
      // Three checkpoints and the branch share at most 3 distinct versions of /big.
      assertTrue(most <= 4L * data.length + 64 * 1024,
          "store grew to " + most + " bytes");
      assertTrue(fs.backstore().usedBytes() <= 3L * data.length + 64 * 1024,
          fs.backstore().usedBytes() + " bytes in use");
      Branch oldest = fs.snapshotView("auto-main-20260301T124700Z");
      assertEquals(47, oldest.read("/big")[0]);
      assertTrue(oldest.exists("/run-47") && !oldest.exists("/run-48"));
    }
  }

  @Test
  void keepHourlyKeepsOnePerHourAcrossTicks() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.every(Duration.ofMinutes(20)).withKeepLast(2)
        .withKeepHourly(3))) {
      Checkpointer c = fs.checkpoints();
      fs.checkpoints().close(); // the real timer: not wanted here
      // A change and a tick every 20 minutes for 4 hours: 10:00 .. 13:40.
      Instant start = Instant.parse("2026-03-01T10:00:00Z");
      for (int i = 0; i < 12; i++) {
        fs.main().write("/f", "v" + i);
        assertEquals(1, c.tick(start.plus(Duration.ofMinutes(20L * i))).size());
      }
      assertEquals(List.of("auto-main-20260301T134000Z", "auto-main-20260301T132000Z",
          "auto-main-20260301T124000Z", "auto-main-20260301T114000Z"), names(c, "main"),
          "last 2, plus the newest of hours 13, 12 and 11");
      assertEquals(List.of(), c.tick(start.plus(Duration.ofHours(5))), "no change: none");
    }
  }

  @Test
  void tickCheckpointsEveryChangedBranchAndKeepsBases() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly().withKeepLast(1))) {
      Checkpointer c = fs.checkpoints();
      fs.main().write("/f", "1");
      fs.createBranch("agent", fs.main()).write("/g", "1");
      assertEquals(List.of("auto-agent-20260301T120000Z", "auto-main-20260301T120000Z"),
          c.tick(T0));
      assertEquals(List.of(), c.tick(T0.plusSeconds(60)));
      // A branch made from a checkpoint keeps it alive through pruning.
      fs.createBranch("fork", fs.getSnapshot("auto-main-20260301T120000Z"));
      fs.main().write("/f", "2");
      assertEquals(List.of("auto-fork-20260301T120200Z", "auto-main-20260301T120200Z"),
          c.tick(T0.plusSeconds(120)), "fork has no checkpoint yet: it gets its first");
      assertEquals(List.of("auto-main-20260301T120200Z", "auto-main-20260301T120000Z"),
          names(c, "main"), "fork's base stays");
      assertEquals(CommitResult.class, fs.commit("fork", true).getClass());
      fs.deleteBranch("fork");
      assertEquals(List.of("auto-main-20260301T120000Z"), c.pruneAll());
    }
  }

  @Test
  void execCheckpointsOnlyWhenThePolicySays() throws Exception {
    try (AgentFs fs = fs(CheckpointPolicy.every(Duration.ofHours(1)))) {
      fs.checkpoints().close();
      fs.main().write("/f", "1");
      Checkpointer.Result r = fs.checkpoints().beforeExec("main", T0);
      assertFalse(r.created());
      assertNull(r.checkpoint());
      assertTrue(fs.core().snapshotNames().isEmpty());
    }
    try (AgentFs fs = fs(CheckpointPolicy.onExecOnly())) {
      fs.main().write("/f", "1");
      assertTrue(fs.checkpoints().beforeExec("main", T0).created());
    }
  }

  @Test
  void theTimerTicksWithTheFilesystemsClock() throws Exception {
    AtomicLong nanos = new AtomicLong(T0.getEpochSecond() * 1_000_000_000L);
    List<Runnable> tasks = new ArrayList<>();
    List<Long> periods = new ArrayList<>();
    ScheduledThreadPoolExecutor capture = new ScheduledThreadPoolExecutor(1) {
      @Override
      public ScheduledFuture<?> scheduleAtFixedRate(Runnable r, long delay, long period,
          TimeUnit unit) {
        tasks.add(r);
        periods.add(unit.toMillis(period));
        return super.schedule(() -> { }, 1, TimeUnit.DAYS);
      }
    };
    try (AgentFs fs = AgentFs.builder().clock(nanos::get).build()) {
      Checkpointer c = new Checkpointer(fs.core(),
          CheckpointPolicy.every(Duration.ofSeconds(90)), nanos::get);
      c.start(capture);
      assertEquals(List.of(90_000L), periods);
      fs.main().write("/f", "1");
      tasks.get(0).run();
      nanos.addAndGet(90_000_000_000L);
      fs.main().write("/f", "2");
      tasks.get(0).run();
      assertEquals(List.of("auto-main-20260301T120130Z", "auto-main-20260301T120000Z"),
          names(c, "main"));
      c.close();
      assertTrue(capture.isShutdown());
    } finally {
      capture.shutdownNow();
    }
  }

  @Test
  void anAgentFsWithAnIntervalRunsItsTimerUntilClosed() throws Exception {
    List<Thread> before = timerThreads();
    AgentFs fs = fs(CheckpointPolicy.every(Duration.ofHours(1)));
    List<Thread> mine = new ArrayList<>();
    try {
      assertEquals(Duration.ofHours(1), fs.checkpoints().policy().every());
      mine.addAll(timerThreads());
      mine.removeAll(before);
      assertEquals(1, mine.size(), "one timer thread per filesystem");
    } finally {
      fs.close();
    }
    mine.get(0).join(10_000); // the executor has terminated; its thread is exiting
    assertFalse(mine.get(0).isAlive(), "close stops the timer");
    try (AgentFs off = AgentFs.builder().build()) {
      assertEquals(CheckpointPolicy.OFF, off.checkpoints().policy());
      List<Thread> now = timerThreads();
      now.removeAll(before);
      assertEquals(List.of(), now, "no timer without an interval");
    }
  }

  private static List<Thread> timerThreads() {
    List<Thread> out = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("agentfs-checkpoints") && t.isAlive()) {
        out.add(t);
      }
    }
    return out;
  }

  @Test
  void policiesAreChecked() {
    assertThrows(IllegalArgumentException.class,
        () -> CheckpointPolicy.every(Duration.ofMillis(10)));
    assertThrows(IllegalArgumentException.class,
        () -> CheckpointPolicy.onExecOnly().withKeepLast(0));
    assertThrows(IllegalArgumentException.class,
        () -> CheckpointPolicy.onExecOnly().withKeepHourly(-1));
    assertFalse(CheckpointPolicy.OFF.enabled());
    assertTrue(CheckpointPolicy.onExecOnly().enabled());
  }
}
