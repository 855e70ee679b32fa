package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An append-only log of metadata batches kept by a durable backstore. The core encodes its
 * changes (inode states, directory entries, snapshots, branches) into records and appends them
 * in batches; a batch is atomic: after a crash, {@link #replay} returns every batch that was
 * completely written and none that was torn. The log knows nothing of the record format.
 *
 * <p>A log that grows without bound can ask to be compacted: the log decides when ({@link
 * #wantsCompaction}), the core, which knows the records, supplies a shorter list of batches
 * that replays to the same state, and the log swaps it in atomically ({@link #compact}).
 *
 * @since 0.1
 */
public interface MetadataLog extends AutoCloseable {
  /** Receives replayed batches in the order they were appended. */
  @FunctionalInterface
  interface BatchSink {
    void accept(List<ByteBuffer> batch) throws AgentFsException;
  }

  /** Writes the batches of a compacted log, in order, to the sink it is given. */
  @FunctionalInterface
  interface Compaction {
    void writeTo(BatchSink out) throws AgentFsException;
  }

  /**
   * Appends one batch. When {@code sync} is true the batch (and every batch before it) is on
   * stable storage when this returns.
   */
  void append(List<ByteBuffer> batch, boolean sync) throws AgentFsException;

  /** Makes every appended batch durable. */
  void sync() throws AgentFsException;

  /** Reads back every intact batch in order; a torn tail is discarded (and truncated away). */
  void replay(BatchSink sink) throws AgentFsException;

  /** Bytes the log occupies, for deciding when to compact. */
  long sizeBytes();

  /**
   * Whether the log has grown enough since its last compaction that its owner should call
   * {@link #compact}. Logs that cannot compact answer false (the default).
   */
  default boolean wantsCompaction() {
    return false;
  }

  /**
   * Replaces the whole log by the batches {@code compaction} writes, atomically and durably:
   * after a crash at any point, {@link #replay} returns either every old batch or every new
   * one. {@code compaction} may call {@link #replay} on this log to read the old batches;
   * appends from other threads wait until this returns. The caller makes sure the new batches
   * stand for everything appended before. Logs that cannot compact throw ENOTSUP (the default).
   */
  default void compact(Compaction compaction) throws AgentFsException {
    throw new AgentFsException(Errno.ENOTSUP, null, null, "this metadata log cannot compact");
  }

  @Override
  void close();
}
