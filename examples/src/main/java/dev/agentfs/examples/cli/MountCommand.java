package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Feature;
import dev.agentfs.spi.MountHandle;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/** {@code mount} and {@code unmount}: a foreground FUSE mount that ends cleanly on a signal. */
final class MountCommand {
  private MountCommand() {}

  static void run(List<String> args, PrintStream out) throws UsageException, AgentFsException {
    MountSpec spec = new MountSpec();
    String mountPoint = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--backstore" -> spec.backstore(value(args, ++i, a));
        case "--lower" -> spec.lower(value(args, ++i, a));
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
    AgentFs.Builder b = spec.builder();
    Path mp = Path.of(mountPoint).toAbsolutePath();
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    Transports.cleanStale(mp);
    try (AgentFs fs = b.build()) {
      MountHandle m = fs.mount(mp);
      out.println(Json.event("mounted").put("mountpoint", mp.toString())
          .put("pid", ProcessHandle.current().pid())
          .put("features", List.copyOf(new java.util.TreeSet<>(m.grantedFeatures()))));
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

  static void unmount(List<String> args, PrintStream out) throws UsageException,
      AgentFsException {
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
