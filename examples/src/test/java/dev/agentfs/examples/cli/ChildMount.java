package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.Mounts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code agentfs mount ...} in a child JVM, for tests that need a mount served by another
 * process: started and waited for until it prints its ready line; {@link #close()} makes sure
 * it is gone and leaves no mount behind (detaching a stale one a SIGKILL left).
 */
final class ChildMount implements AutoCloseable {
  final Process process;
  final Path mountPoint;
  final String ready;
  final BufferedReader out;

  private ChildMount(Process p, Path mp, String ready, BufferedReader out) {
    this.process = p;
    this.mountPoint = mp;
    this.ready = ready;
    this.out = out;
  }

  static void requireFuse() {
    if (!Files.exists(Path.of("/dev/fuse"))) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true but /dev/fuse is missing");
      }
      Assumptions.abort("skipped: /dev/fuse is missing");
    }
  }

  /** Runs {@code agentfs mount ARGS MOUNTPOINT} and waits for {@code "event":"mounted"}. */
  static ChildMount start(Path mp, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-cp",
        System.getProperty("java.class.path"), Main.class.getName(), "mount"));
    cmd.addAll(List.of(args));
    cmd.add(mp.toString());
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String ready = out.readLine();
    if (ready == null || !ready.startsWith("{\"event\":\"mounted\"")) {
      p.destroyForcibly();
      fail("the child did not mount: " + ready);
    }
    return new ChildMount(p, mp, ready, out);
  }

  /** SIGKILL: the mount stays behind, stale. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "killed child did not exit");
  }

  /** SIGTERM (through kill(1), so our end of its stdout stays open); returns its status. */
  int term() throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start().waitFor();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child did not end on SIGTERM");
    return process.exitValue();
  }

  static boolean mounted(Path p) throws IOException {
    String needle = " " + p.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(needle));
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    if (mounted(mountPoint)) {
      new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor();
    }
    // A killed child also leaves the branch exports it made for 'branch exec' behind.
    Path exports = Path.of("/run/agentfs");
    String mine = process.pid() + "-";
    for (Path p : Mounts.unmountStale(p -> p.startsWith(exports) && p.getNameCount() > 2
        && p.getName(2).toString().startsWith(mine))) {
      Files.deleteIfExists(p);
      Files.deleteIfExists(p.getParent());
    }
  }
}
