package dev.agentfs.examples.bench;

import java.nio.file.Path;

/**
 * Something the harness measures. {@link #run} prepares what it needs (untimed) and times one
 * or more phases through {@link Recorder#time}, each reported as its own measurement.
 */
public interface Workload {
  /** The name {@code --workloads} selects it by. */
  String name();

  /** Runs once in {@code dir}, a fresh empty directory on the configuration under test. */
  void run(Context ctx, Recorder rec) throws Exception;

  /**
   * What a workload runs with.
   *
   * @param dir fresh, empty directory on the configuration under test
   * @param scratch host directory for inputs shared by all samples (e.g. a generated tar)
   * @param sizes how big to make things
   * @param caches drops the kernel's page cache (a no-op when not permitted)
   */
  record Context(Path dir, Path scratch, Sizes sizes, CacheDropper caches) {}

  /** Times phases of a workload. */
  interface Recorder {
    /**
     * Runs {@code body} timed and records it as measurement {@code name} with the amount it
     * returns, in {@code unit} ({@code "bytes"} or {@code "ops"}).
     */
    void time(String name, String unit, Timed body) throws Exception;
  }

  /** A timed body; returns the bytes or operations it did. */
  @FunctionalInterface
  interface Timed {
    long run() throws Exception;
  }

  /** Empties the kernel page cache so reads come from the backing store. */
  @FunctionalInterface
  interface CacheDropper {
    void drop() throws Exception;
  }
}
