package dev.agentfs.fuse.session;

import java.time.Duration;
import java.util.Objects;

/**
 * Transport-level choices for one mount that are not filesystem configuration: whether a dead
 * ("Transport endpoint is not connected") mount left at the mount point by a crashed process
 * is detached first, how long {@code close()} waits for workers before aborting the
 * connection, and how the mount is made (mount(2), the {@code fusermount3} helper, or the
 * first of the two that works).
 *
 * @param cleanStale lazily unmount a stale FUSE mount found at the mount point
 * @param closeTimeout how long close waits for each shutdown step
 * @param method how the connection is mounted
 *
 * @since 0.1
 */
public record MountOptions(boolean cleanStale, Duration closeTimeout, MountMethod method) {
  public MountOptions {
    Objects.requireNonNull(closeTimeout, "closeTimeout");
    Objects.requireNonNull(method, "method");
    if (closeTimeout.isNegative() || closeTimeout.isZero()) {
      throw new IllegalArgumentException("closeTimeout must be positive: " + closeTimeout);
    }
  }

  /** With the {@link MountMethod#AUTO automatic} mount method. */
  public MountOptions(boolean cleanStale, Duration closeTimeout) {
    this(cleanStale, closeTimeout, MountMethod.AUTO);
  }

  /** No stale cleanup, 10 s close steps, automatic mount method. */
  public static MountOptions defaults() {
    return new MountOptions(false, Duration.ofSeconds(10), MountMethod.AUTO);
  }

  public MountOptions withCleanStale(boolean clean) {
    return new MountOptions(clean, closeTimeout, method);
  }

  public MountOptions withMethod(MountMethod m) {
    return new MountOptions(cleanStale, closeTimeout, m);
  }
}
