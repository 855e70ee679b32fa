package dev.agentfs.hostfs;

import static dev.agentfs.hostfs.Native.LIBC;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The bytes of one file, in one host file under the backstore's {@code data} directory.
 *
 * <p>Reads take no lock: they borrow the descriptor from the {@link FdCache} and use positional
 * I/O, so they run in parallel with each other and with writes. Mutations (write, truncate,
 * allocate, punch) and {@link #copy()} hold this content's own mutation lock, which keeps a copy
 * consistent and the backstore's used-bytes accounting exact; the core serialises writers of
 * one file anyway, so the lock is uncontended in normal use.
 *
 * <p>{@link #size()} and {@link #allocatedBytes()} ask the host file each time (writes through
 * {@link #hostPath()} by kernel passthrough change it behind our back) and fall back to the last
 * known values when the file cannot be asked (released, backstore closed, I/O error).
 *
 * @since 0.1
 */
public final class HostContent implements dev.agentfs.spi.Content {
  private final HostFsBackstore store;
  private final String id;
  private final Path path;
  private final String pathString;
  private final Object mutation = new Object();
  private final Object openLock = new Object();
  private volatile FdCache.@Nullable Fd fd;
  private volatile boolean released;
  private volatile boolean entrySynced;
  private volatile long lastSize;
  private volatile long lastAllocated;

  /** Allocated bytes this content has added to the backstore's used count; under mutation. */
  private long accounted;

  HostContent(HostFsBackstore store, String id, Path path, boolean entrySynced) {
    this.store = store;
    this.id = id;
    this.path = path;
    this.pathString = path.toString();
    this.entrySynced = entrySynced;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Path hostPath() {
    return path;
  }

  // ---- descriptors --------------------------------------------------------------------------

  /** Borrows the descriptor, opening it by path when the cache evicted it. */
  FdCache.Fd acquire() throws AgentFsException {
    checkLive();
    FdCache.Fd f = fd;
    if (f != null && f.tryAcquire()) {
      return f;
    }
    synchronized (openLock) {
      checkLive();
      f = fd;
      if (f != null && f.tryAcquire()) {
        return f;
      }
      int raw = LIBC.open(pathString, Native.O_RDWR | Native.O_CLOEXEC, 0);
      if (raw < 0) {
        throw Native.error(Native.errno(), pathString, "open content file");
      }
      f = store.fds().register(raw);
      fd = f;
      return f;
    }
  }

  /** Adopts the descriptor a newly created file was opened with. */
  void adopt(int raw) {
    FdCache.Fd f = store.fds().register(raw);
    fd = f;
    store.fds().release(f);
  }

  private void done(FdCache.Fd f) {
    store.fds().release(f);
  }

  private void checkLive() throws AgentFsException {
    if (released) {
      throw new AgentFsException(Errno.ESTALE, pathString, null, "content was released");
    }
    store.checkOpen();
  }

  // ---- sizes --------------------------------------------------------------------------------

  @Override
  public long size() {
    try {
      stat();
    } catch (AgentFsException e) {
      // The interface cannot throw here; the last size we saw is the best answer left.
    }
    return lastSize;
  }

  @Override
  public long allocatedBytes() {
    try {
      stat();
    } catch (AgentFsException e) {
      // As for size().
    }
    return lastAllocated;
  }

  private void stat() throws AgentFsException {
    FdCache.Fd f = acquire();
    try {
      stat(f);
    } finally {
      done(f);
    }
  }

  private long[] stat(FdCache.Fd f) throws AgentFsException {
    long[] st = Native.fstat(f.fd, pathString);
    lastSize = st[0];
    lastAllocated = st[1];
    return st;
  }

  /** Re-reads the allocation and moves the backstore's used count by the change. */
  private void account(FdCache.Fd f) {
    try {
      long now = stat(f)[1];
      store.addUsed(now - accounted);
      accounted = now;
    } catch (AgentFsException e) {
      // Accounting is best effort; the next successful mutation corrects it.
    }
  }

  /** Called once when the content is registered: counts what the file already holds. */
  void accountInitial() throws AgentFsException {
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        account(f);
      } finally {
        done(f);
      }
    }
  }

  // ---- I/O ----------------------------------------------------------------------------------

  @Override
  public int read(long position, ByteBuffer dst) throws AgentFsException {
    if (position < 0) {
      throw new AgentFsException(Errno.EINVAL, pathString, null, "read at " + position);
    }
    if (!dst.hasRemaining()) {
      checkLive();
      return 0;
    }
    FdCache.Fd f = acquire();
    try {
      return Native.preadFully(f.fd, dst, position, pathString);
    } finally {
      done(f);
    }
  }

  @Override
  public void write(long position, ByteBuffer src) throws AgentFsException {
    int len = src.remaining();
    if (position < 0) {
      throw new AgentFsException(Errno.EINVAL, pathString, null, "write at " + position);
    }
    if (len > Long.MAX_VALUE - position) {
      throw new AgentFsException(
          Errno.EFBIG, pathString, null, "write of " + len + " bytes at " + position);
    }
    if (len == 0) {
      checkLive();
      return;
    }
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        long oldSize = stat(f)[0];
        if (store.preallocateWrites()) {
          // Reserve the blocks first: when the disk is full this fails before any byte changes,
          // instead of a short write that leaves half the new data behind.
          int rc = LIBC.fallocate(f.fd, Native.FALLOC_FL_KEEP_SIZE, position, len);
          if (rc != 0) {
            int err = Native.errno();
            if (err == Native.EOPNOTSUPP) {
              store.preallocationUnsupported();
            } else {
              // Blocks a partial reservation left past the end are freed by a same-size truncate.
              LIBC.ftruncate(f.fd, oldSize);
              throw Native.error(err, pathString, "reserve " + len + " bytes at " + position);
            }
          }
        }
        int start = src.position();
        try {
          Native.pwriteFully(f.fd, src, position, pathString);
        } catch (AgentFsException e) {
          src.position(start);
          // A short write that grew the file is undone; bytes inside the old size cannot be.
          LIBC.ftruncate(f.fd, oldSize);
          throw e;
        }
      } finally {
        account(f);
        done(f);
      }
    }
  }

  @Override
  public void truncate(long size) throws AgentFsException {
    if (size < 0) {
      throw new AgentFsException(Errno.EINVAL, pathString, null, "truncate to " + size);
    }
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        if (LIBC.ftruncate(f.fd, size) != 0) {
          throw Native.error(Native.errno(), pathString, "truncate to " + size);
        }
      } finally {
        account(f);
        done(f);
      }
    }
  }

  @Override
  public void allocate(long offset, long length, boolean keepSize) throws AgentFsException {
    if (offset < 0 || length <= 0) {
      throw new AgentFsException(
          Errno.EINVAL, pathString, null, "allocate " + length + " bytes at " + offset);
    }
    if (length > Long.MAX_VALUE - offset) {
      throw new AgentFsException(
          Errno.EFBIG, pathString, null, "allocate " + length + " bytes at " + offset);
    }
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        long oldSize = stat(f)[0];
        int mode = keepSize ? Native.FALLOC_FL_KEEP_SIZE : 0;
        if (LIBC.fallocate(f.fd, mode, offset, length) == 0) {
          return;
        }
        int err = Native.errno();
        if (err == Native.EOPNOTSUPP && !keepSize) {
          // glibc emulates by writing a zero into every block: slow, but a real reservation.
          err = LIBC.posix_fallocate(f.fd, offset, length);
          if (err == 0) {
            return;
          }
        }
        // A failed allocation may still have moved the size part way; put it back.
        if (!keepSize && stat(f)[0] != oldSize) {
          LIBC.ftruncate(f.fd, oldSize);
        }
        throw Native.error(err, pathString, "allocate " + length + " bytes at " + offset);
      } finally {
        account(f);
        done(f);
      }
    }
  }

  @Override
  public void punchHole(long offset, long length) throws AgentFsException {
    if (offset < 0 || length < 0) {
      throw new AgentFsException(
          Errno.EINVAL, pathString, null, "punch " + length + " bytes at " + offset);
    }
    if (length == 0) {
      checkLive();
      return;
    }
    long len = Math.min(length, Long.MAX_VALUE - offset);
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        int mode = Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE;
        if (LIBC.fallocate(f.fd, mode, offset, len) == 0) {
          return;
        }
        int err = Native.errno();
        if (err != Native.EOPNOTSUPP) {
          throw Native.error(err, pathString, "punch " + length + " bytes at " + offset);
        }
        // No hole punching here: write zeros, which reads the same.
        long end = Math.min(stat(f)[0], offset + len);
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(Native.SCRATCH_BYTES, len));
        for (long p = offset; p < end; ) {
          int n = (int) Math.min(zeros.capacity(), end - p);
          Native.pwriteFully(f.fd, zeros.clear().limit(n), p, pathString);
          p += n;
        }
      } finally {
        account(f);
        done(f);
      }
    }
  }

  @Override
  public long seekData(long offset) throws AgentFsException {
    return seek(offset, Native.SEEK_DATA);
  }

  @Override
  public long seekHole(long offset) throws AgentFsException {
    return seek(offset, Native.SEEK_HOLE);
  }

  private long seek(long offset, int whence) throws AgentFsException {
    if (offset < 0) {
      throw new AgentFsException(Errno.EINVAL, pathString, null, "seek to " + offset);
    }
    FdCache.Fd f = acquire();
    try {
      long r = LIBC.lseek(f.fd, offset, whence);
      if (r >= 0) {
        return r;
      }
      int err = Native.errno();
      if (err == Native.ENXIO) {
        return -1;
      }
      if (err == Native.EINVAL) {
        // A filesystem without SEEK_DATA/SEEK_HOLE: everything below the size is data.
        long size = stat(f)[0];
        if (offset >= size) {
          return -1;
        }
        return whence == Native.SEEK_DATA ? offset : size;
      }
      throw Native.error(err, pathString, whence == Native.SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE");
    } finally {
      done(f);
    }
  }

  @Override
  public HostContent copy() throws AgentFsException {
    synchronized (mutation) {
      FdCache.Fd src = acquire();
      try {
        return store.copyOf(this, src.fd);
      } finally {
        done(src);
      }
    }
  }

  /** Fills this new, empty content from {@code srcFd}; called by the backstore. */
  /** Makes this empty file share {@code srcFd}'s extents (FICLONE), or fails naming the source. */
  void cloneFrom(int srcFd, String srcPath) throws AgentFsException {
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        if (LIBC.ioctl(f.fd, Native.FICLONE, srcFd) != 0) {
          int err = Native.errno();
          throw Native.error(err, srcPath, "FICLONE into " + pathString
              + (err == Native.EXDEV ? ", another filesystem"
                  : err == Native.EOPNOTSUPP ? ", a filesystem without reflinks" : ""));
        }
      } finally {
        account(f);
        done(f);
      }
    }
  }

  /**
   * Copies {@code size} bytes of {@code srcFd} into this empty file; {@code strictClone}: a
   * failed reflink is an error (clone mode REFLINK) rather than a reason to copy.
   */
  void fillFrom(int srcFd, long size, boolean strictClone) throws AgentFsException {
    synchronized (mutation) {
      FdCache.Fd f = acquire();
      try {
        store.copyData(srcFd, f.fd, size, pathString, strictClone);
      } finally {
        account(f);
        done(f);
      }
    }
  }

  @Override
  public void sync(boolean dataOnly) throws AgentFsException {
    FdCache.Fd f = acquire();
    try {
      int rc = dataOnly ? LIBC.fdatasync(f.fd) : LIBC.fsync(f.fd);
      if (rc != 0) {
        throw Native.error(Native.errno(), pathString, dataOnly ? "fdatasync" : "fsync");
      }
    } finally {
      done(f);
    }
    if (!entrySynced) {
      // The file's own fsync does not make its directory entry durable.
      Native.syncDirectory(path.getParent());
      entrySynced = true;
    }
  }

  @Override
  public void release() {
    synchronized (mutation) {
      synchronized (openLock) {
        if (released) {
          return;
        }
        released = true;
      }
      FdCache.Fd f = fd;
      if (f != null) {
        store.fds().retire(f);
      }
      store.addUsed(-accounted);
      accounted = 0;
      store.forget(this);
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // retainOnly() removes what a failed delete leaves behind.
        HostFsBackstore.LOG.warn("could not delete released content {}: {}", path, e.toString());
      }
    }
  }

  /** Backstore close: gives up the descriptor without deleting anything. */
  void closeDescriptor() {
    FdCache.Fd f = fd;
    if (f != null) {
      store.fds().retire(f);
    }
  }

  @Override
  public String toString() {
    return "HostContent[" + id + (released ? ", released" : "") + "]";
  }
}
