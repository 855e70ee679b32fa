package dev.agentfs.hostfs;

import static dev.agentfs.hostfs.Native.LIBC;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.MetadataLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * The metadata log as one host file of CRC-checked frames.
 *
 * <pre>
 *   file   := header frame*
 *   header := "AGFSMLOG" u32 version(1) u32 compactedKiB               (16 bytes)
 *   frame  := u32 FRAME_MAGIC  u32 length  u32 crc32c(length, payload)  payload
 *   payload:= u32 count  (u32 recordLength  recordBytes){count}
 * </pre>
 *
 * All integers are little-endian. A batch is one frame written with one positional write at the
 * tail, so a crash leaves a prefix of frames plus at most one torn one. Opening the log scans it
 * and truncates at the first frame that is incomplete or fails its check, so later appends follow
 * the last good batch; a damaged frame whose full length was present (corruption rather than a
 * torn tail) is first copied to {@code meta.log.discarded-<offset>} for inspection.
 *
 * <p>{@code compactedKiB} is the log's size right after its last {@link #compact compaction}
 * (0 before the first), so the growth since then is known across restarts: the log asks for
 * compaction ({@link #wantsCompaction}) when it is larger than a threshold (default 8 MiB) and
 * than {@value #GROWTH} times that size, which keeps the rewriting amortised to a constant
 * share of the bytes appended.
 *
 * <p>Appends are serialised by a lock around the write; {@code sync} runs outside it and covers
 * every batch written before it started, so concurrent synchronous appenders share fsyncs (group
 * commit). After a failed fsync the log refuses further appends and syncs with EIO: the kernel
 * may have dropped the unwritten pages, and pretending otherwise would lose batches silently.
 *
 * @since 0.1
 */
public final class FileMetadataLog implements MetadataLog {
  static final byte[] FILE_MAGIC = "AGFSMLOG".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 16;
  static final int FRAME_MAGIC = 0x4D464741; // "AGFM" little-endian
  static final int FRAME_HEADER_BYTES = 12;

  /** The default size below which the log never asks to be compacted: 8 MiB. */
  public static final long DEFAULT_COMPACT_ABOVE = 8L << 20;

  /** The log asks to be compacted when it has grown to this many times its compacted size. */
  public static final int GROWTH = 4;

  /** The largest payload of one frame: 1 GiB. Larger lengths in a file are damage. */
  public static final int MAX_BATCH_BYTES = 1 << 30;

  private final Path path;
  private final String pathString;
  private final ReentrantLock appendLock = new ReentrantLock();
  private final Object syncLock = new Object();
  /** Replays hold it shared while they read {@link #fd}; a compaction swaps fd exclusively. */
  private final java.util.concurrent.locks.ReentrantReadWriteLock fdSwap =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  private volatile int fd;
  private volatile long tail;
  private long durable; // under syncLock
  private volatile boolean closed;
  private volatile @Nullable AgentFsException failed;
  private volatile long compactedBytes;
  private final long compactAbove;

  private FileMetadataLog(Path path, int fd, long tail, long compactedBytes, long compactAbove) {
    this.path = path;
    this.pathString = path.toString();
    this.fd = fd;
    this.tail = tail;
    this.durable = tail;
    this.compactedBytes = compactedBytes;
    this.compactAbove = compactAbove;
  }

  /**
   * Opens the log at {@code path}, creating it if missing, and cuts off a torn tail. A stale
   * {@code .new} file from an interrupted {@link #compact} is removed (the rename had not
   * happened, so the old log is the current one).
   */
  public static FileMetadataLog open(Path path) throws AgentFsException {
    return open(path, DEFAULT_COMPACT_ABOVE);
  }

  /**
   * Like {@link #open(Path)}, with the size below which the log never asks to be compacted
   * ({@link #wantsCompaction}).
   */
  public static FileMetadataLog open(Path path, long compactAbove) throws AgentFsException {
    if (compactAbove < 0) {
      throw new IllegalArgumentException("negative compaction threshold: " + compactAbove);
    }
    Path abs = path.toAbsolutePath();
    String p = abs.toString();
    try {
      Files.deleteIfExists(newPath(abs));
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, newPath(abs).toString(), e);
    }
    int fd = LIBC.open(p, Native.O_RDWR | Native.O_CREAT | Native.O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Native.error(Native.errno(), p, "open metadata log");
    }
    try {
      long size = Native.fstat(fd, p)[0];
      if (size < HEADER_BYTES) {
        initialise(fd, abs, size);
        return new FileMetadataLog(abs, fd, HEADER_BYTES, 0, compactAbove);
      }
      long compacted = checkHeader(fd, p);
      long end = scan(fd, p, size, null);
      if (end < size) {
        discardTail(fd, abs, end, size);
      }
      return new FileMetadataLog(abs, fd, end, compacted, compactAbove);
    } catch (AgentFsException | RuntimeException e) {
      Native.closeQuietly(fd);
      throw e;
    }
  }

  private static Path newPath(Path log) {
    return log.resolveSibling(log.getFileName() + ".new");
  }

  /** A new (or torn-at-creation) log: writes the header and makes file and entry durable. */
  private static void initialise(int fd, Path path, long size) throws AgentFsException {
    String p = path.toString();
    if (size > 0) {
      ByteBuffer got = ByteBuffer.allocate((int) size);
      Native.preadFully(fd, got, 0, p);
      ByteBuffer want = header().limit((int) size);
      if (!got.flip().equals(want)) {
        throw new AgentFsException(Errno.EIO, p, null, "not an AgentFS metadata log");
      }
    }
    Native.pwriteFully(fd, header(), 0, p);
    if (LIBC.fsync(fd) != 0) {
      throw Native.error(Native.errno(), p, "fsync new metadata log");
    }
    Native.syncDirectory(path.getParent());
  }

  private static ByteBuffer header() {
    return header(0);
  }

  /** The header of a log whose last compaction left it {@code compacted} bytes long. */
  private static ByteBuffer header(long compacted) {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long kib = (compacted + 1023) / 1024;
    h.put(FILE_MAGIC).putInt(VERSION).putInt((int) Math.min(kib, 0xFFFF_FFFFL));
    return h.flip();
  }

  /** Checks magic and version; returns the compacted size the header records, in bytes. */
  private static long checkHeader(int fd, String p) throws AgentFsException {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    Native.preadFully(fd, h, 0, p);
    h.flip();
    byte[] magic = new byte[FILE_MAGIC.length];
    h.get(magic);
    if (!java.util.Arrays.equals(magic, FILE_MAGIC)) {
      throw new AgentFsException(Errno.EIO, p, null, "not an AgentFS metadata log");
    }
    int version = h.getInt();
    if (version != VERSION) {
      throw new AgentFsException(
          Errno.EIO, p, null, "metadata log version " + version + ", this code reads " + VERSION);
    }
    return Integer.toUnsignedLong(h.getInt()) * 1024;
  }

  /**
   * Reads frames from the header to {@code limit}, handing intact batches to {@code sink} (when
   * not null), and returns the offset after the last intact frame.
   */
  private static long scan(int fd, String p, long limit, @Nullable BatchSink sink)
      throws AgentFsException {
    FrameReader in = new FrameReader(fd, p);
    long pos = HEADER_BYTES;
    CRC32C crc = new CRC32C();
    while (limit - pos >= FRAME_HEADER_BYTES) {
      ByteBuffer h = in.read(pos, FRAME_HEADER_BYTES);
      int magic = h.getInt();
      int length = h.getInt();
      int expected = h.getInt();
      if (magic != FRAME_MAGIC || length < 4 || length > MAX_BATCH_BYTES) {
        break;
      }
      if (limit - pos - FRAME_HEADER_BYTES < length) {
        break; // torn: the payload did not all reach the disk
      }
      ByteBuffer payload = in.read(pos + FRAME_HEADER_BYTES, length);
      crc.reset();
      crc.update(h.duplicate().position(4).limit(8));
      crc.update(payload.duplicate());
      if ((int) crc.getValue() != expected) {
        break;
      }
      // Records get their own copy, not views of the read-ahead buffer a sink could pin.
      ByteBuffer own = sink == null ? payload : ByteBuffer.allocate(length).put(payload).flip();
      List<ByteBuffer> batch = decode(own);
      if (batch == null) {
        break;
      }
      if (sink != null) {
        sink.accept(batch);
      }
      pos += FRAME_HEADER_BYTES + length;
    }
    return pos;
  }

  /** The records of a payload, or null when its structure is inconsistent. */
  private static @Nullable List<ByteBuffer> decode(ByteBuffer payload) {
    ByteBuffer b = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int count = b.getInt();
    if (count < 0 || count > b.remaining() / 4) {
      return null;
    }
    List<ByteBuffer> records = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      if (b.remaining() < 4) {
        return null;
      }
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        return null;
      }
      ByteBuffer r = b.slice(b.position(), len).order(ByteOrder.BIG_ENDIAN);
      records.add(r.asReadOnlyBuffer());
      b.position(b.position() + len);
    }
    return b.hasRemaining() ? null : records;
  }

  /** Cuts the file at {@code end}, keeping a copy of damage that was not a torn tail. */
  private static void discardTail(int fd, Path path, long end, long size) throws AgentFsException {
    String p = path.toString();
    long discarded = size - end;
    boolean wholeFrame = false;
    if (discarded >= FRAME_HEADER_BYTES) {
      ByteBuffer h = ByteBuffer.allocate(FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      Native.preadFully(fd, h, end, p);
      h.flip();
      h.getInt();
      int length = h.getInt();
      wholeFrame = length >= 0 && discarded - FRAME_HEADER_BYTES >= length;
    }
    if (wholeFrame) {
      Path keep = path.resolveSibling(path.getFileName() + ".discarded-" + end);
      try {
        byte[] bytes = new byte[(int) Math.min(discarded, Integer.MAX_VALUE - 8)];
        Native.preadFully(fd, ByteBuffer.wrap(bytes), end, p);
        Files.write(keep, bytes);
      } catch (IOException e) {
        // Keeping a copy is a courtesy; recovery goes on without it.
      }
      HostFsBackstore.LOG.warn(
          "{}: damaged batch at offset {}; discarding {} bytes from there (copy in {})",
          p,
          end,
          discarded,
          keep);
    } else {
      HostFsBackstore.LOG.info("{}: discarding a torn batch of {} bytes at {}", p, discarded, end);
    }
    if (LIBC.ftruncate(fd, end) != 0) {
      throw Native.error(Native.errno(), p, "truncate the metadata log to " + end);
    }
    if (LIBC.fsync(fd) != 0) {
      throw Native.error(Native.errno(), p, "fsync the metadata log");
    }
  }

  // ---- MetadataLog --------------------------------------------------------------------------

  @Override
  public void append(List<ByteBuffer> batch, boolean sync) throws AgentFsException {
    ByteBuffer frame = encode(batch);
    long end;
    appendLock.lock();
    try {
      checkUsable();
      long pos = tail;
      Native.pwriteFully(fd, frame, pos, pathString);
      end = pos + frame.limit();
      tail = end;
    } finally {
      appendLock.unlock();
    }
    if (sync) {
      syncTo(end);
    }
  }

  /** One frame in a direct buffer, so the write is a single pwrite of the whole batch. */
  static ByteBuffer encode(List<ByteBuffer> batch) throws AgentFsException {
    long payload = 4;
    for (ByteBuffer r : batch) {
      payload += 4L + r.remaining();
    }
    if (payload > MAX_BATCH_BYTES) {
      throw new AgentFsException(
          Errno.EFBIG, null, null, "metadata batch of " + payload + " bytes; the limit is 1 GiB");
    }
    ByteBuffer f =
        ByteBuffer.allocateDirect(FRAME_HEADER_BYTES + (int) payload)
            .order(ByteOrder.LITTLE_ENDIAN);
    f.putInt(FRAME_MAGIC).putInt((int) payload).putInt(0).putInt(batch.size());
    for (ByteBuffer r : batch) {
      f.putInt(r.remaining()).put(r.duplicate());
    }
    CRC32C crc = new CRC32C();
    crc.update(f.duplicate().position(4).limit(8));
    crc.update(f.duplicate().flip().position(FRAME_HEADER_BYTES));
    f.putInt(8, (int) crc.getValue());
    return f.flip();
  }

  @Override
  public void sync() throws AgentFsException {
    syncTo(tail);
  }

  private void syncTo(long end) throws AgentFsException {
    synchronized (syncLock) {
      checkUsable();
      if (durable >= end) {
        return; // another appender's fsync already covered this batch
      }
      long target = tail;
      if (LIBC.fdatasync(fd) != 0) {
        AgentFsException e = Native.error(Native.errno(), pathString, "fdatasync metadata log");
        failed = e;
        throw e;
      }
      durable = target;
    }
  }

  private void checkUsable() throws AgentFsException {
    if (closed) {
      throw new AgentFsException(Errno.EIO, pathString, null, "metadata log is closed");
    }
    AgentFsException f = failed;
    if (f != null) {
      throw new AgentFsException(
          Errno.EIO, pathString, null, "metadata log failed earlier: " + f.getMessage());
    }
  }

  @Override
  public void replay(BatchSink sink) throws AgentFsException {
    long end;
    int f;
    // The scan runs outside the append lock, but holds the descriptor against a compaction
    // swapping and closing it; the read lock is taken under the append lock, which a
    // compaction holds from start to swap, so the two cannot wait for each other.
    appendLock.lock();
    try {
      checkUsable();
      end = tail;
      f = fd;
      fdSwap.readLock().lock();
    } finally {
      appendLock.unlock();
    }
    try {
      long read = scan(f, pathString, end, sink);
      if (read != end) {
        // Damage appeared below the tail after open: not a torn write, so do not cut it away.
        throw new AgentFsException(
            Errno.EIO, pathString, null, "metadata log damaged at offset " + read + " since open");
      }
    } finally {
      fdSwap.readLock().unlock();
    }
  }

  @Override
  public long sizeBytes() {
    return tail;
  }

  /**
   * Replaces the whole log with {@code batches}; see {@link #compact}. For tests and tools that
   * build the new log themselves.
   */
  public void rewrite(List<List<ByteBuffer>> batches) throws AgentFsException {
    compact(out -> {
      for (List<ByteBuffer> b : batches) {
        out.accept(b);
      }
    });
  }

  /**
   * True when the log is larger than both its threshold and {@value #GROWTH} times its size
   * after the last compaction (kept in the header, so this holds across restarts).
   */
  @Override
  public boolean wantsCompaction() {
    long t = tail;
    return !closed && t > compactAbove && t > GROWTH * compactedBytes;
  }

  /** The size right after the last compaction, 0 when never compacted. */
  public long compactedBytes() {
    return compactedBytes;
  }

  /**
   * Replaces the whole log with the batches {@code compaction} writes: streams them to {@code
   * meta.log.new}, writes the header (with the new size), fsyncs, renames it over the log and
   * fsyncs the directory, so a crash leaves either the old or the new log ({@link #open}
   * deletes a leftover {@code .new}). Appends wait while this runs; {@code compaction} may
   * {@link #replay} this log. When the directory fsync fails the log refuses further appends
   * (EIO), as after a failed fsync: the rename may not be durable, so appends to the new file
   * could be lost with it.
   */
  @Override
  public void compact(Compaction compaction) throws AgentFsException {
    Path tmp = newPath(path);
    String t = tmp.toString();
    appendLock.lock();
    try {
      synchronized (syncLock) {
        checkUsable();
        stage("start");
        int nfd =
            LIBC.open(
                t, Native.O_RDWR | Native.O_CREAT | Native.O_TRUNC | Native.O_CLOEXEC, 0644);
        if (nfd < 0) {
          throw Native.error(Native.errno(), t, "create compacted metadata log");
        }
        boolean installed = false;
        try {
          FrameWriter w = new FrameWriter(nfd, t, HEADER_BYTES);
          compaction.writeTo(w::add);
          long end = w.finish();
          Native.pwriteFully(nfd, header(end), 0, t);
          stage("written");
          if (LIBC.fsync(nfd) != 0) {
            throw Native.error(Native.errno(), t, "fsync compacted metadata log");
          }
          stage("synced");
          try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            throw new AgentFsException(Errno.EIO, t, pathString, e.toString());
          }
          installed = true;
          int old = fd;
          fdSwap.writeLock().lock();
          try {
            fd = nfd;
            tail = end;
            durable = end;
            compactedBytes = end;
            Native.closeQuietly(old);
          } finally {
            fdSwap.writeLock().unlock();
          }
          stage("renamed");
          try {
            Native.syncDirectory(path.getParent());
          } catch (AgentFsException e) {
            failed = e;
            throw e;
          }
          stage("done");
        } finally {
          if (!installed) {
            Native.closeQuietly(nfd);
            try {
              Files.deleteIfExists(tmp);
            } catch (IOException e) {
              // open() removes it next time.
            }
          }
        }
      }
    } finally {
      appendLock.unlock();
    }
  }

  /** Test hook: called at each step of a compaction, so a test can kill the process there. */
  static volatile java.util.function.@Nullable Consumer<String> compactionStage;

  private static void stage(String name) {
    java.util.function.@Nullable Consumer<String> hook = compactionStage;
    if (hook != null) {
      hook.accept(name);
    }
  }

  /** Frames batches into a buffer and writes it out in large positional writes. */
  private static final class FrameWriter {
    private final int fd;
    private final String path;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    private long pos;

    FrameWriter(int fd, String path, long start) {
      this.fd = fd;
      this.path = path;
      this.pos = start;
    }

    void add(List<ByteBuffer> batch) throws AgentFsException {
      ByteBuffer frame = encode(batch);
      if (frame.remaining() > buf.remaining()) {
        drain();
      }
      if (frame.remaining() > buf.capacity()) {
        int n = frame.remaining();
        Native.pwriteFully(fd, frame, pos, path);
        pos += n;
      } else {
        buf.put(frame);
      }
    }

    private void drain() throws AgentFsException {
      buf.flip();
      int n = buf.remaining();
      Native.pwriteFully(fd, buf, pos, path);
      pos += n;
      buf.clear();
    }

    /** Writes what is buffered; returns the end offset. */
    long finish() throws AgentFsException {
      drain();
      return pos;
    }
  }

  public Path path() {
    return path;
  }

  /** Syncs what was appended and closes the file. Idempotent. */
  @Override
  public void close() {
    appendLock.lock();
    try {
      if (closed) {
        return;
      }
      synchronized (syncLock) {
        if (failed == null && durable < tail) {
          LIBC.fdatasync(fd);
        }
        closed = true;
        Native.closeQuietly(fd);
      }
    } finally {
      appendLock.unlock();
    }
  }

  /** Positional reads through a read-ahead buffer, for scanning many small frames. */
  private static final class FrameReader {
    private static final int CHUNK = 1 << 20;
    private final int fd;
    private final String path;
    private ByteBuffer buf = ByteBuffer.allocate(0);
    private long bufStart;

    FrameReader(int fd, String path) {
      this.fd = fd;
      this.path = path;
    }

    /** {@code n} bytes at {@code pos}, which the caller knows lie below the file's end. */
    ByteBuffer read(long pos, int n) throws AgentFsException {
      if (pos < bufStart || pos + n > bufStart + buf.limit()) {
        int want = Math.max(n, CHUNK);
        ByteBuffer b = ByteBuffer.allocate(want);
        Native.preadFully(fd, b, pos, path);
        if (b.position() < n) {
          throw new AgentFsException(Errno.EIO, path, null, "metadata log shrank while read");
        }
        buf = b.flip();
        bufStart = pos;
      }
      int off = (int) (pos - bufStart);
      return buf.slice(off, n).order(ByteOrder.LITTLE_ENDIAN);
    }
  }
}
