package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Scratch filesystems for tests that need a property the build machine's disk lacks: a small
 * tmpfs (to fill it) or an XFS loop image (to reflink). Mounting needs root; without it the
 * test is skipped with the reason, except under CI=true, where it fails.
 */
final class Mounts {
  private Mounts() {}

  /** Mounts a tmpfs of {@code size} (e.g. "8m") on {@code dir}. */
  static void tmpfs(Path dir, String size) throws Exception {
    Files.createDirectories(dir);
    require(run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()), dir);
  }

  /** Formats a sparse {@code megabytes} image at {@code image} as XFS and loop-mounts it. */
  static void xfs(Path image, Path dir, int megabytes) throws Exception {
    Files.createDirectories(dir);
    try (var raf = new java.io.RandomAccessFile(image.toFile(), "rw")) {
      raf.setLength(megabytes * 1024L * 1024L);
    }
    require(run("mkfs.xfs", "-q", "-m", "reflink=1", image.toString()), dir);
    require(run("mount", "-o", "loop", image.toString(), dir.toString()), dir);
  }

  static void unmount(Path dir) throws Exception {
    String out = run("umount", dir.toString());
    if (out != null) {
      // A lazy unmount still frees the directory for @TempDir cleanup.
      run("umount", "-l", dir.toString());
    }
  }

  private static void require(String error, Path dir) {
    if (error == null) {
      return;
    }
    String msg = "cannot mount a scratch filesystem on " + dir + ": " + error;
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(msg + " (CI=true: this test must run in CI)");
    }
    Assumptions.abort(msg);
  }

  /** Runs a command; returns null on success, else its exit status and output. */
  private static String run(String... cmd) throws InterruptedException {
    List<String> command = new ArrayList<>(List.of(cmd));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", cmd) + " timed out";
      }
      return p.exitValue() == 0 ? null : String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      return String.join(" ", cmd) + ": " + e;
    }
  }
}
