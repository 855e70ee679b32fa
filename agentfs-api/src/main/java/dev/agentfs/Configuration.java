package dev.agentfs;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The immutable settings of one AgentFs instance and its mounts: transport, worker threads,
 * kernel cache timeouts, passthrough, the {@link Feature} set, and the limits on branches,
 * snapshots and open handles. Built with {@link #builder()}
 * or changed with {@link #toBuilder()}; every setter checks its argument, and {@link
 * Builder#build()} rejects combinations the kernel would refuse, with a message that says why.
 *
 * @since 0.1
 */
public final class Configuration {
  /**
   * The defaults: kernel transport, root bypass and kernel permission checks on, kernel
   * entry and attribute caches of one hour (kept exact by invalidation notices), passthrough
   * off, at most {@value Builder#DEFAULT_MAX_BRANCHES} branches, {@value
   * Builder#DEFAULT_MAX_SNAPSHOTS} snapshots and {@value Builder#DEFAULT_MAX_OPEN_HANDLES} open
   * handles.
   */
  public static Configuration defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  private final String transport;
  private final int threads;
  private final Duration entryTimeout;
  private final Duration attrTimeout;
  private final Duration negativeTimeout;
  private final Passthrough passthrough;
  private final Set<Feature> features;
  private final String fsName;
  private final String subtype;
  private final Set<MountFlag> mountFlags;
  private final int maxBackground;
  private final int congestionThreshold;
  private final long maxWrite;
  private final Duration lowerRefresh;
  private final int maxBranches;
  private final int maxSnapshots;
  private final int maxOpenHandles;
  private final CheckpointPolicy checkpoints;

  private Configuration(Builder b) {
    this.transport = b.transport;
    this.threads = b.threads;
    this.entryTimeout = b.entryTimeout;
    this.attrTimeout = b.attrTimeout;
    this.negativeTimeout = b.negativeTimeout;
    this.passthrough = b.passthrough;
    this.features = Set.copyOf(b.features);
    this.fsName = b.fsName;
    this.subtype = b.subtype;
    this.mountFlags = Set.copyOf(b.mountFlags);
    this.maxBackground = b.maxBackground;
    this.congestionThreshold = b.congestionThreshold;
    this.maxWrite = b.maxWrite;
    this.lowerRefresh = b.lowerRefresh;
    this.maxBranches = b.maxBranches;
    this.maxSnapshots = b.maxSnapshots;
    this.maxOpenHandles = b.maxOpenHandles;
    this.checkpoints = b.checkpoints;
  }

  /** Transport name: "kernel" (direct /dev/fuse protocol) or "jnr" (jnr-fuse, libfuse2). */
  public String transport() {
    return transport;
  }

  /** Worker threads, each with its own cloned /dev/fuse descriptor. */
  public int threads() {
    return threads;
  }

  public Duration entryTimeout() {
    return entryTimeout;
  }

  public Duration attrTimeout() {
    return attrTimeout;
  }

  public Duration negativeTimeout() {
    return negativeTimeout;
  }

  public Passthrough passthrough() {
    return passthrough;
  }

  public Set<Feature> features() {
    return features;
  }

  public boolean has(Feature f) {
    return features.contains(f);
  }

  public String fsName() {
    return fsName;
  }

  /** The FUSE subtype: the mount shows as {@code fuse.SUBTYPE} in /proc/mounts. */
  public String subtype() {
    return subtype;
  }

  /** The VFS mount flags passed to the kernel as they are (noatime, ro, noexec, ...). */
  public Set<MountFlag> mountFlags() {
    return mountFlags;
  }

  public boolean has(MountFlag f) {
    return mountFlags.contains(f);
  }

  public int maxBackground() {
    return maxBackground;
  }

  public int congestionThreshold() {
    return congestionThreshold;
  }

  /** The largest WRITE the kernel may send, in bytes (clamped to the kernel's limit). */
  public long maxWrite() {
    return maxWrite;
  }

  /** Overlay: how often untouched lower entries are compared with the host again. */
  public Duration lowerRefresh() {
    return lowerRefresh;
  }

  /** {@link #lowerRefresh()} in nanoseconds, {@link Long#MAX_VALUE} for never. */
  public long lowerRefreshNanos() {
    try {
      return lowerRefresh.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * The most branches that may exist at once, the default branch included; creating one more
   * fails with {@link Errno#EDQUOT}.
   */
  public int maxBranches() {
    return maxBranches;
  }

  /** The most snapshots that may exist at once; taking one more fails with EDQUOT. */
  public int maxSnapshots() {
    return maxSnapshots;
  }

  /**
   * The most files and directories that may be open at once, counted across every branch,
   * mount, process and the Java API; one more open fails with {@link Errno#ENFILE}.
   */
  public int maxOpenHandles() {
    return maxOpenHandles;
  }

  /** Automatic checkpoints and their retention ({@link CheckpointPolicy#OFF} by default). */
  public CheckpointPolicy checkpoints() {
    return checkpoints;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.transport = transport;
    b.threads = threads;
    b.entryTimeout = entryTimeout;
    b.attrTimeout = attrTimeout;
    b.negativeTimeout = negativeTimeout;
    b.passthrough = passthrough;
    b.features = EnumSet.noneOf(Feature.class);
    b.features.addAll(features);
    b.fsName = fsName;
    b.subtype = subtype;
    b.mountFlags = mountFlags.isEmpty() ? EnumSet.noneOf(MountFlag.class)
        : EnumSet.copyOf(mountFlags);
    b.maxBackground = maxBackground;
    b.congestionThreshold = congestionThreshold;
    b.maxWrite = maxWrite;
    b.lowerRefresh = lowerRefresh;
    b.maxBranches = maxBranches;
    b.maxSnapshots = maxSnapshots;
    b.maxOpenHandles = maxOpenHandles;
    b.checkpoints = checkpoints;
    return b;
  }

  @Override
  public String toString() {
    return "Configuration{transport=" + transport + ", threads=" + threads + ", passthrough="
        + passthrough + ", features=" + features + ", entryTimeout=" + entryTimeout
        + ", attrTimeout=" + attrTimeout + ", mountFlags=" + mountFlags + ", maxBranches="
        + maxBranches + ", maxSnapshots=" + maxSnapshots + ", maxOpenHandles=" + maxOpenHandles
        + "}";
  }

  /** Collects settings; not thread-safe; {@link #build()} validates and freezes them. */
  public static final class Builder {
    /**
     * Below the 16,382 branches one mount can route (node ids carry the branch in 14 bits), so
     * every branch that exists can be reached through a single mount.
     */
    public static final int DEFAULT_MAX_BRANCHES = 10_000;

    /**
     * A snapshot costs a root pointer and a name until its tree diverges, so the bound is about
     * listings and the garbage collector's walk (every snapshot is a root), not memory.
     */
    public static final int DEFAULT_MAX_SNAPSHOTS = 100_000;

    /**
     * Linux's default fs.nr_open, the most descriptors one process can be allowed: no single
     * process hits this before its own limit, while a leak across many processes stops at
     * roughly 100 MB of handle state instead of exhausting the heap.
     */
    public static final int DEFAULT_MAX_OPEN_HANDLES = 1 << 20;

    private String transport = "kernel";
    private int threads = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
    // Long kernel caches are safe: every change the kernel did not make itself (Java API,
    // another mount of the branch, a commit) is pushed to it as an invalidation notice.
    private Duration entryTimeout = Duration.ofHours(1);
    private Duration attrTimeout = Duration.ofHours(1);
    private Duration negativeTimeout = Duration.ofHours(1);
    private Passthrough passthrough = Passthrough.OFF;
    private EnumSet<Feature> features = EnumSet.of(Feature.ROOT_BYPASS, Feature.DEFAULT_PERMISSIONS);
    private String fsName = "agentfs";
    private String subtype = "agentfs";
    private EnumSet<MountFlag> mountFlags = EnumSet.noneOf(MountFlag.class);
    private int maxBackground = 64;
    private int congestionThreshold = 48;
    private long maxWrite = 1 << 20;
    private Duration lowerRefresh = Duration.ofSeconds(1);
    private int maxBranches = DEFAULT_MAX_BRANCHES;
    private int maxSnapshots = DEFAULT_MAX_SNAPSHOTS;
    private int maxOpenHandles = DEFAULT_MAX_OPEN_HANDLES;
    private CheckpointPolicy checkpoints = CheckpointPolicy.OFF;

    private Builder() {}

    public Builder transport(String name) {
      this.transport = requireText(name, "transport");
      return this;
    }

    public Builder threads(int n) {
      if (n < 1 || n > 256) {
        throw new IllegalArgumentException("threads must be 1..256, got " + n);
      }
      this.threads = n;
      return this;
    }

    public Builder entryTimeout(Duration d) {
      this.entryTimeout = nonNegative(d, "entryTimeout");
      return this;
    }

    public Builder attrTimeout(Duration d) {
      this.attrTimeout = nonNegative(d, "attrTimeout");
      return this;
    }

    /**
     * How long the kernel may remember that a name does not exist (default one hour, like
     * entries): tools probe many absent names (.gitignore files, module search paths), and
     * a name that appears through the API, a reset or another mount is invalidated at once.
     */
    public Builder negativeTimeout(Duration d) {
      this.negativeTimeout = nonNegative(d, "negativeTimeout");
      return this;
    }

    public Builder passthrough(Passthrough p) {
      this.passthrough = Objects.requireNonNull(p, "passthrough");
      return this;
    }

    public Builder features(Set<Feature> fs) {
      this.features = fs.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(fs);
      return this;
    }

    public Builder enable(Feature... fs) {
      for (Feature f : fs) {
        features.add(Objects.requireNonNull(f));
      }
      return this;
    }

    public Builder disable(Feature... fs) {
      for (Feature f : fs) {
        features.remove(Objects.requireNonNull(f));
      }
      return this;
    }

    public Builder fsName(String name) {
      String n = requireText(name, "fsName");
      if (n.contains(",") || n.contains("=")) {
        throw new IllegalArgumentException("fsName may not contain ',' or '=': " + n);
      }
      this.fsName = n;
      return this;
    }

    /** The FUSE subtype (default {@code agentfs}): letters, digits, '_', '-' and '.'. */
    public Builder subtype(String name) {
      String n = requireText(name, "subtype");
      if (!n.matches("[A-Za-z0-9_.-]+")) {
        throw new IllegalArgumentException(
            "subtype may hold only letters, digits, '_', '-' and '.': " + n);
      }
      this.subtype = n;
      return this;
    }

    /** Replaces the set of {@link MountFlag}s (default: none). */
    public Builder mountFlags(Set<MountFlag> flags) {
      this.mountFlags = flags.isEmpty() ? EnumSet.noneOf(MountFlag.class)
          : EnumSet.copyOf(flags);
      return this;
    }

    /** Adds {@link MountFlag}s. */
    public Builder mountFlag(MountFlag... flags) {
      for (MountFlag f : flags) {
        mountFlags.add(Objects.requireNonNull(f));
      }
      return this;
    }

    public Builder maxBackground(int n) {
      if (n < 1 || n > 65535) {
        throw new IllegalArgumentException("maxBackground must be 1..65535, got " + n);
      }
      this.maxBackground = n;
      return this;
    }

    public Builder congestionThreshold(int n) {
      if (n < 1 || n > 65535) {
        throw new IllegalArgumentException("congestionThreshold must be 1..65535, got " + n);
      }
      this.congestionThreshold = n;
      return this;
    }

    public Builder maxWrite(long bytes) {
      if (bytes < 4096 || bytes > (16L << 20)) {
        throw new IllegalArgumentException("maxWrite must be 4 KiB..16 MiB, got " + bytes);
      }
      this.maxWrite = bytes;
      return this;
    }

    /**
     * Overlay: an untouched lower entry (one the branch never changed) is compared with the
     * host again when it is used and this long has passed since the last comparison (default
     * one second; {@link Duration#ZERO} compares on every use). A lower directory whose
     * mtime or ctime moved is listed again, a file whose times moved takes the host's
     * attributes. The kernel caches such entries no longer than this either, so changes made
     * in the workspace show through the mount within about this interval. Entries the branch
     * changed (copied up) never follow the lower again. {@code
     * ChronoUnit.FOREVER.getDuration()} reads each lower entry once, with full kernel caching.
     */
    public Builder lowerRefresh(Duration d) {
      this.lowerRefresh = nonNegative(d, "lowerRefresh");
      return this;
    }

    /** At least 1: the default branch always exists. */
    public Builder maxBranches(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxBranches must be at least 1 (the default branch),"
            + " got " + n);
      }
      this.maxBranches = n;
      return this;
    }

    /** 0 allows no snapshot (and so no branch made from one). */
    public Builder maxSnapshots(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxSnapshots must not be negative, got " + n);
      }
      this.maxSnapshots = n;
      return this;
    }

    public Builder maxOpenHandles(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxOpenHandles must be at least 1, got " + n);
      }
      this.maxOpenHandles = n;
      return this;
    }

    /** Snapshots branches automatically and prunes them by a retention policy. */
    public Builder checkpoints(CheckpointPolicy p) {
      this.checkpoints = Objects.requireNonNull(p, "checkpoints");
      return this;
    }

    public Configuration build() {
      if (passthrough != Passthrough.OFF && features.contains(Feature.WRITEBACK_CACHE)) {
        throw new IllegalArgumentException(
            "passthrough and WRITEBACK_CACHE cannot be combined: the kernel refuses "
                + "FUSE_PASSTHROUGH when the writeback cache is enabled");
      }
      int atime = (mountFlags.contains(MountFlag.NOATIME) ? 1 : 0)
          + (mountFlags.contains(MountFlag.RELATIME) ? 1 : 0)
          + (mountFlags.contains(MountFlag.STRICTATIME) ? 1 : 0);
      if (atime > 1) {
        throw new IllegalArgumentException("at most one of the mount flags NOATIME, RELATIME "
            + "and STRICTATIME: they choose one access-time policy, got " + mountFlags);
      }
      if (congestionThreshold > maxBackground) {
        throw new IllegalArgumentException("congestionThreshold (" + congestionThreshold
            + ") must not exceed maxBackground (" + maxBackground + ")");
      }
      return new Configuration(this);
    }

    private static String requireText(String s, String what) {
      Objects.requireNonNull(s, what);
      if (s.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank");
      }
      return s;
    }

    private static Duration nonNegative(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " must not be negative: " + d);
      }
      return d;
    }
  }
}
