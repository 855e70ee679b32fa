package dev.agentfs.fuse.sys;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
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

    int getuid();

    int getgid();

    @SaveError
    int socketpair(int domain, int type, int protocol, @Out int[] fds);

    @SaveError
    int pipe2(@Out int[] fds, int flags);

    @SaveError
    @ssize_t
    long recvmsg(int fd, @intptr_t long msg, int flags);

    /** Returns 0 or an error number (not errno): posix_spawn's own convention. */
    int posix_spawn(@Out int[] pid, String path, @intptr_t long fileActions,
        @intptr_t long attr, @In CharSequence[] argv, @In CharSequence[] envp);

    int posix_spawn_file_actions_init(@intptr_t long fileActions);

    int posix_spawn_file_actions_adddup2(@intptr_t long fileActions, int fd, int newFd);

    int posix_spawn_file_actions_destroy(@intptr_t long fileActions);

    @SaveError
    int waitpid(int pid, @Out int[] status, int options);

    String strerror(int errnum);
  }

  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;
  private static final int SOL_SOCKET = 1;
  private static final int SCM_RIGHTS = 1;
  private static final int MSG_CMSG_CLOEXEC = 0x40000000;
  /** glibc's posix_spawn_file_actions_t is 80 bytes on 64-bit; room to spare. */
  private static final int SPAWN_ACTIONS_SIZE = 256;

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
  public int getuid() {
    return libc.getuid();
  }

  @Override
  public int getgid() {
    return libc.getgid();
  }

  @Override
  public int socketpair(int[] fds) {
    return libc.socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds) < 0 ? err() : 0;
  }

  @Override
  public int pipe(int[] fds) {
    return libc.pipe2(fds, O_CLOEXEC) < 0 ? err() : 0;
  }

  @Override
  public int receiveFd(int socket) {
    // LP64 layouts: struct msghdr {name@0, namelen@8, iov@16, iovlen@24, control@32,
    // controllen@40, flags@48} (56 bytes); struct iovec {base@0, len@8}; struct cmsghdr
    // {len@0 (size_t), level@8, type@12, data@16}. One block holds all four parts.
    long block = mem.allocateMemory(256, true);
    long msg = block;
    long iov = block + 64;
    long data = block + 96;
    long control = block + 128;
    int controlLen = 64;
    try {
      mem.putAddress(iov, data);
      mem.putLong(iov + 8, 1);
      mem.putAddress(msg + 16, iov);
      mem.putLong(msg + 24, 1);
      mem.putAddress(msg + 32, control);
      mem.putLong(msg + 40, controlLen);
      long r;
      do {
        r = libc.recvmsg(socket, msg, MSG_CMSG_CLOEXEC);
      } while (r < 0 && err() == -EINTR);
      if (r < 0) {
        return err();
      }
      long got = mem.getLong(msg + 40);
      if (r == 0 || got < 20) {
        return -ENOMSG;
      }
      long len = mem.getLong(control);
      if (mem.getInt(control + 8) != SOL_SOCKET || mem.getInt(control + 12) != SCM_RIGHTS
          || len < 20) {
        return -ENOMSG;
      }
      int fd = mem.getInt(control + 16);
      // More than one descriptor is no part of the protocol; do not leak the extras.
      long end = Math.min(len, got);
      for (long off = 20; off + 4 <= end; off += 4) {
        libc.close(mem.getInt(control + off));
      }
      return fd;
    } finally {
      mem.freeMemory(block);
    }
  }

  @Override
  public int spawn(String path, String[] argv, String[] envp, int[] from, int[] to) {
    if (from.length != to.length) {
      throw new IllegalArgumentException("from and to differ in length");
    }
    long actions = mem.allocateMemory(SPAWN_ACTIONS_SIZE, true);
    try {
      int r = libc.posix_spawn_file_actions_init(actions);
      if (r != 0) {
        return -r;
      }
      try {
        for (int i = 0; i < from.length; i++) {
          r = libc.posix_spawn_file_actions_adddup2(actions, from[i], to[i]);
          if (r != 0) {
            return -r;
          }
        }
        int[] pid = new int[1];
        r = libc.posix_spawn(pid, path, actions, 0, argv, envp);
        return r != 0 ? -r : pid[0];
      } finally {
        libc.posix_spawn_file_actions_destroy(actions);
      }
    } finally {
      mem.freeMemory(actions);
    }
  }

  @Override
  public int waitpid(int pid) {
    int[] status = new int[1];
    while (true) {
      int r = libc.waitpid(pid, status, 0);
      if (r >= 0) {
        return status[0];
      }
      int e = err();
      if (e != -EINTR) {
        return e;
      }
    }
  }

  @Override
  public String strerror(int errno) {
    String s = libc.strerror(errno);
    return s == null ? "errno " + errno : s;
  }
}
