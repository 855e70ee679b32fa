package dev.agentfs;

import java.time.Instant;

/**
 * An immutable, named picture of a branch at one instant. Taking one is O(1); nothing done
 * later in any branch changes what it shows. New writable branches start from snapshots.
 *
 * @since 0.1
 */
public record Snapshot(String name, String branch, long createdNs) {
  public Instant createdAt() {
    return Instant.ofEpochSecond(0, createdNs);
  }
}
