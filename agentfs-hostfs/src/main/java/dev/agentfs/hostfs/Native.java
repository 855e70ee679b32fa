package dev.agentfs.hostfs;

import com.kenai.jffi.MemoryIO;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import org.jspecify.annotations.Nullable;

/**
 * The few libc calls Java's file API lacks (fallocate, SEEK_DATA/SEEK_HOLE, FICLONE,
 * copy_file_range, flock, fstat's st_blocks), on raw descriptors. Buffers are passed as native
 * addresses: heap buffers go through a per-thread direct scratch buffer, as NIO does, so no
 * Java array is pinned during a blocking syscall. Linux only (x86-64 and aarch64 share every
 * constant and struct offset used here).
 */
final class Native {
  /** libc, as jnr-ffi binds it. Pointers are plain 64-bit addresses. */
  public interface LibC {
    int open(String path, int flags, int mode);

    int close(int fd);

    @ssize_t
    long pread(int fd, long buf, @size_t long count, @off_t long offset);

    @ssize_t
    long pwrite(int fd, long buf, @size_t long count, @off_t long offset);

    int fsync(int fd);

    int fdatasync(int fd);

    int ftruncate(int fd, @off_t long length);

    int fallocate(int fd, int mode, @off_t long offset, @off_t long len);

    /** Returns the error number instead of setting errno. */
    int posix_fallocate(int fd, @off_t long offset, @off_t long len);

    @off_t
    long lseek(int fd, @off_t long offset, int whence);

    int ioctl(int fd, long request, int arg);

    @ssize_t
    long copy_file_range(
        int fdIn, long offIn, int fdOut, long offOut, @size_t long len, int flags);

    int fstat(int fd, long statbuf);

    int __fxstat(int version, int fd, long statbuf);

    int flock(int fd, int operation);
  }

  static final int O_RDONLY = 0;
  static final int O_RDWR = 2;
  static final int O_CREAT = 0100;
  static final int O_EXCL = 0200;
  static final int O_TRUNC = 01000;
  static final int O_CLOEXEC = 02000000;

  static final int SEEK_DATA = 3;
  static final int SEEK_HOLE = 4;

  static final int FALLOC_FL_KEEP_SIZE = 1;
  static final int FALLOC_FL_PUNCH_HOLE = 2;

  static final long FICLONE = 0x40049409L;

  static final int LOCK_EX = 2;
  static final int LOCK_NB = 4;

  static final int EINTR = 4;
  static final int ENXIO = 6;
  static final int EBADF = 9;
  static final int EAGAIN = 11;
  static final int EXDEV = 18;
  static final int EINVAL = 22;
  static final int ENOTTY = 25;
  static final int ENOSYS = 38;
  static final int EOPNOTSUPP = 95;

  /** Offsets in struct stat shared by the x86-64 and the generic (aarch64) layouts. */
  private static final int ST_SIZE = 48;

  private static final int ST_BLOCKS = 64;
  private static final int STAT_BYTES = 256;

  /** Heap buffers are copied through this much direct memory per call. */
  static final int SCRATCH_BYTES = 256 * 1024;

  static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
  private static final MemoryIO MEMORY = MemoryIO.getInstance();

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static volatile boolean useFxstat;

  private Native() {}

  /** Per-thread direct memory: the I/O bounce buffer and a small area for structs. */
  static final class Scratch {
    final ByteBuffer io = ByteBuffer.allocateDirect(SCRATCH_BYTES);
    final long ioAddress = MEMORY.getDirectBufferAddress(io);
    final ByteBuffer small =
        ByteBuffer.allocateDirect(STAT_BYTES).order(ByteOrder.nativeOrder());
    final long smallAddress = MEMORY.getDirectBufferAddress(small);
  }

  static Scratch scratch() {
    return SCRATCH.get();
  }

  static int errno() {
    return LastError.getLastError(RUNTIME);
  }

  static long address(ByteBuffer direct) {
    return MEMORY.getDirectBufferAddress(direct);
  }

  static AgentFsException error(int errno, @Nullable String path, String what) {
    Errno e = Errno.of(errno);
    String detail = what + ": errno " + errno + (e == Errno.EIO && errno != 5 ? " (unmapped)" : "");
    return new AgentFsException(e, path, null, detail);
  }

