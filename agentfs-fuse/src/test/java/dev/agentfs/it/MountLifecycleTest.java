package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.spi.MountHandle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mount, unmount, remount: cycles, parallel mounts, bad mount points, a killed server. */
class MountLifecycleTest {
  @TempDir Path tmp;

  @BeforeEach
  void needFuse() {
    Fuse.require();
  }

  private static long openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  private static long count(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.count();
    }
  }

  private static long fuseThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("agentfs-fuse")).count();
  }

  private static boolean mounted(Path p) throws IOException {
    String needle = " " + p.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(needle));
  }

  @Test
  void fiftyMountCyclesLeaveNoThreadsOrDescriptors() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    // One warm-up cycle so lazily loaded native libraries do not count as leaks.
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      Files.writeString(m.path("warm"), "x");
    }
    long fds = openFds();
    long threads = fuseThreads();
    try (AgentFs fs = AgentFs.builder().build()) {
      for (int i = 0; i < 50; i++) {
        try (MountHandle h = fs.mount(dir)) {
          Files.writeString(dir.resolve("f" + i), "cycle " + i);
          assertEquals(i + 1, count(dir));
          assertTrue(h.isAlive());
        }
        assertFalse(mounted(dir), "still mounted after close, cycle " + i);
      }
      assertEquals("cycle 49", fs.main().readString("/f49"));
    }
    assertEquals(threads, fuseThreads(), "FUSE threads left behind");
    // Fewer is fine (an earlier test's channel may be closed by GC meanwhile); more is a leak.
    assertTrue(openFds() <= fds, "file descriptors left behind: " + openFds() + " > " + fds);
  }

  @Test
  void fourMountsAtOnceAreIndependent() throws Exception {
    List<Fuse.Mounted> ms = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        ms.add(Fuse.mount(tmp));
      }
      for (int i = 0; i < 4; i++) {
        Files.writeString(ms.get(i).path("id"), "mount " + i);
      }
      for (int i = 0; i < 4; i++) {
        assertEquals("mount " + i, Files.readString(ms.get(i).path("id")));
        assertEquals(1, count(ms.get(i).dir()));
      }
    } finally {
      ms.forEach(Fuse.Mounted::close);
    }
  }

  @Test
  void closeIsIdempotent() throws Exception {
    Fuse.Mounted m = Fuse.mount(tmp);
    m.handle().close();
    m.handle().close();
    assertFalse(mounted(m.dir()));
    m.fs().close();
  }

  @Test
  void badMountPointsFailClearly() throws Exception {
    try (AgentFs fs = AgentFs.builder().build()) {
      AgentFsException missing =
          assertThrows(AgentFsException.class, () -> fs.mount(tmp.resolve("missing")));
      assertEquals(Errno.ENOENT, missing.errno());
      assertTrue(missing.getMessage().contains("missing"), missing.getMessage());

      Path file = Files.writeString(tmp.resolve("file"), "x");
      AgentFsException notDir = assertThrows(AgentFsException.class, () -> fs.mount(file));
      assertEquals(Errno.ENOTDIR, notDir.errno());

      Path dir = Files.createDirectory(tmp.resolve("busy"));
      try (MountHandle h = fs.mount(dir)) {
        AgentFsException busy = assertThrows(AgentFsException.class, () -> fs.mount(dir));
        assertEquals(Errno.EBUSY, busy.errno());
        assertTrue(busy.getMessage().contains(dir.toString()), busy.getMessage());
      }
    }
  }

  @Test
  void killedServerLeavesAStaleMountThatTheNextMountCleansUp() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("stale"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        ChildMount.class.getName(), dir.toString()).redirectErrorStream(true).start();
    try {
      BufferedReader r = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null && !line.equals("mounted")) {
        // skip log lines
      }
      assertEquals("mounted", line, "child did not mount");
      assertEquals("from child", Files.readString(dir.resolve("hello")));
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      assertTrue(KernelMounts.isStale(dir), "a killed server should leave a stale mount");
      assertTrue(KernelMounts.unmountStale(dir));
      assertFalse(KernelMounts.isStale(dir));
      try (AgentFs fs = AgentFs.builder().build(); MountHandle h = fs.mount(dir)) {
        Files.writeString(dir.resolve("again"), "ok");
        assertEquals("ok", fs.main().readString("/again"));
      }
    } finally {
      child.destroyForcibly();
      if (KernelMounts.isStale(dir)) {
        KernelMounts.unmountStale(dir);
      }
    }
  }

  /** Mounts at args[0], writes a file, says "mounted", and waits to be killed. */
  public static final class ChildMount {
    public static void main(String[] args) throws Exception {
      AgentFs fs = AgentFs.builder().build();
      fs.main().write("/hello", "from child");
      fs.mount(Path.of(args[0]));
      System.out.println("mounted");
      System.out.flush();
      Thread.currentThread().join();
    }
  }
}
