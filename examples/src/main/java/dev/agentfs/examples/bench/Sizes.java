package dev.agentfs.examples.bench;

/**
 * How big each workload is. {@link #full()} follows issue #7; {@link #scaled} shrinks every
 * size by a factor (with floors so that tiny test runs still do something).
 *
 * @param seqBytes size of the seq_write / seq_read file
 * @param blockBytes block size of the sequential and concurrent writes and reads
 * @param randFileBytes size of the file rand_read reads from
 * @param randReads number of 4 KiB reads rand_read does
 * @param writers number of concurrent_write threads
 * @param writerBytes bytes each concurrent writer writes
 * @param metaFiles directories (each with one small file) the metadata workload makes
 * @param treeFiles files in the generated source tree of the agent-shaped workload
 */
public record Sizes(long seqBytes, int blockBytes, long randFileBytes, int randReads,
    int writers, long writerBytes, int metaFiles, int treeFiles) {
  static final long MIB = 1L << 20;
  static final long GIB = 1L << 30;
  /** What {@code --quick} scales the full sizes by. */
  static final double QUICK = 1.0 / 32;

  public static Sizes full() {
    return new Sizes(2 * GIB, (int) (4 * MIB), GIB, 65536, 4, 256 * MIB, 20_000, 20_000);
  }

  /** The full sizes times {@code f} (0 &lt; f &le; 1, or larger for longer runs). */
  public static Sizes scaled(double f) {
    if (!(f > 0)) {
      throw new IllegalArgumentException("scale must be > 0, got " + f);
    }
    Sizes s = full();
    return new Sizes(bytes(s.seqBytes * f), s.blockBytes, bytes(s.randFileBytes * f),
        (int) Math.max(64, s.randReads * f), s.writers, bytes(s.writerBytes * f),
        (int) Math.max(10, s.metaFiles * f), (int) Math.max(10, s.treeFiles * f));
  }

  /** Whole 4 MiB blocks, at least one. */
  private static long bytes(double v) {
    long block = 4 * MIB;
    return Math.max(block, Math.round(v / block) * block);
  }
}
