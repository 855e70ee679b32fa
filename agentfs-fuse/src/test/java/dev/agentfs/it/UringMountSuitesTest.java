package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Feature;
import dev.agentfs.fuse.session.FuseSession;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount suites again with FUSE-over-io_uring, plus what only the ring can get wrong: that
 * requests really travel through it, and that a lock wait does not hold up its queue (the
 * holder's unlock, made on the same CPU, must still get through).
 */
class UringMountSuitesTest {
  private static void uring(AgentFs.Builder b) {
    b.enable(Feature.IO_URING);
  }

  @Nested
  class Nio extends MountNioTest {
    @Override
    void configure(AgentFs.Builder b) {
      uring(b);
    }
  }

  @Nested
  class Tools extends MountToolsTest {
    @Override
    void configure(AgentFs.Builder b) {
      uring(b);
    }
  }

  @Nested
  class Errno extends MountErrnoTest {
    @Override
    void configure(AgentFs.Builder b) {
      uring(b);
    }
  }

  @Nested
  class Ring {
    @TempDir Path tmp;

    @Test
    void requestsTravelThroughTheRing() throws Exception {
      try (Fuse.Mounted m = Fuse.mount(tmp, UringMountSuitesTest::uring)) {
        assertTrue(m.handle().grantedFeatures().contains("OVER_IO_URING"),
            m.handle().grantedFeatures().toString());
        FuseSession s = FuseSession.live(m.dir());
        assertNotNull(s);
        long before = s.ringRequests();
        for (int i = 0; i < 50; i++) {
          Files.writeString(m.path("f" + i), "ring " + i);
        }
        for (int i = 0; i < 50; i++) {
          assertEquals("ring " + i, Files.readString(m.path("f" + i)));
        }
        // Each create is at least LOOKUP/CREATE/WRITE/FLUSH/RELEASE: well over 100 requests.
        long served = s.ringRequests() - before;
        assertTrue(served > 100, "ring served " + served);
        // Queue threads sleep in io_uring_enter between requests: at most about one enter per
        // request (plus the first per queue). A wait that returns at once would spin here.
        long enters = s.ringEnters();
        assertTrue(enters <= s.ringRequests() + 16, enters + " enters for "
            + s.ringRequests() + " requests: the queue threads do not wait");
      }
    }

    @Test
    void aLockWaitDoesNotBlockTheUnlockOnTheSameCpu() throws Exception {
      try (Fuse.Mounted m = Fuse.mount(tmp, UringMountSuitesTest::uring)) {
        FuseSession s = FuseSession.live(m.dir());
        assertNotNull(s);
        String file = m.path("lock").toString();
        Files.writeString(m.path("lock"), "x");
        // Both processes on CPU 0, so both use queue 0: a queue thread stuck in the waiter's
        // SETLKW would never see the holder's unlock.
        Process holder = python(file, """
            import fcntl, sys
            f = open(sys.argv[1], 'w')
            fcntl.lockf(f, fcntl.LOCK_EX)
            print('locked', flush=True)
            sys.stdin.readline()
            fcntl.lockf(f, fcntl.LOCK_UN)
            print('released', flush=True)
            """);
        Process waiter = null;
        try {
          BufferedReader h = reader(holder);
          assertEquals("locked", line(h));
          waiter = python(file, """
              import fcntl, sys
              f = open(sys.argv[1], 'w')
              fcntl.lockf(f, fcntl.LOCK_EX)
              print('acquired', flush=True)
              """);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (s.dispatcher().lockWaits() == 0) {
            assertTrue(System.nanoTime() < deadline, "the waiter never blocked");
            Thread.onSpinWait();
          }
          holder.getOutputStream().write('\n');
          holder.getOutputStream().flush();
          assertEquals("released", line(h), "the unlock is stuck behind the lock wait");
          assertEquals("acquired", line(reader(waiter)));
          assertTrue(waiter.waitFor(30, TimeUnit.SECONDS));
          assertEquals(0, waiter.exitValue());
        } finally {
          // The waiter first: killing it interrupts its lock wait, which frees a stuck queue.
          if (waiter != null) {
            waiter.destroyForcibly().waitFor();
          }
          holder.destroyForcibly().waitFor();
        }
      }
    }

    /** The next line, or null when none came within 30 s (a hang fails instead of hanging). */
    private String line(BufferedReader r) throws Exception {
      try {
        return CompletableFuture.supplyAsync(() -> {
          try {
            return r.readLine();
          } catch (java.io.IOException e) {
            return null;
          }
        }).get(30, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        return null;
      }
    }

    private Process python(String file, String script) throws Exception {
      return new ProcessBuilder("taskset", "-c", "0", "python3", "-c", script, file)
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private BufferedReader reader(Process p) {
      return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }
  }
}
