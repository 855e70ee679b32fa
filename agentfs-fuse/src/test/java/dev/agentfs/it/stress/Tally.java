package dev.agentfs.it.stress;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What all actors of one stress run did, counted from many threads: operations by kind in
 * the private area, outcomes ("ok" or an errno) by kind in the contended area, and the
 * failures that make the test fail (the first 50 kept with their messages).
 */
public final class Tally {
  private final Map<String, LongAdder> ops = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> race = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> raceErrnos = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
  private final AtomicInteger failureCount = new AtomicInteger();

  void op(String kind) {
    ops.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  void race(String kind, String outcome) {
    race.computeIfAbsent(kind + " " + outcome, k -> new LongAdder()).increment();
    if (!outcome.equals("ok")) {
      raceErrnos.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }
  }

  void failure(String what) {
    if (failureCount.incrementAndGet() <= 50) {
      failures.add(what);
    }
  }

  public int failureCount() {
    return failureCount.get();
  }

  public List<String> failures() {
    return List.copyOf(failures);
  }

  private static Map<String, Long> sorted(Map<String, LongAdder> m) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Private-area operations by kind. */
  public Map<String, Long> ops() {
    return sorted(ops);
  }

  /** Contended-area outcomes, "kind outcome" to count. */
  public Map<String, Long> race() {
    return sorted(race);
  }

  /** Contended-area errors by errno. */
  public Map<String, Long> raceErrnos() {
    return sorted(raceErrnos);
  }

  public long totalOps() {
    return ops.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public long totalRace() {
    return race.values().stream().mapToLong(LongAdder::sum).sum();
  }
}
