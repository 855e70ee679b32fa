package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An append-only log of metadata batches kept by a durable backstore. The core encodes its
 * changes (inode states, directory entries, snapshots, branches) into records and appends them
 * in batches; a batch is atomic: after a crash, {@link #replay} returns every batch that was
 * completely written and none that was torn. The log knows nothing of the record format.
 *
 * @since 0.1
 */
public interface MetadataLog extends AutoCloseable {
  /** Receives replayed batches in the order they were appended. */
  @FunctionalInterface
  interface BatchSink {
    void accept(List<ByteBuffer> batch) throws AgentFsException;
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

  @Override
  void close();
}
