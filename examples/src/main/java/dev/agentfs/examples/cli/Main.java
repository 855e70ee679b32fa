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
        mount [OPTIONS] MOUNTPOINT   mount in the foreground until SIGINT/SIGTERM
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
        bench [--quick] [--out DIR] [--configs A,B] [--workloads A,B] [--samples N] [--jmh]
                                     benchmark AgentFS mounts against native (docs/performance.md)
        help                         this text

      control of a running mount (each command takes --mount MOUNTPOINT):
        snapshot create [--branch B] NAME
                                     snapshot branch B (default: the caller's branch)
        snapshot list                one line per snapshot: name, branch, created
        snapshot delete NAME
        branch create NAME (--from SNAPSHOT | --from-branch BRANCH)
                                     a new branch from a snapshot or a branch's state
        branch list                  one line per branch: name, base
        branch delete NAME [--force] EBUSY while processes are bound to it, unless --force
        branch bind --pid PID BRANCH
                                     PID (and the processes it starts) see BRANCH
        branch unbind --pid PID      PID sees its parent's (or the default) branch again
        branch show [--pid PID]      the branch PID sees (default: this command's parent,
                                     i.e. the shell)
        branch diff FROM TO          one line per change between snapshots or branches
        branch commit BRANCH [--into TARGET | --to-workspace] [--dry-run]
                                     apply BRANCH's changes onto its parent branch, TARGET,
                                     or (overlay) the host workspace; conflicts are reported
        branch exec --branch B -- COMMAND [ARG...]
                                     run COMMAND seeing B at MOUNTPOINT, in a private mount
                                     namespace (needs unshare(1) and CAP_SYS_ADMIN); exits
                                     with COMMAND's status
        branch reset BRANCH --to SNAP    roll BRANCH back to SNAP in place; open files of
                                     paths SNAP lacks answer ESTALE
        branch restore BRANCH PATH --from SNAP
                                     put one file or subtree back as it is in SNAP
        branch default BRANCH        what unbound processes see at MOUNTPOINT (no remount)

      exit status: 0 success, 1 filesystem error (errno on stderr), 2 usage error
      """;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, ControlCommands.Env.system());
  }

  static int run(String[] args, PrintStream out, PrintStream err, ControlCommands.Env env) {
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
        case "bench" -> dev.agentfs.examples.bench.BenchCommand.run(rest, out, err);
        case "snapshot" -> {
          return ControlCommands.snapshot(rest, out, env);
        }
        case "branch" -> {
          return ControlCommands.branch(rest, out, env);
        }
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
