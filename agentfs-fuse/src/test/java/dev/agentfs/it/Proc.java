package dev.agentfs.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs child processes against a mount: the real kernel path, not a mock of it. */
public final class Proc {
  private Proc() {}

  public record Result(int exit, String out, String err) {
    public Result ok() {
      if (exit != 0) {
        throw new AssertionError("exit " + exit + "\nstdout: " + out + "\nstderr: " + err);
      }
      return this;
    }
  }

  public static Result sh(Path cwd, String script) throws IOException, InterruptedException {
    return run(cwd, List.of("sh", "-c", script));
  }

  /** Runs {@code sh -c script} as another uid/gid, without supplementary groups, via setpriv. */
  public static Result shAs(Path cwd, int uid, int gid, String script)
      throws IOException, InterruptedException {
    return run(cwd, List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
        "sh", "-c", script));
  }

  /** Like {@link #shAs} with exactly the supplementary groups {@code groups}. */
  public static Result shAs(Path cwd, int uid, int gid, int[] groups, String script)
      throws IOException, InterruptedException {
    if (groups.length == 0) {
      return shAs(cwd, uid, gid, script);
    }
    StringBuilder g = new StringBuilder();
    for (int x : groups) {
      g.append(g.length() == 0 ? "" : ",").append(x);
    }
    return run(cwd, List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--groups=" + g,
        "sh", "-c", script));
  }

  public static Result python(Path cwd, String code) throws IOException, InterruptedException {
    return run(cwd, List.of("python3", "-c", code));
  }

  public static Result run(Path cwd, List<String> cmd) throws IOException, InterruptedException {
    return run(cwd, cmd, 5);
  }

  /** Like {@link #run(Path, List)}, killing the child after {@code minutes}. */
  public static Result run(Path cwd, List<String> cmd, long minutes)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(cwd.toFile());
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    p.getOutputStream().close();
    // Drain stderr on another thread so a chatty child cannot block on a full pipe.
    // Both pipes are closed here, not left to the JDK's reaper thread, so a test counting
    // this JVM's descriptors sees them gone when run() returns.
    StringBuilder err = new StringBuilder();
    Thread t = new Thread(() -> {
      try (var in = p.getErrorStream()) {
        err.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        err.append(e);
      }
    });
    t.start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + cmd);
    }
    t.join();
    return new Result(p.exitValue(), out, err.toString());
  }

  /**
   * Skips the test with a reason when {@code tool} is missing, or fails it under CI=true,
   * where scripts/setup.sh installs it (from apt package {@code pkg}).
   */
  public static void requireTool(String tool, String pkg) {
    if (has(tool)) {
      return;
    }
    String why = tool + " is not installed (apt package " + pkg + ", see scripts/setup.sh)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      org.junit.jupiter.api.Assertions.fail("CI=true but " + why);
    }
    org.junit.jupiter.api.Assumptions.abort("skipped: " + why);
  }

  public static boolean has(String tool) {
    try {
      return run(Path.of("/"), List.of("sh", "-c", "command -v " + tool)).exit() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
