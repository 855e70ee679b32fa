package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A counted, bounded resource of one filesystem (branches, snapshots, open handles): taking a
 * slot past the limit fails with the resource's errno before anything is created, so a refused
 * request changes nothing. Slots taken while replaying the journal are counted but never
 * refused: a store written under a higher limit must still open, and then refuses new ones
 * until enough are given back. Lock-free; thread-safe.
 */
final class Slots {
  private final String what;
  private final long max;
  private final Errno errno;
  private final String setting;
  private final AtomicLong used = new AtomicLong();

  /**
   * @param what the plural noun for messages ("open handles")
   * @param setting the {@code Configuration} setting that raises the limit
   */
  Slots(String what, long max, Errno errno, String setting) {
    this.what = what;
    this.max = max;
    this.errno = errno;
    this.setting = setting;
  }

  /** Takes a slot for {@code name} (the path or label errors name), or fails with the errno. */
  void take(String name) throws AgentFsException {
    while (true) {
      long n = used.get();
      if (n >= max) {
        throw new AgentFsException(errno, name, null,
            "the limit of " + max + " " + what + " is reached (Configuration." + setting + ")");
      }
      if (used.compareAndSet(n, n + 1)) {
        return;
      }
    }
  }

  /** Takes a slot whatever the limit (journal replay). */
  void force() {
    used.incrementAndGet();
  }

  void give() {
    used.decrementAndGet();
  }

  long used() {
    return used.get();
  }

  long max() {
    return max;
  }
}
