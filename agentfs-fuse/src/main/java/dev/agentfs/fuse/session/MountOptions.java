package dev.agentfs.fuse.session;

import java.time.Duration;
import java.util.Objects;

/**
 * Transport-level choices for one mount that are not filesystem configuration: whether a dead
 * ("Transport endpoint is not connected") mount left at the mount point by a crashed process
 * is detached first, and how long {@code close()} waits for workers before aborting the
 * connection.
 *
 * @param cleanStale lazily unmount a stale FUSE mount found at the mount point
 * @param closeTimeout how long close waits for each shutdown step
 *
 * @since 0.1
 */
public record MountOptions(boolean cleanStale, Duration closeTimeout) {
  public MountOptions {
    Objects.requireNonNull(closeTimeout, "closeTimeout");
    if (closeTimeout.isNegative() || closeTimeout.isZero()) {
      throw new IllegalArgumentException("closeTimeout must be positive: " + closeTimeout);
    }
  }

  /** No stale cleanup, 10 s close steps. */
  public static MountOptions defaults() {
    return new MountOptions(false, Duration.ofSeconds(10));
  }

  public MountOptions withCleanStale(boolean clean) {
    return new MountOptions(clean, closeTimeout);
  }
}
