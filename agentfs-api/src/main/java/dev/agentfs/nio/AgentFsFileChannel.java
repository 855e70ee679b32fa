package dev.agentfs.nio;

import static dev.agentfs.vfs.Modes.F_RDLCK;
import static dev.agentfs.vfs.Modes.F_UNLCK;
import static dev.agentfs.vfs.Modes.F_WRLCK;
import static dev.agentfs.vfs.Modes.O_ACCMODE;
import static dev.agentfs.vfs.Modes.O_APPEND;
import static dev.agentfs.vfs.Modes.O_RDONLY;
import static dev.agentfs.vfs.Modes.O_WRONLY;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link FileChannel} on one open handle of the core. Reads and writes go to {@link Vfs#read}
 * and {@link Vfs#write} at the channel's position; {@link #lock} and {@link #tryLock} take POSIX
 * record locks through {@link Vfs#setlk}, in the same lock table a mount of the branch uses, so
 * they exclude (and are excluded by) fcntl locks other processes take through the mount. As
 * {@link FileLock} specifies, locks are held on behalf of the whole JVM: a lock overlapping one
 * this JVM already holds on the same file (through any channel) throws {@link
 * OverlappingFileLockException}. {@link #map} maps the host file that holds the bytes when
 * there is one, and a private copy otherwise (see there for what each mode shares).
 */
final class AgentFsFileChannel extends FileChannel {
  private static final int CHUNK = 1 << 20;
  /** Lock owners: a random base keeps them apart from the kernel's lock_owner values. */
  private static final long OWNER_BASE = new SecureRandom().nextLong() & ~0xFFFFFFFFL;
  private static final AtomicLong OWNERS = new AtomicLong(1);
  private static final int PID = (int) ProcessHandle.current().pid();

  /** The JVM-wide table of locks held through channels, per (branch, inode). */
  private static final Map<LockKey, List<Lock>> LOCKS = new HashMap<>();

  private record LockKey(Object vfs, long ino) {}

  private final AgentFsFileSystem fs;
  private final Vfs vfs;
  private final AgentFsPath path;
  private final long ino;
  private final long fh;
  private final int flags;
  private final boolean sync;
  private final long owner = OWNER_BASE | OWNERS.getAndIncrement();
  private final Object posLock = new Object();
  private long position;

  AgentFsFileChannel(AgentFsFileSystem fs, AgentFsPath path, long ino, long fh, int flags,
      boolean sync) {
    this.fs = fs;
    this.vfs = fs.vfs();
    this.path = path;
    this.ino = ino;
    this.fh = fh;
    this.flags = flags;
    this.sync = sync;
  }

  private boolean readable() {
    return (flags & O_ACCMODE) != O_WRONLY;
  }

  private boolean writable() {
    return (flags & O_ACCMODE) != O_RDONLY;
  }

  private boolean append() {
    return (flags & O_APPEND) != 0;
  }

  private void ensureOpen() throws ClosedChannelException {
    if (!isOpen()) {
      throw new ClosedChannelException();
    }
  }

  private IOException fail(AgentFsException e) {
    if (e.errno() == Errno.EISDIR) {
      IOException x = new IOException("Is a directory");
      x.initCause(e);
      return x;
    }
    return Errors.map(e, path.toString(), null);
  }

  // ---------------------------------------------------------------- reading

  private int readAt(ByteBuffer dst, long pos) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    int total = 0;
    try {
      while (dst.hasRemaining()) {
        int n = vfs.read(ino, fh, pos + total, dst);
        if (n <= 0) {
          break;
        }
        total += n;
      }
    } catch (AgentFsException e) {
      throw fail(e);
    }
    return total == 0 ? -1 : total;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureOpen();
    if (!readable()) {
      throw new NonReadableChannelException();
    }
    synchronized (posLock) {
      int n = readAt(dst, position);
      if (n > 0) {
        position += n;
      }
      return n;
    }
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, dsts.length);
    ensureOpen();
    if (!readable()) {
      throw new NonReadableChannelException();
    }
    synchronized (posLock) {
      long total = 0;
      for (int i = offset; i < offset + length; i++) {
        if (!dsts[i].hasRemaining()) {
          continue;
        }
        int n = readAt(dsts[i], position);
        if (n < 0) {
          return total == 0 ? -1 : total;
        }
        position += n;
        total += n;
        if (dsts[i].hasRemaining()) {
          break;
        }
      }
      return total;
    }
  }

  @Override
  public int read(ByteBuffer dst, long pos) throws IOException {
    if (pos < 0) {
      throw new IllegalArgumentException("Negative position");
    }
    ensureOpen();
    if (!readable()) {
      throw new NonReadableChannelException();
    }
    return readAt(dst, pos);
  }

  // ---------------------------------------------------------------- writing

  private int writeAt(ByteBuffer src, long pos) throws IOException {
    int total = 0;
    try {
      while (src.hasRemaining()) {
        ByteBuffer slice = src.slice();
        slice.limit(Math.min(slice.remaining(), CHUNK));
        int n = vfs.write(fs.caller(), ino, fh, pos + total, slice);
        src.position(src.position() + n);
        total += n;
        if (n == 0) {
          break;
        }
      }
      if (sync && total > 0) {
        vfs.fsync(ino, fh, false);
      }
    } catch (AgentFsException e) {
      throw fail(e);
    }
    return total;
  }

  private long sizeNow() throws IOException {
    try {
      return vfs.getattr(fs.caller(), ino, fh).size();
    } catch (AgentFsException e) {
      throw fail(e);
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    ensureOpen();
    if (!writable()) {
      throw new NonWritableChannelException();
    }
    synchronized (posLock) {
      int n = writeAt(src, position);
      position = append() ? sizeNow() : position + n;
      return n;
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, srcs.length);
    ensureOpen();
    if (!writable()) {
      throw new NonWritableChannelException();
    }
    synchronized (posLock) {
      long total = 0;
      for (int i = offset; i < offset + length; i++) {
        int n = writeAt(srcs[i], position);
        position = append() ? sizeNow() : position + n;
        total += n;
      }
      return total;
    }
  }

  @Override
  public int write(ByteBuffer src, long pos) throws IOException {
    if (pos < 0) {
      throw new IllegalArgumentException("Negative position");
    }
    ensureOpen();
    if (!writable()) {
      throw new NonWritableChannelException();
    }
    return writeAt(src, pos);
  }

  // ---------------------------------------------------------------- position and size

  @Override
  public long position() throws IOException {
    ensureOpen();
    synchronized (posLock) {
      return append() ? sizeNow() : position;
    }
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    if (newPosition < 0) {
      throw new IllegalArgumentException("Negative position");
    }
    ensureOpen();
    synchronized (posLock) {
      position = newPosition;
    }
    return this;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    return sizeNow();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("Negative size");
    }
    ensureOpen();
    if (!writable()) {
      throw new NonWritableChannelException();
    }
    synchronized (posLock) {
      if (size < sizeNow()) {
        try {
          vfs.setattr(fs.caller(), ino, fh, SetAttr.size(size));
        } catch (AgentFsException e) {
          throw fail(e);
        }
      }
      if (position > size) {
        position = size;
      }
    }
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    ensureOpen();
    try {
      vfs.fsync(ino, fh, !metaData);
    } catch (AgentFsException e) {
      throw fail(e);
    }
  }

  @Override
  public long transferTo(long pos, long count, WritableByteChannel target) throws IOException {
    if (pos < 0 || count < 0) {
      throw new IllegalArgumentException("negative position or count");
    }
    ensureOpen();
    if (!target.isOpen()) {
      throw new ClosedChannelException();
    }
    if (!readable()) {
      throw new NonReadableChannelException();
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Math.max(count, 1), 64 * 1024));
    long done = 0;
    while (done < count) {
      buf.clear().limit((int) Math.min(buf.capacity(), count - done));
      int n = readAt(buf, pos + done);
      if (n <= 0) {
        break;
      }
      buf.flip();
      while (buf.hasRemaining()) {
        int w = target.write(buf);
        if (w == 0) {
          return done + n - buf.remaining();
        }
      }
      done += n;
    }
    return done;
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long pos, long count) throws IOException {
    if (pos < 0 || count < 0) {
      throw new IllegalArgumentException("negative position or count");
    }
    ensureOpen();
    if (!src.isOpen()) {
      throw new ClosedChannelException();
    }
    if (!writable()) {
      throw new NonWritableChannelException();
    }
    if (pos > sizeNow()) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Math.max(count, 1), 64 * 1024));
    long done = 0;
    while (done < count) {
      buf.clear().limit((int) Math.min(buf.capacity(), count - done));
      int n = src.read(buf);
      if (n <= 0) {
        break;
      }
      buf.flip();
      writeAt(buf, pos + done);
      done += n;
    }
    return done;
  }

  /**
   * Maps a region of the file, with the checks and argument errors of the default file system
   * (including growing the file to {@code pos + size} through a writable channel). What the
   * buffer shares depends on where the file's bytes live:
   *
   * <ul>
   *   <li>In a host file that this branch owns alone (a host-directory backstore, the file not
   *       shared with a snapshot since it was last written, not set-user/group-ID): the buffer
   *       maps that host file itself. {@link MapMode#READ_WRITE READ_WRITE} and {@link
   *       MapMode#READ_ONLY READ_ONLY} share one page cache with every read and write through
   *       this file system: a write through the buffer is seen at once by reads of the branch,
   *       and a write through the branch at once by the buffer. A snapshot taken while the
   *       buffer lives gets a copy of the file; the branch and the buffer keep the live one, so
   *       the buffer can never change a snapshot. {@link MapMode#PRIVATE PRIVATE} is the host
   *       kernel's private mapping: pages the buffer wrote are its own, others may show later
   *       changes to the file, as on Linux. A mount of the branch may keep serving pages it
   *       cached before a write through the buffer until {@link #force} is called on a channel
   *       of the file, which also tells watch services; {@link MappedByteBuffer#force()} makes
   *       the bytes durable but cannot tell this file system. The host file stays pinned to the
   *       inode until the buffer is garbage collected, which is when the JDK unmaps it.
   *   <li>Anywhere else (the in-memory backstore, bytes shared with a snapshot, an overlay file
   *       not yet copied up, a set-user/group-ID file): READ_ONLY and PRIVATE map a private
   *       copy of the region taken now, so later changes to the file are not seen (which
   *       {@link FileChannel#map} permits). READ_WRITE throws {@link
   *       UnsupportedOperationException}: a buffer over a copy could never make its changes
   *       reach the file, as no hook runs when the buffer is written or forced, nor see writes
   *       made to the file after the copy.
   * </ul>
   *
   * A mapping of size 0 is an empty buffer and maps nothing, as in the JDK.
   */
  @Override
  public MappedByteBuffer map(MapMode mode, long pos, long size) throws IOException {
    // The default file system's checks, in its order.
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Size exceeds Integer.MAX_VALUE");
    }
    Objects.requireNonNull(mode, "Mode is null");
    ensureOpen();
    if (pos < 0L) {
      throw new IllegalArgumentException("Negative position");
    }
    if (size < 0L) {
      throw new IllegalArgumentException("Negative size");
    }
    if (pos + size < 0) {
      throw new IllegalArgumentException("Position + size overflow");
    }
    if (mode != MapMode.READ_ONLY && mode != MapMode.READ_WRITE && mode != MapMode.PRIVATE) {
      throw new UnsupportedOperationException(mode + ": only READ_ONLY, READ_WRITE and PRIVATE");
    }
    if (mode != MapMode.READ_ONLY && !writable()) {
      throw new NonWritableChannelException();
    }
    if (!readable()) {
      throw new NonReadableChannelException();
    }
    java.nio.file.Path host = null;
    if (size > 0) {
      try {
        host = vfs.openBacking(ino, mode == MapMode.READ_WRITE);
      } catch (AgentFsException e) {
        throw fail(e);
      }
      if (host == null && mode == MapMode.READ_WRITE) {
        throw new UnsupportedOperationException(path + ": READ_WRITE mapping needs the file's"
            + " bytes in a host file (a host-directory backstore) and no set-user/group-ID bit;"
            + " a buffer over a copy could not keep the file and the buffer in step");
      }
    }
    boolean pinned = host != null;
    try {
      synchronized (posLock) {
        if (sizeNow() < pos + size) {
          if (!writable()) {
            throw new IOException(
                "Channel not open for writing - cannot extend file to required size");
          }
          try {
            vfs.setattr(fs.caller(), ino, fh, SetAttr.size(pos + size));
          } catch (AgentFsException e) {
            throw fail(e);
          }
        }
      }
      if (host == null) {
        return Mappings.copy(this::readAt, mode, pos, size);
      }
      MappedByteBuffer b = Mappings.hostFile(vfs, ino, host, mode, pos, size);
      pinned = false; // the buffer holds the pin now
      return b;
    } finally {
      if (pinned) {
        vfs.releaseBacking(ino);
      }
    }
  }

  // ---------------------------------------------------------------- locks

  private final class Lock extends FileLock {
    private final long start;
    private final long end;
    private volatile boolean valid = true;

    Lock(long position, long size, boolean shared) {
      super(AgentFsFileChannel.this, position, size, shared);
      this.start = position;
      this.end = size == 0 || position + size < 0 || size == Long.MAX_VALUE ? Long.MAX_VALUE
          : position + size - 1;
    }

    boolean overlapsRange(long s, long e) {
      return start <= e && s <= end;
    }

    @Override
    public boolean isValid() {
      return valid && AgentFsFileChannel.this.isOpen();
    }

    @Override
    public void release() throws IOException {
      if (!AgentFsFileChannel.this.isOpen()) {
        throw new ClosedChannelException();
      }
      if (!valid) {
        return;
      }
      unlock(this);
    }
  }

  private LockKey lockKey() {
    return new LockKey(vfs, ino);
  }

  @Override
  public FileLock lock(long pos, long size, boolean shared) throws IOException {
    return acquire(pos, size, shared, true);
  }

  @Override
  public @Nullable FileLock tryLock(long pos, long size, boolean shared) throws IOException {
    return acquire(pos, size, shared, false);
  }

  private @Nullable FileLock acquire(long pos, long size, boolean shared, boolean wait)
      throws IOException {
    ensureOpen();
    if (shared && !readable()) {
      throw new NonReadableChannelException();
    }
    if (!shared && !writable()) {
      throw new NonWritableChannelException();
    }
    Lock l = new Lock(pos, size, shared);
    LockKey k = lockKey();
    synchronized (LOCKS) {
      List<Lock> held = LOCKS.computeIfAbsent(k, x -> new ArrayList<>());
      for (Lock h : held) {
        if (h.overlapsRange(l.start, l.end)) {
          throw new OverlappingFileLockException();
        }
      }
      held.add(l);
    }
    boolean ok = false;
    try {
      vfs.setlk(ino, fh, owner,
          new dev.agentfs.vfs.FileLock(l.start, l.end, shared ? F_RDLCK : F_WRLCK, PID), wait,
          false);
      ok = true;
      return l;
    } catch (AgentFsException e) {
      if (e.errno() == Errno.EAGAIN && !wait) {
        return null;
      }
      if (e.errno() == Errno.EINTR) {
        throw new FileLockInterruptionException();
      }
      throw fail(e);
    } finally {
      if (!ok) {
        forget(k, l);
      }
    }
  }

  private static void forget(LockKey k, Lock l) {
    synchronized (LOCKS) {
      List<Lock> held = LOCKS.get(k);
      if (held != null) {
        held.remove(l);
        if (held.isEmpty()) {
          LOCKS.remove(k);
        }
      }
    }
  }

  private void unlock(Lock l) throws IOException {
    l.valid = false;
    try {
      vfs.setlk(ino, fh, owner, new dev.agentfs.vfs.FileLock(l.start, l.end, F_UNLCK, PID),
          false, false);
    } catch (AgentFsException e) {
      throw fail(e);
    } finally {
      forget(lockKey(), l);
    }
  }

  // ---------------------------------------------------------------- closing

  @Override
  protected void implCloseChannel() throws IOException {
    fs.untrack(this);
    LockKey k = lockKey();
    synchronized (LOCKS) {
      List<Lock> held = LOCKS.get(k);
      if (held != null) {
        held.removeIf(l -> {
          if (l.channel() == this) {
            l.valid = false;
            return true;
          }
          return false;
        });
        if (held.isEmpty()) {
          LOCKS.remove(k);
        }
      }
    }
    try {
      vfs.flush(fs.caller(), ino, fh, owner);
    } catch (AgentFsException e) {
      // the handle is going away either way
    } finally {
      try {
        vfs.release(ino, fh);
      } catch (AgentFsException e) {
        // nothing left to release
      }
    }
  }
}
