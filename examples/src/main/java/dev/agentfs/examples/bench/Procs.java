package dev.agentfs.examples.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Runs the tools agent-shaped workloads use (tar, git, grep, rm) as child processes. */
final class Procs {
  private Procs() {}

  /**
   * Runs {@code cmd} in {@code cwd}, stdout discarded, and fails unless it exits with one of
   * {@code okCodes} (0 when none are given). Git reads no user or system configuration.
   */
  static void run(Path cwd, Path scratch, List<String> cmd, int... okCodes)
      throws IOException, InterruptedException {
    Path err = scratch.resolve("child-stderr.txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("LC_ALL", "C");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException("cannot run " + cmd.get(0) + " (install it, e.g. 'apt-get install -y "
          + cmd.get(0) + "'): " + e.getMessage(), e);
    }
    int rc = p.waitFor();
    boolean ok = okCodes.length == 0 ? rc == 0 : false;
    for (int c : okCodes) {
      ok |= rc == c;
    }
    if (!ok) {
      String msg = Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8).strip() : "";
      if (msg.length() > 500) {
        msg = msg.substring(0, 500) + "...";
      }
      throw new IOException(String.join(" ", cmd) + " in " + cwd + " exited " + rc + ": " + msg);
    }
  }
}
