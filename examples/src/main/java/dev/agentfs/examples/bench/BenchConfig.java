package dev.agentfs.examples.bench;

import java.nio.file.Path;
import java.util.Map;

/**
 * One way of providing the directory a workload runs in: a plain host directory, or an AgentFS
 * mount with some set of options. A fresh instance serves one sample: {@link #setUp} makes the
 * directory, {@link #close} takes it down again (unmounts, deletes), also after a failure.
 */
public interface BenchConfig extends AutoCloseable {
  /** The name results are reported under, e.g. {@code memory-writeback}. */
  String name();

  /** Whether this is the baseline other configurations are compared with. */
  default boolean isNative() {
    return false;
  }

  /**
   * Makes the directory to benchmark in, below (or mounted on a directory below) {@code work},
   * which is on the host filesystem and exists.
   */
  Path setUp(Path work) throws Exception;

  /**
   * FUSE requests received so far by opcode name; empty when the configuration has no FUSE
   * session. The harness subtracts two of these around a measurement.
   */
  default Map<String, Long> requestCounts() {
    return Map.of();
  }

  /** Unmounts and removes what {@link #setUp} made; safe to call when setUp failed. */
  @Override
  void close();
}
