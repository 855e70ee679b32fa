package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code agentfs mount} in a child JVM: ready line, a working mount, clean exit on SIGTERM. */
class MountCommandTest {
  @TempDir Path tmp;

  private static boolean mounted(Path p) throws Exception {
    String needle = " " + p.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(needle));
  }

  @Test
  void mountsPrintsReadyAndUnmountsOnSigterm() throws Exception {
    if (!Files.exists(Path.of("/dev/fuse"))) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true but /dev/fuse is missing");
      }
      Assumptions.abort("skipped: /dev/fuse is missing");
    }
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "mount", "--confined-symlinks", mp.toString()).start();
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String ready = out.readLine();
      assertTrue(ready != null && ready.startsWith("{\"event\":\"mounted\",\"mountpoint\":\""
          + mp + "\""), String.valueOf(ready));
      Files.writeString(mp.resolve("hello"), "world");
      assertEquals("world", Files.readString(mp.resolve("hello")));
      java.nio.file.FileSystemException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.nio.file.FileSystemException.class,
          () -> Files.createSymbolicLink(mp.resolve("out"), Path.of("/etc")));
      assertTrue(String.valueOf(e.getReason()).contains("not permitted"), e.toString());
      Files.createSymbolicLink(mp.resolve("in"), Path.of("hello"));
      // SIGTERM with kill(1): Process.destroy would also close our end of its stdout.
      assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start()
          .waitFor());
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue());
      assertEquals("{\"event\":\"unmounted\",\"mountpoint\":\"" + mp + "\"}", out.readLine());
      assertFalse(mounted(mp));
    } finally {
      p.destroyForcibly();
      if (mounted(mp)) {
        new ProcessBuilder("umount", "-l", mp.toString()).start().waitFor();
      }
    }
  }
}
