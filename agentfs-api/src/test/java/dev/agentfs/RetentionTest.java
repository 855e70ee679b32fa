package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The retention arithmetic on made-up checkpoint times: keep-last, keep-hourly, both. */
class RetentionTest {
  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  /** Times newest first, {@code step} apart, starting at {@code newest}. */
  private static List<Instant> times(Instant newest, Duration step, int n) {
    List<Instant> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(newest.minus(step.multipliedBy(i)));
    }
    return out;
  }

  private static Set<Integer> kept(List<Instant> t, int last, int hourly) {
    return new TreeSet<>(Retention.kept(t, last, hourly));
  }

  @Test
  void keepLastKeepsTheNewest() {
    List<Instant> t = times(T0, Duration.ofMinutes(10), 10);
    assertEquals(Set.of(0, 1, 2), kept(t, 3, 0));
    assertEquals(Set.of(0), kept(t, 1, 0));
    assertEquals(Set.of(0, 1), kept(t.subList(0, 2), 5, 0), "fewer than K: all kept");
    assertEquals(Set.of(), kept(List.of(), 3, 2));
  }

  @Test
  void keepHourlyKeepsTheNewestOfEachRecentHour() {
    // 12:00, 11:40, 11:20, 11:00, 10:40, ... every 20 minutes for 6 hours
    List<Instant> t = times(T0, Duration.ofMinutes(20), 18);
    // hours 12:xx (index 0), 11:xx (1: 11:40), 10:xx (4: 10:40), 09:xx (7: 09:40)
    assertEquals(Set.of(0, 1, 4, 7), kept(t, 1, 4));
    assertEquals(Set.of(0, 1, 2, 4), kept(t, 3, 3), "union of the two rules");
  }

  @Test
  void keepHourlyCountsOnlyHoursThatHaveCheckpoints() {
    List<Instant> t = List.of(
        Instant.parse("2026-03-01T12:05:00Z"),
        Instant.parse("2026-03-01T12:01:00Z"),
        Instant.parse("2026-03-01T07:30:00Z"),   // five empty hours before this one
        Instant.parse("2026-03-01T07:10:00Z"),
        Instant.parse("2026-02-28T23:59:59Z"));
    assertEquals(Set.of(0, 2, 4), kept(t, 1, 3));
    assertEquals(Set.of(0, 2), kept(t, 1, 2));
  }

  @Test
  void equalTimesAreDistinctCheckpoints() {
    List<Instant> t = List.of(T0, T0, T0, T0.minusSeconds(3600));
    assertEquals(Set.of(0, 1), kept(t, 2, 0));
    assertEquals(Set.of(0, 3), kept(t, 1, 2));
  }
}
