package dev.agentfs.fuse.session;

import dev.agentfs.fuse.protocol.InitFlag;
import java.time.Duration;
import java.util.Objects;

/**
 * Transport-level choices for one mount that are not filesystem configuration: whether a dead
 * ("Transport endpoint is not connected") mount left at the mount point by a crashed process
 * is detached first, how long {@code close()} waits for workers before aborting the
 * connection, and how the mount is made (mount(2), the {@code fusermount3} helper, or the
 * first of the two that works). For tests and diagnosis it can also hide INIT capabilities
 * the kernel offers, so that a real mount runs as it would on a kernel without them.
 *
 * @param cleanStale lazily unmount a stale FUSE mount found at the mount point
 * @param closeTimeout how long close waits for each shutdown step
 * @param method how the connection is mounted
 * @param hiddenInitFlags {@link InitFlag} bits removed from the kernel's FUSE_INIT offer before
 *     negotiating: what is hidden is never granted (0: hide nothing)
 *
 * @since 0.1
 */
public record MountOptions(boolean cleanStale, Duration closeTimeout, MountMethod method,
    long hiddenInitFlags) {
  public MountOptions {
    Objects.requireNonNull(closeTimeout, "closeTimeout");
    Objects.requireNonNull(method, "method");
    if (closeTimeout.isNegative() || closeTimeout.isZero()) {
      throw new IllegalArgumentException("closeTimeout must be positive: " + closeTimeout);
    }
  }

  /** Hiding no INIT capability. */
  public MountOptions(boolean cleanStale, Duration closeTimeout, MountMethod method) {
    this(cleanStale, closeTimeout, method, 0);
  }

  /** With the {@link MountMethod#AUTO automatic} mount method. */
  public MountOptions(boolean cleanStale, Duration closeTimeout) {
    this(cleanStale, closeTimeout, MountMethod.AUTO);
  }

  /** No stale cleanup, 10 s close steps, automatic mount method, nothing hidden. */
  public static MountOptions defaults() {
    return new MountOptions(false, Duration.ofSeconds(10), MountMethod.AUTO, 0);
  }

  public MountOptions withCleanStale(boolean clean) {
    return new MountOptions(clean, closeTimeout, method, hiddenInitFlags);
  }

  public MountOptions withMethod(MountMethod m) {
    return new MountOptions(cleanStale, closeTimeout, m, hiddenInitFlags);
  }

  /** Negotiates as if the kernel had not offered {@code flags}. */
  public MountOptions withHiddenInitFlags(InitFlag... flags) {
    return new MountOptions(cleanStale, closeTimeout, method, InitFlag.maskOf(flags));
  }
}
