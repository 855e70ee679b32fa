package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.hostfs.HostFsBackstore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File descriptors at their limits: a process under {@code ulimit -n 64} opens files on the
 * mount until EMFILE, closes them and opens as many again; and {@code agentfs.resource.cycles}
 * (default 100,000) open/close cycles by a process leave the serving JVM with the descriptors
 * it had, the filesystem with no open handles, every OPEN matched by a RELEASE and, with
 * kernel passthrough on HostFs, no backing file registered with the kernel.
 */
class MountResourceTest {
  private static final int CYCLES = Integer.getInteger("agentfs.resource.cycles", 100_000);

  @TempDir Path tmp;

  @BeforeEach
  void needFuse() {
    Fuse.require();
  }

  private static long jvmFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  private static long jvmFdsUnchecked() {
    try {
      return jvmFds();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Waits (polling, with a deadline) until {@code value} is {@code want}, for what the kernel
   * finishes after the call returned (RELEASE after close(2)); returns the last value seen.
   */
  private static long settle(LongSupplier value, long want) {
    return await(value, v -> v == want);
  }

  private static long await(LongSupplier value, java.util.function.LongPredicate done) {
    long deadline = System.nanoTime() + 20_000_000_000L;
    long v;
    while (!done.test(v = value.getAsLong()) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    return v;
  }

  private static LongSupplier handles(AgentFs fs) {
    return () -> {
      try {
        return fs.core().openHandles("main");
      } catch (AgentFsException e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private static long count(FuseSession s, String op) {
    return s.requestCounts().getOrDefault(op, 0L);
  }

  @Test
  void aProcessAtItsDescriptorLimitGetsEmfileAndRecovers() throws Exception {
    String code = String.join("\n",
        "import errno, os, sys",
        "modes = [os.O_RDONLY, os.O_WRONLY, os.O_RDWR]",
        "fds, err = [], None",
        "try:",
        "    while len(fds) < 4096:",
        "        i = len(fds)",
        "        fds.append(os.open('f%d' % (i % 3), modes[i % 3]))",
        "except OSError as e:",
        "    err = errno.errorcode.get(e.errno, str(e.errno))",
        "print('holding', len(fds), err, flush=True)",
        "sys.stdin.readline()",
        "for fd in fds:",
        "    os.close(fd)",
        "again = [os.open('f0', os.O_RDONLY) for _ in fds]",
        "print('reopened', len(again), flush=True)",
        "sys.stdin.readline()",
        "for fd in again:",
        "    os.close(fd)",
        "print('closed', flush=True)");
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      for (int i = 0; i < 3; i++) {
        Files.writeString(m.path("f" + i), "file " + i);
      }
      LongSupplier open = handles(m.fs());
      assertEquals(0, settle(open, 0));
      Process p = new ProcessBuilder("sh", "-c", "ulimit -n 64 && exec python3 -c \"$1\"", "sh",
          code).directory(m.dir().toFile()).redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      try (BufferedReader out = new BufferedReader(
              new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
          Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
        String[] holding = String.valueOf(out.readLine()).split(" ");
        assertEquals("holding", holding[0], String.join(" ", holding));
        assertEquals("EMFILE", holding[2], "the error at the descriptor limit");
        int n = Integer.parseInt(holding[1]);
        assertTrue(n > 50 && n < 64, "opened " + n + " files under ulimit -n 64");
        assertEquals(n, open.getAsLong(), "one handle per open file");
        in.write("\n");
        in.flush();
        assertEquals("reopened " + n, out.readLine());
        // The first n were closed; their RELEASEs may still be on the way.
        assertEquals(n, settle(open, n), "handles while the second batch is open");
        in.write("\n");
        in.flush();
        assertEquals("closed", out.readLine());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        assertEquals(0, settle(open, 0), "handles left after the process closed everything");
        System.out.println("MountResourceTest: under ulimit -n 64 a process opened " + n
            + " files on the mount, then EMFILE; after closing it opened " + n
            + " again; 0 handles left");
      } finally {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void openCloseCyclesLeakNothingOnMemory() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      cycles("memory", m);
    }
  }

  @Test
  void openCloseCyclesLeakNothingOnHostFsPassthrough() throws Exception {
    HostFsBackstore store = HostFsBackstore.open(tmp.resolve("store"));
    try (Fuse.Mounted m = Fuse.mount(tmp,
        b -> b.backstore(store).passthrough(Passthrough.REQUIRED))) {
      assertTrue(m.handle().grantedFeatures().contains("PASSTHROUGH"),
          m.handle().grantedFeatures().toString());
      cycles("hostfs+passthrough", m);
      // The cycles above did go through passthrough: an open file holds a backing id.
      FuseSession s = FuseSession.live(m.dir());
      assertNotNull(s);
      try (var ch = java.nio.channels.FileChannel.open(m.path("f0"))) {
        assertEquals(1, s.passthroughBackings(), "an open file of a passthrough mount");
      }
      assertEquals(0, settle(s::passthroughBackings, 0));
    }
  }

  private static final String LOOP = String.join("\n",
      "import os, sys, time",
      "n = int(sys.argv[1])",
      "paths = ['f0', 'f1', 'f2', 'sub/f3']",
      "modes = [os.O_RDONLY, os.O_WRONLY, os.O_RDWR | os.O_APPEND, os.O_RDONLY]",
      "t = time.monotonic()",
      "for i in range(n):",
      "    k = i % 5",
      "    if k == 4:",
      "        fd = os.open('sub', os.O_RDONLY | os.O_DIRECTORY)",
      "    else:",
      "        fd = os.open(paths[k], modes[k])",
      "    os.close(fd)",
      "print(n, round(time.monotonic() - t, 1))");

  private static void cycles(String label, Fuse.Mounted m) throws Exception {
    Files.createDirectory(m.path("sub"));
    for (String f : List.of("f0", "f1", "f2", "sub/f3")) {
      Files.writeString(m.path(f), "data of " + f);
    }
    FuseSession s = FuseSession.live(m.dir());
    assertNotNull(s);
    LongSupplier open = handles(m.fs());
    // Warm up, so lazily opened descriptors (class loading, the store's cache) are counted
    // in the baseline rather than as leaks.
    Proc.run(m.dir(), List.of("python3", "-c", LOOP, "1000")).ok();
    assertEquals(0, settle(open, 0));
    assertEquals(0, settle(s::passthroughBackings, 0));
    long fds = jvmFds();
    Map<String, Long> before = s.requestCounts();

    String out = Proc.run(m.dir(), List.of("python3", "-c", LOOP, Integer.toString(CYCLES)))
        .ok().out().trim();

    long handlesAfter = settle(open, 0);
    long backings = settle(s::passthroughBackings, 0);
    long opens = count(s, "OPEN") - before.getOrDefault("OPEN", 0L);
    long opendirs = count(s, "OPENDIR") - before.getOrDefault("OPENDIR", 0L);
    LongSupplier releases = () -> count(s, "RELEASE") - before.getOrDefault("RELEASE", 0L);
    LongSupplier releasedirs =
        () -> count(s, "RELEASEDIR") - before.getOrDefault("RELEASEDIR", 0L);
    long rel = settle(releases, opens);
    long reldir = settle(releasedirs, opendirs);
    // Fewer is fine (the garbage collector may close an earlier channel); more is a leak.
    long fdsAfter = await(MountResourceTest::jvmFdsUnchecked, v -> v <= fds);
    System.out.println("MountResourceTest[" + label + "]: " + out.replace(" ", " cycles in ")
        + " s; OPEN " + opens + ", RELEASE " + rel + ", OPENDIR " + opendirs + ", RELEASEDIR "
        + reldir + "; open handles after: " + handlesAfter + "; passthrough backing ids after: "
        + backings + "; JVM descriptors " + fds + " before, " + fdsAfter + " after");
    assertEquals(CYCLES - CYCLES / 5, opens, "OPEN requests");
    assertEquals(CYCLES / 5, opendirs, "OPENDIR requests");
    assertEquals(opens, rel, "every OPEN is released");
    assertEquals(opendirs, reldir, "every OPENDIR is released");
    assertEquals(0, handlesAfter, "open handles in the filesystem");
    assertEquals(0, backings, "passthrough backing ids registered with the kernel");
    assertTrue(fdsAfter <= fds, "JVM descriptors grew from " + fds + " to " + fdsAfter);
    assertTrue(m.handle().isAlive());
  }
}
