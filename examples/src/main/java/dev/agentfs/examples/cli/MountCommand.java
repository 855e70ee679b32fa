package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.CheckpointPolicy;
import dev.agentfs.Feature;
import dev.agentfs.control.ControlChannel;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.spi.MountHandle;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * {@code mount} and {@code unmount}: a foreground FUSE mount that ends cleanly on a signal,
 * optionally with automatic checkpoints, or a read-only mount of one snapshot (served by this
 * process from a store, or by a running mount's server).
 */
final class MountCommand {
  private MountCommand() {}

  static void run(List<String> args, PrintStream out) throws UsageException, AgentFsException {
    run(args, out, ControlCommands.Env.system());
  }

  static void run(List<String> args, PrintStream out, ControlCommands.Env env)
      throws UsageException, AgentFsException {
    MountSpec spec = new MountSpec();
    String mountPoint = null;
    String snapshot = null;
    String live = null;
    long every = 0;
    boolean onExec = false;
    Integer keepLast = null;
    Integer keepHourly = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--snapshot" -> snapshot = value(args, ++i, a);
        case "--mount" -> live = value(args, ++i, a);
        case "--checkpoint-every" -> every = number(value(args, ++i, a), a, 1);
        case "--checkpoint-on-exec" -> onExec = true;
        case "--keep-last" -> keepLast = (int) number(value(args, ++i, a), a, 1);
        case "--keep-hourly" -> keepHourly = (int) number(value(args, ++i, a), a, 0);
        case "--backstore" -> spec.backstore(value(args, ++i, a));
        case "--lower" -> spec.lower(value(args, ++i, a));
        case "--materialize" -> spec.materialize(value(args, ++i, a));
        case "--lower-refresh" -> spec.lowerRefresh(value(args, ++i, a));
        case "--transport" -> spec.transport(value(args, ++i, a));
        case "--threads" -> spec.threads(value(args, ++i, a));
        case "--max-branches" -> spec.limit("max_branches", value(args, ++i, a));
        case "--max-snapshots" -> spec.limit("max_snapshots", value(args, ++i, a));
        case "--max-open-handles" -> spec.limit("max_open_handles", value(args, ++i, a));
        case "-o", "--options" -> spec.options(value(args, ++i, a));
        case "--writeback" -> spec.enable(Feature.WRITEBACK_CACHE);
        case "--io-uring" -> spec.enable(Feature.IO_URING);
        case "--passthrough" -> spec.passthrough();
        case "--allow-other" -> spec.enable(Feature.ALLOW_OTHER);
        case "--read-only" -> spec.enable(Feature.READ_ONLY);
        case "--confined-symlinks" -> spec.enable(Feature.CONFINED_SYMLINKS);
        case "--clean-stale" -> { }
        default -> {
          if (a.startsWith("-o") && a.length() > 2) {
            spec.options(a.substring(2)); // -oro,noatime, as mount(8) also takes it
          } else if (a.startsWith("-") || mountPoint != null) {
            throw new UsageException("unexpected argument '" + a + "'");
          } else {
            mountPoint = a;
          }
        }
      }
    }
    if (mountPoint == null) {
      throw new UsageException("mount needs a MOUNTPOINT");
    }
    if (spec.materializeMode() != null && spec.lowerDir() == null) {
      throw new UsageException("--materialize needs --lower");
    }
    Path mp = Path.of(mountPoint).toAbsolutePath();
    boolean checkpoints = every > 0 || onExec;
    if (!checkpoints && (keepLast != null || keepHourly != null)) {
      throw new UsageException("--keep-last and --keep-hourly need --checkpoint-every or "
          + "--checkpoint-on-exec");
    }
    if (live != null && snapshot == null) {
      throw new UsageException("--mount LIVE goes with --snapshot NAME");
    }
    if (snapshot != null && checkpoints) {
      throw new UsageException("a snapshot mount is read-only: no checkpoints");
    }
    if (live != null && (spec.backstoreSpec() != null || spec.lowerDir() != null)) {
      throw new UsageException("--snapshot with --mount LIVE uses LIVE's store: no --backstore"
          + " or --lower");
    }
    if (live != null) {
      mountSnapshotOf(Path.of(live).toAbsolutePath(), snapshot, mp, out, env);
      return;
    }
    AgentFs.Builder b = spec.builder();
    if (checkpoints) {
      b.checkpoints(new CheckpointPolicy(Duration.ofSeconds(every), onExec,
          keepLast == null ? CheckpointPolicy.OFF.keepLast() : keepLast,
          keepHourly == null ? 0 : keepHourly));
    }
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    Transports.cleanStale(mp);
    try (AgentFs fs = b.open()) {
      MountHandle m = snapshot == null ? fs.mount(mp) : fs.mountSnapshot(snapshot, mp);
      Json ready = Json.event("mounted").put("mountpoint", mp.toString())
          .put("pid", ProcessHandle.current().pid())
          .put("features", List.copyOf(new java.util.TreeSet<>(m.grantedFeatures())));
      if (snapshot != null) {
        ready.put("snapshot", snapshot).put("readOnly", true);
      }
      out.println(ready);
      out.flush();
      try {
        // Also stop when the mount goes away without us (agentfs unmount, umount -l, a
        // killed connection): a process serving nothing must not linger.
        while (!stop.await(250, java.util.concurrent.TimeUnit.MILLISECONDS) && m.isAlive()) {
          // keep serving
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    out.println(Json.event("unmounted").put("mountpoint", mp.toString()));
    out.flush();
  }

  /**
   * {@code mount --snapshot NAME --mount LIVE MOUNTPOINT}: the server of the running mount at
   * LIVE mounts its snapshot at MOUNTPOINT and keeps serving it; this command returns at once.
   */
  private static void mountSnapshotOf(Path live, String snapshot, Path mp, PrintStream out,
      ControlCommands.Env env) throws AgentFsException {
    try (ControlChannel ch = env.connector().open(live)) {
      ch.call(Op.SNAPSHOT_MOUNT, java.util.Map.of("name", snapshot, "path", mp.toString()));
    }
    out.println(Json.event("mounted").put("mountpoint", mp.toString())
        .put("snapshot", snapshot).put("readOnly", true).put("server", live.toString()));
    out.flush();
  }

  private static long number(String v, String flag, long min) throws UsageException {
    try {
      long n = Long.parseLong(v);
      if (n >= min && n <= Integer.MAX_VALUE) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new UsageException(flag + " needs a whole number of at least " + min + ", not '"
        + v + "'");
  }

  static void unmount(List<String> args, PrintStream out) throws UsageException,
      AgentFsException {
    if (!args.isEmpty() && args.get(0).equals("--stale")) {
      MountsCommand.unmountStale(args.subList(1, args.size()), out);
      return;
    }
    if (args.size() != 1) {
      throw new UsageException("unmount needs exactly one MOUNTPOINT");
    }
    Path mp = Path.of(args.get(0)).toAbsolutePath();
    Transports.unmount(mp);
    out.println(Json.event("unmounted").put("mountpoint", mp.toString()));
  }

  private static String value(List<String> args, int i, String flag) throws UsageException {
    if (i >= args.size()) {
      throw new UsageException(flag + " needs a value");
    }
    return args.get(i);
  }
}