  /** The size and allocated bytes of an open file. */
  static long[] fstat(int fd, @Nullable String path) throws AgentFsException {
    Scratch s = scratch();
    int rc;
    if (!useFxstat) {
      try {
        rc = LIBC.fstat(fd, s.smallAddress);
      } catch (UnsatisfiedLinkError e) {
        // glibc before 2.33 exports only __fxstat.
        useFxstat = true;
        rc = fxstat(fd, s.smallAddress);
      }
    } else {
      rc = fxstat(fd, s.smallAddress);
    }
    if (rc != 0) {
      throw error(errno(), path, "fstat");
    }
    return new long[] {s.small.getLong(ST_SIZE), s.small.getLong(ST_BLOCKS) * 512};
  }

  private static int fxstat(int fd, long buf) {
    int version = "aarch64".equals(System.getProperty("os.arch")) ? 0 : 1;
    return LIBC.__fxstat(version, fd, buf);
  }

  /** Reads up to {@code dst.remaining()} bytes at {@code position}; stops early only at EOF. */
  static int preadFully(int fd, ByteBuffer dst, long position, @Nullable String path)
      throws AgentFsException {
    int want = dst.remaining();
    int done = 0;
    if (dst.isDirect()) {
      long base = address(dst) + dst.position();
      while (done < want) {
        long n = LIBC.pread(fd, base + done, want - done, position + done);
        if (n < 0) {
          int err = errno();
          if (err == EINTR) {
            continue;
          }
          throw error(err, path, "pread of " + want + " bytes at " + position);
        }
        if (n == 0) {
          break;
        }
        done += (int) n;
      }
      java.lang.ref.Reference.reachabilityFence(dst);
      dst.position(dst.position() + done);
      return done;
    }
    Scratch s = scratch();
    while (done < want) {
      int chunk = Math.min(want - done, SCRATCH_BYTES);
      long n = LIBC.pread(fd, s.ioAddress, chunk, position + done);
      if (n < 0) {
        int err = errno();
        if (err == EINTR) {
          continue;
        }
        throw error(err, path, "pread of " + want + " bytes at " + position);
      }
      if (n == 0) {
        break;
      }
      dst.put(s.io.duplicate().position(0).limit((int) n));
      // A short read before EOF is legal: the loop asks again for the rest.
      done += (int) n;
    }
    return done;
  }

  /** Writes all of {@code src} at {@code position}; on success its position is its limit. */
  static void pwriteFully(int fd, ByteBuffer src, long position, @Nullable String path)
      throws AgentFsException {
    int want = src.remaining();
    int done = 0;
    if (src.isDirect()) {
      long base = address(src) + src.position();
      while (done < want) {
        long n = LIBC.pwrite(fd, base + done, want - done, position + done);
        if (n < 0) {
          int err = errno();
          if (err == EINTR) {
            continue;
          }
          throw error(err, path, "pwrite of " + want + " bytes at " + position);
        }
        done += (int) n;
      }
      java.lang.ref.Reference.reachabilityFence(src);
      src.position(src.limit());
      return;
    }
    Scratch s = scratch();
    ByteBuffer view = src.duplicate();
    while (done < want) {
      int chunk = Math.min(want - done, SCRATCH_BYTES);
      s.io.clear();
      s.io.put(view.limit(view.position() + chunk));
      int off = 0;
      while (off < chunk) {
        long n = LIBC.pwrite(fd, s.ioAddress + off, chunk - off, position + done + off);
        if (n < 0) {
          int err = errno();
          if (err == EINTR) {
            continue;
          }
          throw error(err, path, "pwrite of " + want + " bytes at " + position);
        }
        off += (int) n;
      }
      done += chunk;
    }
    src.position(src.limit());
  }

  /** Closes a descriptor, ignoring errors (there is nothing useful to do about them). */
  static void closeQuietly(int fd) {
    if (fd >= 0) {
      LIBC.close(fd);
    }
  }

  /** fsync on a directory, so entries created or renamed in it survive a crash. */
  static void syncDirectory(java.nio.file.Path dir) throws AgentFsException {
    String p = dir.toString();
    int fd = LIBC.open(p, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
      throw error(errno(), p, "open directory for fsync");
    }
    try {
      if (LIBC.fsync(fd) != 0) {
        throw error(errno(), p, "fsync directory");
      }
    } finally {
      LIBC.close(fd);
    }
  }
}
