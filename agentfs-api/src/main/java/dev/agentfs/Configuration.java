package dev.agentfs;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The immutable settings of one AgentFs instance and its mounts: transport, worker threads,
 * kernel cache timeouts, passthrough and the {@link Feature} set. Built with {@link #builder()}
 * or changed with {@link #toBuilder()}; every setter checks its argument, and {@link
 * Builder#build()} rejects combinations the kernel would refuse, with a message that says why.
 *
 * @since 0.1
 */
public final class Configuration {
  /**
   * The defaults: kernel transport, root bypass and kernel permission checks on, kernel
   * entry and attribute caches of one hour (kept exact by invalidation notices), passthrough
   * off.
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
  private final int maxBackground;
  private final int congestionThreshold;
  private final long maxWrite;
  private final Duration lowerRefresh;

  private Configuration(Builder b) {
    this.transport = b.transport;
    this.threads = b.threads;
    this.entryTimeout = b.entryTimeout;
    this.attrTimeout = b.attrTimeout;
    this.negativeTimeout = b.negativeTimeout;
    this.passthrough = b.passthrough;
    this.features = Set.copyOf(b.features);
    this.fsName = b.fsName;
    this.maxBackground = b.maxBackground;
    this.congestionThreshold = b.congestionThreshold;
    this.maxWrite = b.maxWrite;
    this.lowerRefresh = b.lowerRefresh;
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
    b.maxBackground = maxBackground;
    b.congestionThreshold = congestionThreshold;
    b.maxWrite = maxWrite;
    b.lowerRefresh = lowerRefresh;
    return b;
  }

  @Override
  public String toString() {
    return "Configuration{transport=" + transport + ", threads=" + threads + ", passthrough="
        + passthrough + ", features=" + features + ", entryTimeout=" + entryTimeout
        + ", attrTimeout=" + attrTimeout + "}";
  }

  /** Collects settings; not thread-safe; {@link #build()} validates and freezes them. */
  public static final class Builder {
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
    private int maxBackground = 64;
    private int congestionThreshold = 48;
    private long maxWrite = 1 << 20;
    private Duration lowerRefresh = Duration.ofSeconds(1);

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

    public Configuration build() {
      if (passthrough != Passthrough.OFF && features.contains(Feature.WRITEBACK_CACHE)) {
        throw new IllegalArgumentException(
            "passthrough and WRITEBACK_CACHE cannot be combined: the kernel refuses "
                + "FUSE_PASSTHROUGH when the writeback cache is enabled");
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
