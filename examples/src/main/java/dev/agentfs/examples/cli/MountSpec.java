package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Backstores;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.Materialize;
import dev.agentfs.MountFlag;
import dev.agentfs.Passthrough;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What one {@code mount} command asks for, collected from its flags and from comma-separated
 * {@code -o} options in the form mount(8) uses, before anything is opened. Later settings
 * override earlier ones, as in mount(8) ({@code -o ro,rw} is rw). An option that is not known
 * fails with EINVAL naming it, rather than being ignored: a typo in an fstab line must not
 * silently mount something else than was meant.
 */
final class MountSpec {
  /** The access-time policies: one of them holds, the last one named. */
  private static final Set<String> ATIME = Set.of("atime", "noatime", "relatime",
      "strictatime");

  private @Nullable String backstore;
  private @Nullable Path lower;
  private @Nullable Materialize materialize;
  private final Configuration.Builder config = Configuration.builder();
  private final EnumSet<MountFlag> flags = EnumSet.noneOf(MountFlag.class);
  private @Nullable MountFlag atime;
  private boolean suid;
  private boolean dev;

  /** {@code --backstore SPEC} or {@code backstore=SPEC}. */
  void backstore(String spec) throws AgentFsException {
    if (spec.isBlank()) {
      throw new AgentFsException(Errno.EINVAL, null, null, "backstore needs a SPEC");
    }
    backstore = spec;
  }

  /** {@code --lower DIR} or {@code lower=DIR}: must be a directory now. */
  void lower(String dir) throws AgentFsException {
    Path p = Path.of(dir);
    if (!Files.isDirectory(p)) {
      throw new AgentFsException(Errno.ENOTDIR, dir, null, "lower must name a directory");
    }
    lower = p;
  }

  /** {@code --materialize MODE} or {@code materialize=MODE}: lazy, eager or clone. */
  void materialize(String v) throws UsageException {
    materialize = switch (v) {
      case "lazy" -> Materialize.LAZY;
      case "eager" -> Materialize.EAGER;
      case "clone" -> Materialize.CLONE;
      default -> throw new UsageException("--materialize is lazy, eager or clone, not '" + v
          + "'");
    };
  }

  /**
   * {@code --lower-refresh S} or {@code lower_refresh=S}: SECONDS (a decimal, 0 = on every
   * use) or "never".
   */
  void lowerRefresh(String v) throws UsageException {
    if (v.equals("never")) {
      config.lowerRefresh(ChronoUnit.FOREVER.getDuration());
      return;
    }
    try {
      BigDecimal s = new BigDecimal(v);
      if (s.signum() < 0) {
        throw new NumberFormatException();
      }
      config.lowerRefresh(Duration.ofNanos(s.movePointRight(9).longValueExact()));
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("--lower-refresh is SECONDS (e.g. 1, 0.5, 0) or never, not '"
          + v + "'");
    }
  }

  void transport(String t) throws UsageException {
    if (!t.equals("kernel") && !t.equals("jnr")) {
      throw new UsageException("--transport is kernel or jnr, not '" + t + "'");
    }
    config.transport(t);
  }

  /** {@code threads=N}: FUSE worker threads, 1..256. */
  void threads(String n) throws AgentFsException {
    try {
      config.threads(Integer.parseInt(n.trim()));
    } catch (IllegalArgumentException e) {
      throw new AgentFsException(Errno.EINVAL, null, null, "threads=" + n + ": "
          + e.getMessage());
    }
  }

  /**
   * {@code max_branches=N}, {@code max_snapshots=N}, {@code max_open_handles=N} (and the
   * {@code --max-*} flags): the core's limits; EINVAL for what is not a number it accepts.
   */
  void limit(String key, String n) throws AgentFsException {
    String o = key + "=" + n;
    int v;
    try {
      v = Integer.parseInt(n.trim());
    } catch (NumberFormatException e) {
      throw new AgentFsException(Errno.EINVAL, null, null, o + ": not a number");
    }
    named(o, () -> {
      switch (key) {
        case "max_branches" -> config.maxBranches(v);
        case "max_snapshots" -> config.maxSnapshots(v);
        default -> config.maxOpenHandles(v);
      }
    });
  }

  void enable(Feature f) {
    config.enable(f);
  }

  void passthrough() {
    config.passthrough(Passthrough.REQUIRED);
  }

  /** Applies every element of one comma-separated {@code -o} list, in order. */
  void options(String list) throws AgentFsException {
    for (String o : list.split(",", -1)) {
      if (!o.isEmpty()) {
        option(o);
      }
    }
  }

