package dev.agentfs;

import java.time.Duration;
import java.util.Objects;

/**
 * When AgentFS snapshots branches by itself, and how many of those checkpoints it keeps.
 * Checkpoints are taken every {@code every} (zero: never on a timer) and, with
 * {@code onExec}, before each command {@code branch exec} runs; a branch that did not change
 * since its last checkpoint gets no new one. Retention keeps the {@code keepLast} newest
 * checkpoints of each branch plus the newest one of each of the {@code keepHourly} most
 * recent hours that have any (the union, as restic's {@code forget} does); the others are
 * deleted and the storage only they used is reclaimed.
 *
 * <pre>{@code
 * AgentFs.builder().checkpoints(CheckpointPolicy.every(Duration.ofMinutes(5))
 *     .withKeepLast(12).withKeepHourly(24).withOnExec(true))
 * }</pre>
 *
 * @param every how often to checkpoint every changed branch; {@link Duration#ZERO} for never
 * @param onExec whether {@code branch exec} checkpoints the branch before each command
 * @param keepLast how many newest checkpoints of each branch to keep, at least 1
 * @param keepHourly how many hours back to keep one checkpoint per hour, 0 for none
 * @since 0.1
 */
public record CheckpointPolicy(Duration every, boolean onExec, int keepLast, int keepHourly) {
  /** No automatic checkpoints. */
  public static final CheckpointPolicy OFF = new CheckpointPolicy(Duration.ZERO, false, 10, 0);

  public CheckpointPolicy {
    Objects.requireNonNull(every, "every");
    if (every.isNegative()) {
      throw new IllegalArgumentException("checkpoint interval must not be negative: " + every);
    }
    if (!every.isZero() && every.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("checkpoint interval must be at least 1 s: " + every);
    }
    if (keepLast < 1) {
      throw new IllegalArgumentException("keepLast must be at least 1 (the newest checkpoint"
          + " is always kept), got " + keepLast);
    }
    if (keepHourly < 0) {
      throw new IllegalArgumentException("keepHourly must not be negative, got " + keepHourly);
    }
  }

  /** Checkpoints every {@code interval}, keeping the last 10. */
  public static CheckpointPolicy every(Duration interval) {
    return new CheckpointPolicy(interval, false, OFF.keepLast, 0);
  }

  /** Checkpoints before each {@code branch exec} command only, keeping the last 10. */
  public static CheckpointPolicy onExecOnly() {
    return new CheckpointPolicy(Duration.ZERO, true, OFF.keepLast, 0);
  }

  public CheckpointPolicy withOnExec(boolean on) {
    return new CheckpointPolicy(every, on, keepLast, keepHourly);
  }

  public CheckpointPolicy withKeepLast(int n) {
    return new CheckpointPolicy(every, onExec, n, keepHourly);
  }

  public CheckpointPolicy withKeepHourly(int n) {
    return new CheckpointPolicy(every, onExec, keepLast, n);
  }

  /** Whether any checkpoint is ever taken. */
  public boolean enabled() {
    return !every.isZero() || onExec;
  }
}
