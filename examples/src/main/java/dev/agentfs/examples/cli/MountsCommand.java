package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import dev.agentfs.MountInfo;
import dev.agentfs.Mounts;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code mounts} and {@code unmount --stale}: the AgentFS mounts of this machine as JSON
 * lines ({@link Mounts#list()}), and detaching those whose server died.
 */
final class MountsCommand {
  private MountsCommand() {}

  static void list(List<String> args, PrintStream out) throws UsageException, AgentFsException {
    Predicate<Path> under = under("mounts", args);
    for (MountInfo m : Mounts.list()) {
      if (under.test(m.mountPoint())) {
        Json line = new Json();
        m.toJson().forEach(line::put);
        out.println(line);
      }
    }
    out.flush();
  }

  static void unmountStale(List<String> args, PrintStream out)
      throws UsageException, AgentFsException {
    for (Path p : Mounts.unmountStale(under("unmount --stale", args))) {
      out.println(Json.event("unmounted").put("mountpoint", p.toString()).put("stale", true));
    }
    out.flush();
  }

  /** {@code [--under DIR]}: only mount points at or below DIR. */
  private static Predicate<Path> under(String cmd, List<String> args) throws UsageException {
    if (args.isEmpty()) {
      return p -> true;
    }
    if (args.size() == 2 && args.get(0).equals("--under")) {
      Path dir = Path.of(args.get(1)).toAbsolutePath().normalize();
      return p -> p.startsWith(dir);
    }
    throw new UsageException(cmd + " takes only --under DIR, not '" + String.join(" ", args)
        + "'");
  }
}
