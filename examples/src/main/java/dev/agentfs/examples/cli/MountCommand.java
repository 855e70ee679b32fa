package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Backstores;
import dev.agentfs.Feature;
import dev.agentfs.Materialize;
import dev.agentfs.spi.MountHandle;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/** {@code mount} and {@code unmount}: a foreground FUSE mount that ends cleanly on a signal. */
final class MountCommand {
  private MountCommand() {}

  static void run(List<String> args, PrintStream out) throws UsageException, AgentFsException {
    AgentFs.Builder b = AgentFs.builder();
    String mountPoint = null;
    Path lower = null;
    Materialize materialize = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--backstore" -> b.backstore(Backstores.open(value(args, ++i, a)));
        case "--lower" -> {
          lower = Path.of(value(args, ++i, a));
          if (!java.nio.file.Files.isDirectory(lower)) {
            throw new AgentFsException(dev.agentfs.Errno.ENOTDIR, lower.toString(), null,
                "--lower must name a directory");
          }
        }
        case "--materialize" -> materialize = materialize(value(args, ++i, a));
        case "--lower-refresh" -> b.lowerRefresh(refresh(value(args, ++i, a)));
        case "--transport" -> {
          String t = value(args, ++i, a);
          if (!t.equals("kernel") && !t.equals("jnr")) {
            throw new UsageException("--transport is kernel or jnr, not '" + t + "'");
          }
          b.transport(t);
        }
        case "--threads" -> {
          try {
            b.threads(Integer.parseInt(value(args, ++i, a)));
          } catch (IllegalArgumentException e) {
            throw new UsageException("--threads: " + e.getMessage());
          }
        }
        case "--writeback" -> b.enable(Feature.WRITEBACK_CACHE);
        case "--io-uring" -> b.enable(Feature.IO_URING);
        case "--passthrough" -> b.passthrough(dev.agentfs.Passthrough.REQUIRED);
        case "--allow-other" -> b.enable(Feature.ALLOW_OTHER);
        case "--read-only" -> b.enable(Feature.READ_ONLY);
        case "--clean-stale" -> { }
        default -> {
          if (a.startsWith("-") || mountPoint != null) {
            throw new UsageException("unexpected argument '" + a + "'");
          }
          mountPoint = a;
        }
      }
    }
    if (mountPoint == null) {
      throw new UsageException("mount needs a MOUNTPOINT");
    }
    if (lower != null) {
      b.lower(lower, materialize == null ? Materialize.LAZY : materialize);
    } else if (materialize != null) {
      throw new UsageException("--materialize needs --lower");
    }
    Path mp = Path.of(mountPoint).toAbsolutePath();
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    Transports.cleanStale(mp);
    try (AgentFs fs = b.open()) {
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

  private static Materialize materialize(String v) throws UsageException {
    return switch (v) {
      case "lazy" -> Materialize.LAZY;
      case "eager" -> Materialize.EAGER;
      case "clone" -> Materialize.CLONE;
      default -> throw new UsageException("--materialize is lazy, eager or clone, not '" + v
          + "'");
    };
  }

  /** SECONDS (a decimal, 0 = on every use) or "never". */
  private static Duration refresh(String v) throws UsageException {
    if (v.equals("never")) {
      return ChronoUnit.FOREVER.getDuration();
    }
    try {
      BigDecimal s = new BigDecimal(v);
      if (s.signum() < 0) {
        throw new NumberFormatException();
      }
      return Duration.ofNanos(s.movePointRight(9).longValueExact());
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("--lower-refresh is SECONDS (e.g. 1, 0.5, 0) or never, not '"
          + v + "'");
    }
  }

  private static String value(List<String> args, int i, String flag) throws UsageException {
    if (i >= args.size()) {
      throw new UsageException(flag + " needs a value");
    }
    return args.get(i);
  }
}
