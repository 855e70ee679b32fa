package dev.agentfs.fuse.sys;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * {@link Syscalls} through jnr-ffi bound to libc. Buffers cross as raw addresses (taken from
 * the direct buffer once per call, no copying), which keeps the request path free of
 * allocation; errno is saved by jnr right after each call.
 *
 * @since 0.1
 */
public final class JnrSyscalls implements Syscalls {
  /** The libc functions used; {@code @SaveError} makes jnr capture errno for each. */
  public interface LibC {
    @SaveError
    int open(String path, int flags);

    @SaveError
    int close(int fd);

    @SaveError
    @ssize_t
    long read(int fd, @intptr_t long buf, @size_t long count);

    @SaveError
    @ssize_t
    long write(int fd, @intptr_t long buf, @size_t long count);

    @SaveError
    @ssize_t
    long writev(int fd, @intptr_t long iov, int iovcnt);

    @SaveError
    int ioctl(int fd, @intptr_t long request, @intptr_t long arg);

    @SaveError
    int mount(String source, String target, String fstype, @intptr_t long flags, String data);

    @SaveError
    int umount2(String target, int flags);

    @SaveError
    int access(String path, int mode);

    @SaveError
    int stat(String path, @intptr_t long buf);

    @SaveError
    int statfs(String path, @intptr_t long buf);

    int getpid();

    String strerror(int errnum);
  }

  /** Where st_mode sits in struct stat: x86-64 puts st_nlink (8 bytes) before it. */
  private static final int ST_MODE_OFFSET =
      System.getProperty("os.arch", "").matches("amd64|x86_64") ? 24 : 16;

  private static volatile JnrSyscalls instance;

  private final LibC libc;
  private final Runtime runtime;
  private final MemoryIO mem = MemoryIO.getInstance();

  private JnrSyscalls() {
    this.libc = LibraryLoader.create(LibC.class).load("c");
    this.runtime = Runtime.getRuntime(libc);
  }

  /** The shared instance; loading libc is done once. */
  public static JnrSyscalls get() {
    JnrSyscalls s = instance;
    if (s == null) {
      synchronized (JnrSyscalls.class) {
        s = instance;
        if (s == null) {
          s = new JnrSyscalls();
          instance = s;
        }
      }
    }
    return s;
  }

  private int err() {
    return -LastError.getLastError(runtime);
  }

  private long address(ByteBuffer buf) {
    if (!buf.isDirect()) {
      throw new IllegalArgumentException("buffer must be direct");
    }
    return mem.getDirectBufferAddress(buf) + buf.position();
  }

  @Override
  public int open(String path, int flags) {
    int r = libc.open(path, flags);
    return r < 0 ? err() : r;
  }

  @Override
  public int close(int fd) {
    return libc.close(fd) < 0 ? err() : 0;
  }

  @Override
  public int read(int fd, ByteBuffer buf) {
    long r = libc.read(fd, address(buf), buf.remaining());
    return r < 0 ? err() : (int) r;
  }

  @Override
  public int write(int fd, ByteBuffer buf) {
    long r = libc.write(fd, address(buf), buf.remaining());
    return r < 0 ? err() : (int) r;
  }

  @Override
  public int writev(int fd, ByteBuffer[] bufs, int count) {
    // struct iovec { void *base; size_t len; } in native memory, freed right after the call.
    long iov = mem.allocateMemory(16L * count, false);
    try {
      for (int i = 0; i < count; i++) {
        mem.putAddress(iov + 16L * i, address(bufs[i]));
        mem.putLong(iov + 16L * i + 8, bufs[i].remaining());
      }
      long r = libc.writev(fd, iov, count);
      return r < 0 ? err() : (int) r;
    } finally {
      mem.freeMemory(iov);
    }
  }

  @Override
  public int ioctlInt(int fd, int request, int value) {
    long p = mem.allocateMemory(8, true);
    try {
      mem.putInt(p, value);
      int r = libc.ioctl(fd, request & 0xffffffffL, p);
      return r < 0 ? err() : r;
    } finally {
      mem.freeMemory(p);
    }
  }

  @Override
  public int ioctlBackingOpen(int fd, int request, int backingFd, int flags) {
    long p = mem.allocateMemory(16, true);
    try {
      mem.putInt(p, backingFd);
      mem.putInt(p + 4, flags);
      mem.putLong(p + 8, 0);
      int r = libc.ioctl(fd, request & 0xffffffffL, p);
      return r < 0 ? err() : r;
    } finally {
      mem.freeMemory(p);
    }
  }

  @Override
  public int ioctlBuffer(int fd, int request, ByteBuffer buf) {
    int r = libc.ioctl(fd, request & 0xffffffffL, address(buf));
    return r < 0 ? err() : r;
  }

  @Override
  public int ioctl(int fd, int request) {
    int r = libc.ioctl(fd, request & 0xffffffffL, 0);
    return r < 0 ? err() : r;
  }

  @Override
  public int mount(String source, String target, String fstype, long flags, String data) {
    return libc.mount(source, target, fstype, flags, data) < 0 ? err() : 0;
  }

  @Override
  public int umount2(String target, int flags) {
    return libc.umount2(target, flags) < 0 ? err() : 0;
  }

  @Override
  public int access(String path, int mode) {
    return libc.access(path, mode) < 0 ? err() : 0;
  }

  @Override
  public int statMode(String path) {
    long buf = mem.allocateMemory(256, true);
    try {
      if (libc.stat(path, buf) < 0) {
        return err();
      }
      return mem.getInt(buf + ST_MODE_OFFSET);
    } finally {
      mem.freeMemory(buf);
    }
  }

  @Override
  public int statfs(String path) {
    long buf = mem.allocateMemory(256, true); // struct statfs is 120 bytes on 64-bit Linux
    try {
      return libc.statfs(path, buf) < 0 ? err() : 0;
    } finally {
      mem.freeMemory(buf);
    }
  }

  @Override
  public int getpid() {
    return libc.getpid();
  }

  @Override
  public String strerror(int errno) {
    String s = libc.strerror(errno);
    return s == null ? "errno " + errno : s;
  }
}
