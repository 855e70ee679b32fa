package dev.agentfs.memory;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.Content;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A backstore that keeps file content in the JVM heap, optionally overflowing into a host spill
 * file. Content is stored in fixed-size, reference-counted chunks so that {@link Content#copy()}
 * is a pointer copy and a write after a snapshot copies only the chunks it touches; holes take no
 * storage. It is the default backstore for sandboxes whose files need not outlive the process.
 *
 * <p>Sizes: a file may be up to {@link #MAX_FILE_SIZE} bytes long (sparse); offsets past it fail
 * with EFBIG. Storage: a chunk stores only up to the highest byte ever written in it, rounded up
 * to a power of two of at least 512 bytes, so small files stay small; {@link
 * Content#allocatedBytes()} is the sum of those stored lengths (always a multiple of 512). Usage:
 * {@link #usedBytes()} counts each stored chunk once, however many copies share it. When a
 * capacity is set, an operation that would need more fails with ENOSPC before changing anything.
 * Spill: with a spill directory, chunks created while the heap part exceeds the spill threshold
 * go to an unlinked host file instead; the capacity still bounds heap plus spill.
 *
 * @since 0.1
 */
public final class MemoryBackstore implements Backstore {
  /** The chunk size unless the builder says otherwise: 64 KiB. */
  public static final int DEFAULT_CHUNK_SIZE = 64 * 1024;

  /** The smallest chunk size the builder accepts, and the smallest stored chunk length. */
  public static final int MIN_CHUNK_SIZE = 512;

  /** The largest chunk size the builder accepts: 16 MiB. */
  public static final int MAX_CHUNK_SIZE = 16 * 1024 * 1024;

  /**
   * The largest file size, 2^62 bytes (4 EiB). Like tmpfs's MAX_LFS_FILESIZE it is far beyond
   * any real use; it is below {@link Long#MAX_VALUE} so that offset arithmetic cannot overflow.
   */
  public static final long MAX_FILE_SIZE = 1L << 62;

  private final long capacity;
  private final int chunkSize;
  private final @Nullable Path spillDirectory;
  private final long spillThreshold;
  private final ByteBuffer zeros;

  /** Reserved plus stored bytes; reservations are taken before any content changes. */
  private final AtomicLong used = new AtomicLong();

  private final AtomicLong heapBytes = new AtomicLong();
  private final AtomicLong spilledBytes = new AtomicLong();
  private final Object spillLock = new Object();
  private @Nullable SpillFile spill;
  private volatile boolean closed;

  private MemoryBackstore(Builder b) {
    this.capacity = b.capacity;
    this.chunkSize = b.chunkSize;
    this.spillDirectory = b.spillDirectory;
    this.spillThreshold =
        b.spillThreshold >= 0 ? b.spillThreshold : Runtime.getRuntime().maxMemory() / 4;
    this.zeros = ByteBuffer.allocate(chunkSize).asReadOnlyBuffer();
  }

  /** An unbounded backstore with the default chunk size and no spill. */
  public static MemoryBackstore create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public Set<BackstoreFeature> features() {
    return capacity == Long.MAX_VALUE ? Set.of() : Set.of(BackstoreFeature.BOUNDED);
  }

  @Override
  public Content newContent() throws AgentFsException {
    if (closed) {
      throw new AgentFsException(Errno.EIO, null, null, "memory backstore is closed");
    }
    return new MemoryContent(this);
  }

  @Override
  public long capacityBytes() {
    return capacity;
  }

  @Override
  public long usedBytes() {
    return used.get();
  }

  /** The chunk size, a power of two. */
  public int chunkSize() {
    return chunkSize;
  }

  public Optional<Path> spillDirectory() {
    return Optional.ofNullable(spillDirectory);
  }

  /** Heap bytes above which new chunks go to the spill file (meaningless without one). */
  public long spillThreshold() {
    return spillThreshold;
  }

  /** Stored chunk bytes held in the heap. */
  public long heapBytes() {
    return heapBytes.get();
  }

  /** Stored chunk bytes held in the spill file. */
  public long spilledBytes() {
    return spilledBytes.get();
  }

  /** The spill file's size on the host, 0 before the first spill; for tests and diagnostics. */
  long spillFileBytes() throws IOException {
    synchronized (spillLock) {
      return spill == null ? 0 : spill.fileSize();
    }
  }

  /**
   * Releases the spill file. Heap chunks are left to the garbage collector as their contents are
   * released; contents whose chunks were spilled fail with EIO afterwards.
   */
  @Override
  public void close() {
    closed = true;
    synchronized (spillLock) {
      if (spill != null) {
        try {
          spill.close();
        } catch (IOException e) {
          // The file was opened DELETE_ON_CLOSE; there is nothing more to do or to report to.
        }
      }
    }
  }

  @Override
  public String toString() {
    return "MemoryBackstore[capacity="
        + capacity
        + ", used="
        + used.get()
        + ", chunkSize="
        + chunkSize
        + (spillDirectory == null ? "" : ", spill=" + spillDirectory)
        + "]";
  }

  // ---- accounting ---------------------------------------------------------------------------

  /** Takes {@code bytes} of capacity for a mutation that is about to happen, or fails ENOSPC. */
  void reserve(long bytes) throws AgentFsException {
    if (bytes <= 0) {
      return;
    }
    while (true) {
      long u = used.get();
      if (bytes > capacity - u) {
        throw noSpace(bytes, capacity - u);
      }
      if (used.compareAndSet(u, u + bytes)) {
        return;
      }
    }
  }

  void unreserve(long bytes) {
    if (bytes > 0) {
      used.addAndGet(-bytes);
    }
  }

  static AgentFsException noSpace(long needed, long available) {
    return new AgentFsException(
        Errno.ENOSPC,
        null,
        null,
        "memory backstore needs " + needed + " bytes, " + Math.max(0, available) + " available");
  }

  /**
   * An upper bound on what {@code allocate} may materialise: the capacity left, and for an
   * unbounded store also what the heap and spill disk can actually hold, so that {@code
   * fallocate -l 1T} fails with ENOSPC instead of an OutOfMemoryError.
   */
  long allocationHeadroom() {
    long room = capacity - used.get();
    Runtime rt = Runtime.getRuntime();
    long heapFree = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    long physical = Math.max(0, heapFree);
    if (spillDirectory != null) {
      long disk = Long.MAX_VALUE;
      try {
        if (Files.isDirectory(spillDirectory)) {
          disk = Files.getFileStore(spillDirectory).getUsableSpace();
        }
      } catch (IOException e) {
        // Unknown free space: do not guess low; the write itself will report EIO/ENOSPC.
      }
      physical = physical + disk < 0 ? Long.MAX_VALUE : physical + disk;
    }
    return Math.min(room, physical);
  }

  // ---- chunk storage ------------------------------------------------------------------------

  /** The stored length for a chunk that must hold its first {@code bytes} bytes. */
  int lengthFor(int bytes) {
    if (bytes <= MIN_CHUNK_SIZE) {
      return Math.min(MIN_CHUNK_SIZE, chunkSize);
    }
    int pow = Integer.highestOneBit(bytes - 1) << 1;
    return Math.min(pow, chunkSize);
  }

  /**
   * A new private chunk of {@code length} stored bytes holding the first {@code srcBytes} bytes
   * of {@code src} (zeros elsewhere). The capacity must already be reserved; on failure nothing
   * is consumed.
   */
  Chunk newChunk(int length, @Nullable Chunk src, int srcBytes) throws AgentFsException {
    int copy = src == null ? 0 : Math.min(Math.min(srcBytes, src.length), length);
    // The threshold is soft: concurrent writers may each pass this check, and private chunks
    // grow in place on the heap. Only the capacity is a hard limit (reserve() is a CAS).
    if (spillDirectory == null || heapBytes.get() + length <= spillThreshold) {
      byte[] data = new byte[length];
      if (src != null && copy > 0) {
        readStored(src, 0, ByteBuffer.wrap(data, 0, copy));
      }
      heapBytes.addAndGet(length);
      return new Chunk(length, data);
    }
    SpillFile file = createdSpill();
    long slot = file.allocate();
    try {
      // The slot may hold a former chunk's bytes: write every stored byte, zeros included.
      ByteBuffer init = ByteBuffer.allocate(length);
      if (src != null && copy > 0) {
        readStored(src, 0, init.slice(0, copy));
      }
      file.write(slot, 0, init);
    } catch (IOException | RuntimeException e) {
      file.release(slot);
      throw e instanceof AgentFsException ? (AgentFsException) e : eio(e);
    }
    spilledBytes.addAndGet(length);
    return new Chunk(length, slot);
  }

  private SpillFile createdSpill() throws AgentFsException {
    synchronized (spillLock) {
      if (closed) {
        throw new AgentFsException(Errno.EIO, null, null, "memory backstore is closed");
      }
      if (spill == null) {
        try {
          spill = new SpillFile(spillDirectory, chunkSize);
        } catch (IOException e) {
          throw eio(e);
        }
      }
      return spill;
    }
  }

  private SpillFile openSpill() throws AgentFsException {
    synchronized (spillLock) {
      if (spill == null) {
        throw new AgentFsException(Errno.EIO, null, null, "spill file missing");
      }
      return spill;
    }
  }

  private static AgentFsException eio(Exception e) {
    return new AgentFsException(Errno.EIO, null, e);
  }

  /** Copies {@code dst.remaining()} stored bytes (within the chunk's length) at {@code off}. */
  private void readStored(Chunk c, int off, ByteBuffer dst) throws AgentFsException {
    byte[] heap = c.heap;
    if (heap != null) {
      dst.put(heap, off, dst.remaining());
      return;
    }
    try {
      openSpill().read(c.slot, off, dst);
    } catch (IOException e) {
      throw eio(e);
    }
  }

  /** Reads {@code n} bytes at {@code off} of the chunk into {@code dst}; unstored bytes are 0. */
  void read(Chunk c, int off, ByteBuffer dst, int n) throws AgentFsException {
    int stored = Math.max(0, Math.min(n, c.length - off));
    if (stored > 0) {
      int limit = dst.limit();
      dst.limit(dst.position() + stored);
      try {
        readStored(c, off, dst);
      } finally {
        dst.limit(limit);
      }
    }
    putZeros(dst, n - stored);
  }

  void putZeros(ByteBuffer dst, int n) {
    if (n > 0) {
      dst.put(zeros.slice(0, n));
    }
  }

  /** Writes all of {@code src} at {@code off}; the chunk must be private and long enough. */
  void write(Chunk c, int off, ByteBuffer src) throws AgentFsException {
    byte[] heap = c.heap;
    if (heap != null) {
      src.get(heap, off, src.remaining());
      return;
    }
    try {
      openSpill().write(c.slot, off, src);
    } catch (IOException e) {
      throw eio(e);
    }
  }

  /** Zeros {@code n} stored bytes at {@code off} of a private chunk. */
  void zero(Chunk c, int off, int n) throws AgentFsException {
    if (n <= 0) {
      return;
    }
    byte[] heap = c.heap;
    if (heap != null) {
      Arrays.fill(heap, off, off + n, (byte) 0);
    } else {
      write(c, off, zeros.slice(0, n));
    }
  }

  /** Grows a private chunk's stored length; the difference must already be reserved. */
  void grow(Chunk c, int newLength) throws AgentFsException {
    int old = c.length;
    byte[] heap = c.heap;
    if (heap != null) {
      c.heap = Arrays.copyOf(heap, newLength);
      heapBytes.addAndGet(newLength - old);
    } else {
      // Bytes past the old length in the slot are stale; they must read as zeros now.
      zero(c, old, newLength - old);
      spilledBytes.addAndGet(newLength - old);
    }
    c.length = newLength;
  }

  /**
   * Shrinks a private chunk to hold only its first {@code keep} bytes (the rest reads as zeros)
   * and returns the stored bytes given back.
   */
  int trim(Chunk c, int keep) throws AgentFsException {
    int newLength = Math.min(lengthFor(keep), c.length);
    zero(c, keep, newLength - keep);
    int freed = c.length - newLength;
    if (freed > 0) {
      byte[] heap = c.heap;
      if (heap != null) {
        c.heap = Arrays.copyOf(heap, newLength);
        heapBytes.addAndGet(-freed);
      } else {
        spilledBytes.addAndGet(-freed);
      }
      c.length = newLength;
      used.addAndGet(-freed);
    }
    return freed;
  }

  /** Drops one owner's reference; the last owner's drop returns the storage and capacity. */
  void decRef(Chunk c) {
    if (c.refs.decrementAndGet() != 0) {
      return;
    }
    if (c.heap != null) {
      heapBytes.addAndGet(-c.length);
    } else {
      spilledBytes.addAndGet(-c.length);
      synchronized (spillLock) {
        if (spill != null) {
          spill.release(c.slot);
        }
      }
    }
    used.addAndGet(-c.length);
  }

  /** Whether {@code n} bytes of {@code src} at absolute index {@code pos} are all zero. */
  boolean isZero(ByteBuffer src, int pos, int n) {
    return src.slice(pos, n).mismatch(zeros.slice(0, n)) == -1;
  }

  /**
   * Options for a {@link MemoryBackstore}: capacity, chunk size and spill. Each setter checks its
   * argument; {@link #build()} checks the combination.
   */
  public static final class Builder {
    private long capacity = Long.MAX_VALUE;
    private int chunkSize = DEFAULT_CHUNK_SIZE;
    private @Nullable Path spillDirectory;
    private long spillThreshold = -1;

    private Builder() {}

    /** The most bytes the store may hold; writes past it fail with ENOSPC. */
    public Builder capacity(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("capacity must be positive: " + bytes);
      }
      this.capacity = bytes;
      return this;
    }

    /** The chunk size: a power of two from 512 bytes to 16 MiB (default 64 KiB). */
    public Builder chunkSize(int bytes) {
      if (bytes < MIN_CHUNK_SIZE || bytes > MAX_CHUNK_SIZE || Integer.bitCount(bytes) != 1) {
        throw new IllegalArgumentException(
            "chunk size must be a power of two from 512 to 16 MiB: " + bytes);
      }
      this.chunkSize = bytes;
      return this;
    }

    /** Where the spill file is created when the heap part passes the spill threshold. */
    public Builder spillDirectory(Path directory) {
      this.spillDirectory = directory;
      return this;
    }

    /** Heap bytes past which new chunks spill (default: a quarter of the max heap). */
    public Builder spillThreshold(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("spill threshold must not be negative: " + bytes);
      }
      this.spillThreshold = bytes;
      return this;
    }

    public MemoryBackstore build() {
      if (spillThreshold >= 0 && spillDirectory == null) {
        throw new IllegalStateException("a spill threshold needs a spill directory");
      }
      return new MemoryBackstore(this);
    }
  }
}
