package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Entry point of {@code agentfs.jar}. Commands that report print one JSON object per line on
 * stdout; failures print {@code agentfs: ERRNO: path (detail)} on stderr and exit non-zero
 * (1 for filesystem errors, 2 for a command line the CLI does not understand).
 */
public final class Main {
  static final String USAGE = """
      usage: java -jar agentfs.jar COMMAND [OPTIONS]

      commands:
        demo                         two agents, a rollback and a commit on a sample workspace
        mount [OPTIONS] MOUNTPOINT   mount in the foreground until SIGINT/SIGTERM or unmount
            --backstore SPEC         where content lives: memory (default), hostfs:DIR
            --lower DIR              overlay: read DIR through, never modify it
            --materialize MODE       overlay: lazy (copy a file on its first change,
                                     default), eager (copy DIR into the backstore at
                                     start), clone (eager by reflink; hostfs on DIR's
                                     filesystem with reflinks, else ENOTSUP/EXDEV)
            --lower-refresh S|never  overlay: re-read untouched entries DIR changed after
                                     S seconds (default 1; 0: at every use)
            --transport kernel|jnr   the direct /dev/fuse protocol (default) or jnr-fuse
                                     (libfuse2: no passthrough, writeback or invalidation)
            --threads N              FUSE worker threads (default: CPU count, 2..8)
            --writeback              enable the kernel writeback cache
      --io-uring               serve over FUSE-over-io_uring, one queue per CPU (root,
                               Linux 6.14+; falls back to /dev/fuse where refused)
            --passthrough            kernel passthrough I/O to host files (hostfs; fails if
                                     the kernel or backstore cannot do it)
            --allow-other            let other users use the mount
            --read-only              refuse every change with EROFS
            --clean-stale            unmount a dead mount left at MOUNTPOINT first (default on)
        unmount MOUNTPOINT           unmount (also a stale mount whose process died)
        bench [--quick] [--out DIR] [--configs A,B] [--workloads A,B] [--samples N] [--jmh]
                                     benchmark AgentFS mounts against native (docs/performance.md)
        help [COMMAND]               this text, or one command's usage

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
        branch diff FROM TO [--patch]
                                     one line per change between snapshots or branches;
                                     --patch: one JSON line holding a unified diff
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

      'java -jar agentfs.jar COMMAND --help' describes one command.

      exit status (every command):
        0  success (mount: unmounted cleanly after SIGINT/SIGTERM)
        1  filesystem or system error; stderr says 'agentfs: ERRNO: path (detail)'
        2  usage error: unknown command or option, missing argument
      """;

  /** What {@code COMMAND --help} prints. */
  static final Map<String, String> COMMAND_USAGE = Map.of(
      "demo", """
          usage: java -jar agentfs.jar demo

          Creates a sample git workspace in a temporary directory, mounts an overlay of it,
          snapshots it, lets a shell "agent" bound to a branch edit it, shows the diff, rolls
          the branch back, runs a second agent and commits its branch into the workspace.
          Prints the story as JSON lines {"event":...,"message":...}. Without FUSE (no
          /dev/fuse, or not root) one line says why and the story runs through the Java API.
          Removes its temporary directories at the end.
          """,
      "mount", """
          usage: java -jar agentfs.jar mount [OPTIONS] MOUNTPOINT

          Mounts in the foreground; prints {"event":"mounted",...} once the mount answers and
          {"event":"unmounted",...} after SIGINT/SIGTERM, then exits 0.
            --backstore SPEC    where content lives: memory (default), memory:capacity=1g,
                                hostfs:DIR, or any provider on the class path (quota:64m)
            --lower DIR         overlay: read DIR through, never modify it
            --materialize MODE  lazy (default): a lower file is copied into the backstore
                                on its first change; eager: all of DIR is copied at start,
                                after which DIR may change or go; clone: eager by reflink
                                (FICLONE), needs hostfs on DIR's filesystem with reflinks
                                (XFS reflink=1, btrfs), else fails with ENOTSUP or EXDEV
            --lower-refresh S   untouched lower entries are compared with DIR again after S
                                seconds (default 1; 0: at every use; never: read once)
            --transport NAME    kernel (default: /dev/fuse spoken directly) or jnr (libfuse2)
            --threads N         FUSE worker threads (default: CPU count, 2..8)
            --writeback         enable the kernel writeback cache
            --passthrough       kernel passthrough I/O to host files (hostfs; fails if the
                                kernel or backstore cannot do it)
            --allow-other       let other users use the mount
            --read-only         refuse every change with EROFS
            --clean-stale       unmount a dead mount left at MOUNTPOINT first (default on)
          """,
      "unmount", """
          usage: java -jar agentfs.jar unmount MOUNTPOINT

          Unmounts a FUSE mount, also a stale one whose process died. Exit 1 (EINVAL) when
          MOUNTPOINT is not a FUSE mount.
          """,
      "bench", """
          usage: java -jar agentfs.jar bench [--quick] [--out DIR] [--configs A,B]
                                             [--workloads A,B] [--samples N] [--jmh]

          Benchmarks AgentFS mounts against the native filesystem, one JSON line per
          measurement, result files in --out (default bench-results); see
          docs/performance.md. --jmh runs the core JMH benchmarks instead.
          """,
      "help", """
          usage: java -jar agentfs.jar help [COMMAND]

          Prints the list of commands, or the usage of COMMAND.
          """);

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
    String command = args[0].equals("umount") ? "unmount" : args[0];
    if (COMMAND_USAGE.containsKey(command)
        && (rest.contains("--help") || rest.contains("-h"))) {
      out.print(COMMAND_USAGE.get(command));
      return 0;
    }
    try {
      switch (args[0]) {
        case "help", "--help", "-h" -> {
          if (rest.isEmpty()) {
            out.print(USAGE);
          } else if (COMMAND_USAGE.containsKey(rest.get(0))) {
            out.print(COMMAND_USAGE.get(rest.get(0)));
          } else {
            throw new UsageException("no command '" + rest.get(0) + "'");
          }
        }
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
