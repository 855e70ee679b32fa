package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The bytes of one regular file, as a backstore keeps them. The core owns each content object
 * through exactly one inode version; when a snapshot makes two inode versions share bytes, the
 * core calls {@link #copy()} before writing, and the backstore must make that copy cheap
 * (chunk sharing, reflink): writing 1 byte after a snapshot must not copy the whole file.
 *
 * <p>Implementations are safe for concurrent use: reads may run in parallel with each other
 * and with writes to other ranges; the core serialises writers of one file. All failures are
 * {@link AgentFsException}s (EIO, ENOSPC, EFBIG, ...), and a failed write leaves the bytes that
 * were there before.
 *
 * @since 0.1
 */
public interface Content {
  /** The logical size in bytes. */
  long size();

  /** Bytes actually stored (st_blocks * 512 reports this); holes take none. */
  long allocatedBytes();

  /** Reads at {@code position} into {@code dst}; returns the count, 0 at or past the end. */
  int read(long position, ByteBuffer dst) throws AgentFsException;

  /**
   * Writes all of {@code src} at {@code position}, growing the size when it writes past it;
   * on return {@code src.position()} equals its limit.
   */
  void write(long position, ByteBuffer src) throws AgentFsException;

  /**
   * Sets the size; bytes past a shrink are gone, a grow reads as zeros. May fail with ENOSPC
   * even when shrinking, when the boundary chunk is shared with a copy and must be unshared.
   */
  void truncate(long size) throws AgentFsException;

  /** Reserves storage for the range (fallocate mode 0 / KEEP_SIZE). */
  void allocate(long offset, long length, boolean keepSize) throws AgentFsException;

  /** Deallocates the range; it reads as zeros afterwards; the size does not change. */
  void punchHole(long offset, long length) throws AgentFsException;

  /** The first data offset at or after {@code offset}, or -1 when only a hole follows. */
  long seekData(long offset) throws AgentFsException;

  /**
   * The first hole offset at or after {@code offset} (the size counts as a hole), or -1 when
   * {@code offset} is at or past the size.
   */
  long seekHole(long offset) throws AgentFsException;

  /** A copy that shares storage with this one until either is written. */
  Content copy() throws AgentFsException;

  /** A stable identifier for {@link Backstore#openContent}; null for non-durable content. */
  default @Nullable String id() {
    return null;
  }

  /**
   * The host file that holds these bytes, for kernel passthrough, or null when there is none.
   * The core only hands it out after unsharing ({@link #copy()}), so writes through it never
   * reach bytes a snapshot shares.
   */
  default java.nio.file.@Nullable Path hostPath() {
    return null;
  }

  /** Makes written data durable (a no-op for memory). */
  void sync(boolean dataOnly) throws AgentFsException;

  /**
   * The owner will not use this object again; its storage may be reclaimed. Idempotent. Any
   * later call fails with ESTALE.
   */
  void release();
}
