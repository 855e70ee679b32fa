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
 *   header := "AGFSMLOG" u32 version(1) u32 0                          (16 bytes)
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

  /** The largest payload of one frame: 1 GiB. Larger lengths in a file are damage. */
  public static final int MAX_BATCH_BYTES = 1 << 30;

  private final Path path;
  private final String pathString;
  private final ReentrantLock appendLock = new ReentrantLock();
  private final Object syncLock = new Object();
  private int fd;
  private volatile long tail;
  private long durable; // under syncLock
  private volatile boolean closed;
  private volatile @Nullable AgentFsException failed;

  private FileMetadataLog(Path path, int fd, long tail) {
    this.path = path;
    this.pathString = path.toString();
    this.fd = fd;
    this.tail = tail;
    this.durable = tail;
  }

  /**
   * Opens the log at {@code path}, creating it if missing, and cuts off a torn tail. A stale
   * {@code .new} file from an interrupted {@link #rewrite} is removed (the rename had not
   * happened, so the old log is the current one).
   */
  public static FileMetadataLog open(Path path) throws AgentFsException {
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
        return new FileMetadataLog(abs, fd, HEADER_BYTES);
      }
      checkHeader(fd, p);
      long end = scan(fd, p, size, null);
      if (end < size) {
        discardTail(fd, abs, end, size);
      }
      return new FileMetadataLog(abs, fd, end);
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
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    h.put(FILE_MAGIC).putInt(VERSION).putInt(0);
    return h.flip();
  }

  private static void checkHeader(int fd, String p) throws AgentFsException {
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
    appendLock.lock();
    try {
      checkUsable();
      end = tail;
    } finally {
      appendLock.unlock();
    }
    long read = scan(fd, pathString, end, sink);
    if (read != end) {
      // Damage appeared below the tail after open: not a torn write, so do not cut it away.
      throw new AgentFsException(
          Errno.EIO, pathString, null, "metadata log damaged at offset " + read + " since open");
    }
  }

  @Override
  public long sizeBytes() {
    return tail;
  }

  /**
   * Replaces the whole log with {@code batches} (a compaction): writes {@code meta.log.new},
   * syncs it, renames it over the log and syncs the directory, so a crash leaves either the old
   * or the new log. Appends wait while this runs; the caller makes sure {@code batches} stands
   * for everything appended before.
   */
  public void rewrite(List<List<ByteBuffer>> batches) throws AgentFsException {
    Path tmp = newPath(path);
    String t = tmp.toString();
    appendLock.lock();
    try {
      synchronized (syncLock) {
        checkUsable();
        int nfd =
            LIBC.open(
                t, Native.O_RDWR | Native.O_CREAT | Native.O_TRUNC | Native.O_CLOEXEC, 0644);
        if (nfd < 0) {
          throw Native.error(Native.errno(), t, "create compacted metadata log");
        }
        boolean installed = false;
        try {
          long pos = 0;
          ByteBuffer h = header();
          Native.pwriteFully(nfd, h, pos, t);
          pos += HEADER_BYTES;
          for (List<ByteBuffer> b : batches) {
            ByteBuffer frame = encode(b);
            int n = frame.remaining();
            Native.pwriteFully(nfd, frame, pos, t);
            pos += n;
          }
          if (LIBC.fsync(nfd) != 0) {
            throw Native.error(Native.errno(), t, "fsync compacted metadata log");
          }
          try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            throw new AgentFsException(Errno.EIO, t, pathString, e.toString());
          }
          installed = true;
          int old = fd;
          fd = nfd;
          tail = pos;
          durable = pos;
          Native.closeQuietly(old);
          Native.syncDirectory(path.getParent());
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
