package dev.agentfs;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which checkpoints a retention policy keeps: pure arithmetic on their times, so it is tested
 * with made-up times. Keep-last takes the {@code keepLast} newest; keep-hourly takes, for each
 * of the {@code keepHourly} most recent UTC hours that hold any checkpoint, the newest one in
 * that hour. A checkpoint is kept when either rule takes it.
 */
final class Retention {
  private Retention() {}

  /**
   * The indexes into {@code newestFirst} (checkpoint times, newest first; equal times are
   * allowed) that are kept.
   */
  static Set<Integer> kept(List<Instant> newestFirst, int keepLast, int keepHourly) {
    Set<Integer> keep = new HashSet<>();
    for (int i = 0; i < Math.min(keepLast, newestFirst.size()); i++) {
      keep.add(i);
    }
    Set<Instant> hours = new HashSet<>();
    for (int i = 0; i < newestFirst.size() && hours.size() < keepHourly; i++) {
      if (hours.add(newestFirst.get(i).truncatedTo(ChronoUnit.HOURS))) {
        keep.add(i);
      }
    }
    return keep;
  }
}
