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
            -o OPT[,OPT...]          mount(8) options: ro, rw, noatime, relatime, noexec,
                                     nosuid/suid, nodev/dev, fsname=, subtype=, allow_other,
                                     no_default_permissions, backstore=, lower=,
                                     materialize=, lower_refresh=, threads=N,
                                     max_branches=N, max_snapshots=N, max_open_handles=N,
                                     writeback, passthrough, io_uring ('mount --help')
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
            --max-branches N         at most N branches, main included (default 10000);
                                     one more is EDQUOT
            --max-snapshots N        at most N snapshots (default 100000); one more is EDQUOT
            --max-open-handles N     at most N open files and directories in all (default
                                     1048576); one more open is ENFILE
            --writeback              enable the kernel writeback cache
            --io-uring               serve over FUSE-over-io_uring, one queue per CPU (root,
                                     Linux 6.14+; falls back to /dev/fuse where refused)
            --passthrough            kernel passthrough I/O to host files (hostfs; fails if
                                     the kernel or backstore cannot do it)
            --allow-other            let other users use the mount
            --read-only              refuse every change with EROFS, for good (the kernel's
                                     -o ro can be lifted by 'mount -o remount,rw')
            --confined-symlinks      EPERM for symlinks that are absolute or lead above
                                     the mount root
            --clean-stale            unmount a dead mount left at MOUNTPOINT first (default on)
            --checkpoint-every SECONDS
                                     snapshot every changed branch every SECONDS as
                                     auto-BRANCH-TIMESTAMP
            --checkpoint-on-exec     also checkpoint the branch before each 'branch exec'
            --keep-last K            keep the K newest checkpoints of each branch (default 10)
            --keep-hourly H          and the newest of each of the last H hours (default 0)
            --snapshot NAME          mount snapshot NAME read-only (writes give EROFS) from
                                     --backstore, or with --mount LIVE from LIVE's server
        unmount MOUNTPOINT           unmount (also a stale mount whose process died)
        unmount --stale [--under DIR]
                                     detach every AgentFS mount whose server died (ENOTCONN);
                                     live mounts are never touched
        mounts [--under DIR]         one JSON line per AgentFS mount on this machine: mount
                                     point, health (alive, stale, unreachable), store,
                                     branches, bound pids
        install-helper [--dir DIR] [--uninstall]
                                     install /sbin/mount.fuse.agentfs, so that 'mount -t
                                     fuse.agentfs SPEC DIR -o OPTS' and fstab lines work
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
        restore SNAP PATH [--branch B]
                                     = branch restore B PATH --from SNAP; B defaults to the
                                     branch the calling shell sees
        diff FROM TO [--patch]       = branch diff FROM TO [--patch]

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
          usage: java -jar agentfs.jar mount [OPTIONS] [-o OPT,OPT...] MOUNTPOINT

          Mounts in the foreground; prints {"event":"mounted",...} once the mount answers and
          {"event":"unmounted",...} after SIGINT/SIGTERM or an external umount, then exits 0.
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
            --max-branches N    at most N branches, main included (default 10000); creating
                                one more fails with EDQUOT
            --max-snapshots N   at most N snapshots (default 100000); one more is EDQUOT
            --max-open-handles N
                                at most N files and directories open at once, across every
                                process and branch (default 1048576); one more open is ENFILE
            --writeback         enable the kernel writeback cache
            --io-uring          serve over FUSE-over-io_uring (falls back where refused)
            --passthrough       kernel passthrough I/O to host files (hostfs; fails if the
                                kernel or backstore cannot do it)
            --allow-other       let other users use the mount
            --read-only         the filesystem refuses every change with EROFS, for good
            --confined-symlinks EPERM for symlinks whose target is absolute or climbs
                                above the mount root from the link's directory
            --clean-stale       unmount a dead mount left at MOUNTPOINT first (default on)
            -o OPTIONS          comma-separated, as mount(8) takes them; the last one wins;
                                an unknown option fails with EINVAL naming it:
              ro, rw            the kernel refuses changes (EROFS); 'mount -o remount,rw'
                                lifts it on the live mount, remount,ro puts it back
              nosuid, nodev     default; suid, dev let set-id bits / device nodes work
              noexec, exec, noatime, atime, relatime, strictatime, nodiratime, diratime,
              lazytime, nolazytime, sync, async, dirsync, nosymfollow, symfollow
                                mount(2) flags, passed to the kernel as they are
              fsname=NAME       the source shown in /proc/mounts (default agentfs)
              subtype=NAME      the type is fuse.NAME (default fuse.agentfs)
              allow_other       let other users use the mount
              default_permissions, no_default_permissions
                                the kernel checks modes first (default on), or leaves all
                                permission checks to AgentFS (single-user mounts only)
              backstore=SPEC, lower=DIR, materialize=MODE, lower_refresh=S, threads=N,
              writeback, passthrough, io_uring, confined_symlinks, max_branches=N,
              max_snapshots=N, max_open_handles=N
                                as the flags above

          automatic checkpoints (snapshots named auto-BRANCH-yyyyMMddTHHmmssZ, UTC):
            --checkpoint-every SECONDS  checkpoint every branch that changed since its last
                                checkpoint, every SECONDS
            --checkpoint-on-exec  checkpoint the branch before each command 'branch exec'
                                runs (unless it did not change)
            --keep-last K       keep the K newest checkpoints of each branch (default 10)
            --keep-hourly H     also keep the newest checkpoint of each of the H most
                                recent hours that have one (default 0); the others are
                                deleted and the storage only they used is freed

          read-only snapshot mounts (writes give EROFS):
            --snapshot NAME     serve snapshot NAME of --backstore (a durable store no other
                                process has open) in the foreground
            --snapshot NAME --mount LIVE
                                have the server of the running mount LIVE mount its
                                snapshot NAME at MOUNTPOINT; returns at once; the mount
                                lasts until 'unmount MOUNTPOINT' or until LIVE's server ends
          """,
      "install-helper", """
          usage: java -jar agentfs.jar install-helper [--dir DIR] [--uninstall]

          Writes the mount(8) helper DIR/mount.fuse.agentfs (default /sbin) with the java
          binary and class path of this run filled in, so that

            mount -t fuse.agentfs hostfs:/srv/agent /mnt/agent -o noatime,threads=4

          and /etc/fstab lines of type fuse.agentfs work: the helper starts 'agentfs mount' in
          the background and returns once the mount answers; 'umount /mnt/agent' ends the
          daemon. --uninstall removes it. A file of that name that is not this helper is left
          alone (EEXIST).
          """,
      "unmount", """
          usage: java -jar agentfs.jar unmount MOUNTPOINT
                 java -jar agentfs.jar unmount --stale [--under DIR]

          Unmounts a FUSE mount, also a stale one whose process died. Exit 1 (EINVAL) when
          MOUNTPOINT is not a FUSE mount.
          With --stale: detaches every AgentFS mount (below DIR) whose server died, each
          checked again (ENOTCONN) right before; a live or hung mount is never touched.
          Prints {"event":"unmounted","mountpoint":P,"stale":true} per mount detached.
          """,
      "mounts", """
          usage: java -jar agentfs.jar mounts [--under DIR]

          Lists the AgentFS mounts (file system type fuse.agentfs) of this mount namespace,
          one JSON object per line:
            mountpoint, health   alive (the server answers), stale (the server died:
                                 ENOTCONN; 'unmount --stale' cleans it up), unreachable
                                 (no answer within 3 s, or statfs failed)
            kind                 mount, export (a branch exported for 'branch exec'),
                                 snapshot (a read-only snapshot mount), unknown
            source, pid          the mount's source and the server's process id
            store, lower         the backstore and the overlay's workspace
            defaultBranch, branches, bound
                                 what unbound processes see, every branch, and the
                                 processes bound to a branch at this mount
            detail               why facts are missing
          The details come from each mount's control file (INFO request).
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
        case "mounts" -> MountsCommand.list(rest, out);
        case "install-helper" -> HelperCommand.run(rest, out);
        case "bench" -> dev.agentfs.examples.bench.BenchCommand.run(rest, out, err);
        case "snapshot" -> {
          return ControlCommands.snapshot(rest, out, env);
        }
        case "branch" -> {
          return ControlCommands.branch(rest, out, env);
        }
        case "restore" -> {
          return ControlCommands.restore(rest, out, env);
        }
        case "diff" -> {
          return ControlCommands.diff("diff", rest, out, env);
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
