package dev.agentfs.fuse.sys;

import java.nio.ByteBuffer;

/**
 * The Linux system calls the FUSE transport makes, and nothing more, so a second
 * implementation (Java 22 FFM) stays small. Calls return the raw result, or {@code -errno} on
 * failure, like the kernel's own syscall convention: no exceptions and no allocation on the
 * request path. Buffers must be direct; the call uses the bytes between position and limit and
 * leaves position and limit untouched.
 *
 * @since 0.1
 */
public interface Syscalls {
  int O_RDONLY = 0;
  int O_RDWR = 02;
  int O_CLOEXEC = 02000000;

  int MS_RDONLY = 1;
  int MS_NOSUID = 2;
  int MS_NODEV = 4;
  int MS_NOEXEC = 8;
  int MS_SYNCHRONOUS = 16;
  int MS_REMOUNT = 32;
  int MS_DIRSYNC = 128;
  int MS_NOSYMFOLLOW = 256;
  int MS_NOATIME = 1024;
  int MS_NODIRATIME = 2048;
  int MS_RELATIME = 1 << 21;
  int MS_STRICTATIME = 1 << 24;
  int MS_LAZYTIME = 1 << 25;

  int MNT_FORCE = 1;
  int MNT_DETACH = 2;

  int EPERM = 1;
  int ENOENT = 2;
  int EINTR = 4;
  int EAGAIN = 11;
  int EBUSY = 16;
  int ENODEV = 19;
  int ENOTDIR = 20;
  int EINVAL = 22;
  int ENOTTY = 25;
  int ENOSYS = 38;
  int ENOMSG = 42;
  int ENOTCONN = 107;
  int ECONNABORTED = 103;

  /** open(2); returns the fd or -errno. */
  int open(String path, int flags);

  int close(int fd);

  /** read(2) into {@code buf}'s remaining bytes; returns the byte count or -errno. */
  int read(int fd, ByteBuffer buf);

  /** write(2) of {@code buf}'s remaining bytes; returns the byte count or -errno. */
  int write(int fd, ByteBuffer buf);

  /** writev(2) of each buffer's remaining bytes, gathered into one write. */
  int writev(int fd, ByteBuffer[] bufs, int count);

  /** ioctl(2) whose argument points at one 32-bit integer holding {@code value}. */
  int ioctlInt(int fd, int request, int value);

  /**
   * ioctl(2) whose argument points at a struct: the 16-byte struct fuse_backing_map holding
   * {@code fd} and {@code flags} (FUSE_DEV_IOC_BACKING_OPEN). Returns the backing id or -errno.
   */
  default int ioctlBackingOpen(int fd, int request, int backingFd, int flags) {
    return -ENOTTY;
  }

  /**
   * ioctl(2) whose argument points at {@code buf}'s remaining bytes, which the kernel may read
   * and overwrite (an _IOWR command: the control file's request and reply). Returns the
   * ioctl's result or -errno.
   */
  default int ioctlBuffer(int fd, int request, ByteBuffer buf) {
    return -ENOTTY;
  }

  /** ioctl(2) without an argument. */
  int ioctl(int fd, int request);

  /** mount(2). */
  int mount(String source, String target, String fstype, long flags, String data);

  /** umount2(2). */
  int umount2(String target, int flags);

  /** access(2): 0, or -errno (ENOTCONN tells a dead FUSE mount). */
  int access(String path, int mode);

  /**
   * stat(2) of {@code path}, following symlinks: the st_mode (type and permission bits), or
   * -errno. ENOTCONN here is how a FUSE mount whose server died shows itself.
   */
  int statMode(String path);

  /**
   * statfs(2) of {@code path}, results discarded: 0 or -errno. Unlike stat it always reaches a
   * FUSE server (the kernel caches no statfs), so it tells a dead mount (ENOTCONN) at once.
   */
  int statfs(String path);

  int getpid();

  /** getuid(2): the real user id (the one fusermount3 records as the mount's owner). */
  int getuid();

  /** getgid(2): the real group id. */
  int getgid();

  /**
   * socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): stores the two connected descriptors in
   * {@code fds[0]} and {@code fds[1]}; 0 or -errno.
   */
  default int socketpair(int[] fds) {
    return -ENOSYS;
  }

  /** pipe2(O_CLOEXEC): {@code fds[0]} reads, {@code fds[1]} writes; 0 or -errno. */
  default int pipe(int[] fds) {
    return -ENOSYS;
  }

  /**
   * recvmsg(2) of one byte carrying one descriptor as SCM_RIGHTS (how fusermount3 hands over
   * /dev/fuse), received close-on-exec. Returns that descriptor, {@code -ENOMSG} when the peer
   * closed the socket without sending one, or -errno.
   */
  default int receiveFd(int socket) {
    return -ENOSYS;
  }

  /**
   * posix_spawn(3) of the program at the absolute {@code path} with {@code argv} and {@code
   * envp}; in the child, descriptor {@code from[i]} is dup2'ed to {@code to[i]} before exec, in
   * order. The copy is not close-on-exec, which is how a close-on-exec descriptor is passed on;
   * {@code from[i]} must differ from {@code to[i]}, as a dup2 onto itself keeps the flag.
   * Returns the child's pid or -errno (posix_spawn reports a failed exec too).
   */
  default int spawn(String path, String[] argv, String[] envp, int[] from, int[] to) {
    return -ENOSYS;
  }

  /** waitpid(2) for {@code pid}, retried on EINTR: the raw wait status, or -errno. */
  default int waitpid(int pid) {
    return -ENOSYS;
  }

  /** The text of an errno value (strerror). */
  String strerror(int errno);
}
