package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of {@code agentfs.jar}. Commands that report print one JSON object per line on
 * stdout; failures print {@code agentfs: ERRNO: path (detail)} on stderr and exit non-zero
 * (1 for filesystem errors, 2 for a command line the CLI does not understand).
 */
public final class Main {
  static final String USAGE = """
      usage: java -jar agentfs.jar COMMAND [OPTIONS]

      commands:
        demo                         snapshot, branch and diff a small workspace (in memory)
        mount [OPTIONS] MOUNTPOINT   mount in the foreground until SIGINT/SIGTERM or unmount
            --backstore SPEC         where content lives: memory (default), hostfs:DIR
            --lower DIR              overlay: read DIR through, never modify it
            --threads N              FUSE worker threads (default: CPU count, 2..8)
            --writeback              enable the kernel writeback cache
            --passthrough            kernel passthrough I/O to host files (hostfs; fails if
                                     the kernel or backstore cannot do it)
            --allow-other            let other users use the mount
            --read-only              refuse every change with EROFS
            --clean-stale            unmount a dead mount left at MOUNTPOINT first (default on)
        unmount MOUNTPOINT           unmount (also a stale mount whose process died)
        help                         this text

      exit status: 0 success, 1 filesystem error (errno on stderr), 2 usage error
      """;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0) {
      err.print(USAGE);
      return 2;
    }
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    try {
      switch (args[0]) {
        case "help", "--help", "-h" -> out.print(USAGE);
        case "demo" -> Demo.run(out);
        case "mount" -> MountCommand.run(rest, out);
        case "unmount", "umount" -> MountCommand.unmount(rest, out);
        default -> throw new UsageException("unknown command '" + args[0] + "'");
      }
      return 0;
    } catch (UsageException e) {
      err.println("agentfs: " + e.getMessage());
      err.println("run 'java -jar agentfs.jar help' for usage");
      return 2;
    } catch (AgentFsException e) {
      err.println("agentfs: " + e.getMessage());
      return 1;
    } catch (RuntimeException e) {
      err.println("agentfs: EIO: internal error: " + e);
      return 1;
    }
  }
}