  /** One {@code -o} element; EINVAL naming it when it is not a known option. */
  void option(String o) throws AgentFsException {
    int eq = o.indexOf('=');
    String key = eq < 0 ? o : o.substring(0, eq);
    @Nullable String value = eq < 0 ? null : o.substring(eq + 1);
    if (value != null) {
      switch (key) {
        case "backstore" -> backstore(value);
        case "lower" -> lower(value);
        case "materialize", "lower_refresh" -> {
          try {
            if (key.equals("materialize")) {
              materialize(value);
            } else {
              lowerRefresh(value);
            }
          } catch (UsageException e) {
            throw new AgentFsException(Errno.EINVAL, null, null, o + ": " + e.getMessage());
          }
        }
        case "threads" -> threads(value);
        case "max_branches", "max_snapshots", "max_open_handles" -> limit(key, value);
        case "fsname" -> named(o, () -> config.fsName(value));
        case "subtype" -> named(o, () -> config.subtype(value));
        default -> throw unknown(o);
      }
      return;
    }
    switch (key) {
      case "ro" -> flags.add(MountFlag.RDONLY);
      case "rw" -> flags.remove(MountFlag.RDONLY);
      case "suid" -> suid = true;
      case "nosuid" -> suid = false;
      case "dev" -> dev = true;
      case "nodev" -> dev = false;
      case "allow_other" -> config.enable(Feature.ALLOW_OTHER);
      case "default_permissions" -> config.enable(Feature.DEFAULT_PERMISSIONS);
      case "no_default_permissions" -> config.disable(Feature.DEFAULT_PERMISSIONS);
      case "passthrough" -> config.passthrough(Passthrough.REQUIRED);
      case "writeback" -> config.enable(Feature.WRITEBACK_CACHE);
      case "io_uring" -> config.enable(Feature.IO_URING);
      case "confined_symlinks" -> config.enable(Feature.CONFINED_SYMLINKS);
      default -> flag(o);
    }
  }

  /** The mount(2) flags: each one and its negation (exec, async, diratime, ...). */
  private void flag(String o) throws AgentFsException {
    if (ATIME.contains(o)) {
      atime = o.equals("atime") ? null : MountFlag.ofOption(o);
      return;
    }
    MountFlag on = MountFlag.ofOption(o);
    if (on != null && on != MountFlag.RDONLY && on != MountFlag.NOSUID
        && on != MountFlag.NODEV) {
      flags.add(on);
      return;
    }
    MountFlag off = switch (o) {
      case "exec" -> MountFlag.NOEXEC;
      case "async" -> MountFlag.SYNCHRONOUS;
      case "diratime" -> MountFlag.NODIRATIME;
      case "nolazytime" -> MountFlag.LAZYTIME;
      case "symfollow" -> MountFlag.NOSYMFOLLOW;
      default -> null;
    };
    if (off == null) {
      throw unknown(o);
    }
    flags.remove(off);
  }

  private interface Setter {
    void set();
  }

  private static void named(String o, Setter s) throws AgentFsException {
    try {
      s.set();
    } catch (IllegalArgumentException e) {
      throw new AgentFsException(Errno.EINVAL, null, null, o + ": " + e.getMessage());
    }
  }

  private static AgentFsException unknown(String o) {
    return new AgentFsException(Errno.EINVAL, null, null, "unknown mount option '" + o + "'");
  }

  /** The AgentFs builder for all of it: opens the backstore, checks combinations (EINVAL). */
  AgentFs.Builder builder() throws AgentFsException {
    AgentFs.Builder b = AgentFs.builder().configuration(configuration());
    if (lower != null) {
      b.lower(lower, materialize == null ? Materialize.LAZY : materialize);
    } else if (materialize != null) {
      throw new AgentFsException(Errno.EINVAL, null, null, "materialize needs lower");
    }
    if (backstore != null) {
      b.backstore(Backstores.open(backstore));
    }
    return b;
  }

  /** The configuration asked for; EINVAL for a combination it cannot have. */
  Configuration configuration() throws AgentFsException {
    EnumSet<MountFlag> f = EnumSet.noneOf(MountFlag.class);
    f.addAll(flags);
    if (atime != null) {
      f.add(atime);
    }
    if (suid || dev) {
      // Our default is nosuid,nodev; either one asked for lifts that default for itself only.
      config.enable(Feature.SUID_DEV);
      if (!suid) {
        f.add(MountFlag.NOSUID);
      }
      if (!dev) {
        f.add(MountFlag.NODEV);
      }
    } else {
      config.disable(Feature.SUID_DEV);
    }
    try {
      return config.mountFlags(f).build();
    } catch (IllegalArgumentException e) {
      throw new AgentFsException(Errno.EINVAL, null, null, e.getMessage());
    }
  }

  @Nullable String backstoreSpec() {
    return backstore;
  }

  @Nullable Path lowerDir() {
    return lower;
  }

  @Nullable Materialize materializeMode() {
    return materialize;
  }
}
