package dev.agentfs.vfs;

import dev.agentfs.AgentFsException;
import java.nio.ByteBuffer;

/**
 * The inode-level filesystem contract that transports call: one method per FUSE low-level
 * operation, with node ids instead of paths, names as raw bytes, and a {@link Caller} for
 * permission checks and per-process routing. Node id {@link #ROOT} is the root directory.
 *
 * <p>Reference counting follows the kernel: every successful {@link #lookup}, {@link #mknod},
 * {@link #mkdir}, {@link #symlink}, {@link #link}, {@link #create}, and every readdirplus entry
 * other than "." and ".." adds one reference to the returned node; {@link #forget} drops them.
 * An unlinked node stays usable while referenced or open. Operations on an already open handle
 * (read, write, fsync, flush) do not check permissions again, exactly as the kernel behaves.
 *
 * <p>The {@code umask} of the creating calls applies to {@code mode} unless the parent
 * directory has a default POSIX ACL, which then decides the new node's permissions instead
 * (as on Linux filesystems with ACLs); transports pass the mode unmasked with the caller's
 * umask. A mode that arrives already masked is fine too: masking twice changes nothing.
 *
 * <p>Implementations are thread-safe. Failures are {@link AgentFsException}s carrying an errno.
 *
 * @since 0.1
 */
public interface Vfs {
  long ROOT = 1;

  Attr lookup(Caller c, long parent, byte[] name) throws AgentFsException;

  /** Drops {@code nlookup} kernel references to {@code ino}. Never fails. */
  void forget(long ino, long nlookup);

  /** Attributes of {@code ino}; {@code fh} is the open handle when the caller has one, else 0. */
  Attr getattr(Caller c, long ino, long fh) throws AgentFsException;

  Attr setattr(Caller c, long ino, long fh, SetAttr set) throws AgentFsException;

  byte[] readlink(Caller c, long ino) throws AgentFsException;

  /** Creates a regular file, FIFO, socket or device; {@code mode} includes the type bits. */
  Attr mknod(Caller c, long parent, byte[] name, int mode, long rdev, int umask)
      throws AgentFsException;

  Attr mkdir(Caller c, long parent, byte[] name, int mode, int umask) throws AgentFsException;

  Attr symlink(Caller c, long parent, byte[] name, byte[] target) throws AgentFsException;

  Attr link(Caller c, long ino, long newParent, byte[] newName) throws AgentFsException;

  void unlink(Caller c, long parent, byte[] name) throws AgentFsException;

  void rmdir(Caller c, long parent, byte[] name) throws AgentFsException;

  /** renameat2 with {@link Modes#RENAME_NOREPLACE} or {@link Modes#RENAME_EXCHANGE} flags. */
  void rename(Caller c, long parent, byte[] name, long newParent, byte[] newName, int flags)
      throws AgentFsException;

  /** Opens {@code ino} with open(2) flags and returns a file handle. */
  long open(Caller c, long ino, int flags) throws AgentFsException;

  Created create(Caller c, long parent, byte[] name, int mode, int flags, int umask)
      throws AgentFsException;

  /** O_TMPFILE: an unnamed regular file in {@code parent}, linkable later with {@link #link}. */
  Created tmpfile(Caller c, long parent, int mode, int flags, int umask) throws AgentFsException;

  /** Reads at {@code offset} into {@code dst}; returns bytes read, 0 at end of file. */
  int read(long ino, long fh, long offset, ByteBuffer dst) throws AgentFsException;

  /**
   * Writes {@code src} at {@code offset} (at end of file for an O_APPEND handle); returns the
   * bytes written. Clears setuid/setgid when the caller is not privileged.
   */
  int write(Caller c, long ino, long fh, long offset, ByteBuffer src) throws AgentFsException;

  /** close(2) of one file descriptor: releases the POSIX locks {@code lockOwner} holds. */
  void flush(Caller c, long ino, long fh, long lockOwner) throws AgentFsException;

  /** The last close of a handle; also drops flock locks held through it. */
  void release(long ino, long fh) throws AgentFsException;

  void fsync(long ino, long fh, boolean datasync) throws AgentFsException;

  long opendir(Caller c, long ino, int flags) throws AgentFsException;

  /**
   * Lists entries after {@code offset} (0 starts at the beginning; "." and ".." come first).
   * Offsets are stable: entries present for the whole listing are returned exactly once even
   * while others are added or removed. With {@code plus}, each entry carries its attributes.
   */
  void readdir(Caller c, long ino, long fh, long offset, boolean plus, DirSink sink)
      throws AgentFsException;

  void releasedir(long ino, long fh) throws AgentFsException;

  void fsyncdir(long ino, long fh, boolean datasync) throws AgentFsException;

  StatFs statfs(Caller c, long ino) throws AgentFsException;

  void setxattr(Caller c, long ino, String name, byte[] value, int flags) throws AgentFsException;

  /** The whole value; the transport answers size probes and ERANGE from its length. */
  byte[] getxattr(Caller c, long ino, String name) throws AgentFsException;

  /** Names visible to the caller, each followed by a NUL byte, as listxattr(2) returns them. */
  byte[] listxattr(Caller c, long ino) throws AgentFsException;

  void removexattr(Caller c, long ino, String name) throws AgentFsException;

  /** access(2) with {@link Modes#R_OK}, {@link Modes#W_OK}, {@link Modes#X_OK} bits. */
  void access(Caller c, long ino, int mask) throws AgentFsException;

  /** F_GETLK: the first lock that conflicts with {@code lock}, or a lock of type F_UNLCK. */
  FileLock getlk(long ino, long fh, long owner, FileLock lock) throws AgentFsException;

  /**
   * F_SETLK / F_SETLKW (when {@code wait}), or flock(2) when {@code flock}: whole-file locks
   * owned by the open file. A blocked wait ends with EINTR when the thread is interrupted.
   */
  void setlk(long ino, long fh, long owner, FileLock lock, boolean wait, boolean flock)
      throws AgentFsException;

  void fallocate(Caller c, long ino, long fh, int mode, long offset, long length)
      throws AgentFsException;

  /** SEEK_DATA / SEEK_HOLE (others are answered by the kernel). */
  long lseek(long ino, long fh, long offset, int whence) throws AgentFsException;

  long copyFileRange(Caller c, long inoIn, long fhIn, long offIn, long inoOut, long fhOut,
      long offOut, long len, int flags) throws AgentFsException;

  /**
   * Kernel passthrough (and java.nio memory mappings): the host file that may serve reads and
   * writes of regular file {@code ino} directly, without further calls into this filesystem,
   * or null when the bytes are shared with a snapshot (and {@code forWrite} is false), are not
   * in a host file, or the file is set-user/group-ID (a write must clear those bits, so it
   * must reach us). For a write the filesystem first unshares the bytes, so kernel writes can
   * never reach a snapshot. The returned file stays this inode's until {@link
   * #releaseBacking}; a snapshot taken meanwhile gets its own copy of it. While it is in use,
   * {@link #fsync} tells listeners the file changed (the writes it cannot see).
   */
  default java.nio.file.@org.jspecify.annotations.Nullable Path openBacking(long ino,
      boolean forWrite) throws AgentFsException {
    return null;
  }

  /**
   * The kernel (or a mapping) no longer uses the host file {@link #openBacking} returned for
   * {@code ino}.
   */
  default void releaseBacking(long ino) {}

  /**
   * True when what {@code node} contains depends on who asks (the root of a mount whose
   * processes are bound to different branches): the kernel must not cache entries under it
   * nor its attributes. Everything else stays cacheable.
   */
  default boolean sharedNode(long node) {
    return false;
  }

  /**
   * The longest, in nanoseconds, the kernel may cache {@code node}'s attributes, the entries
   * under it and its listing, and keep its pages across opens ({@link Long#MAX_VALUE}: no
   * limit beyond the configured timeouts). An overlay limits what it may have to re-read from
   * a lower directory that others change.
   */
  default long cacheLimitNanos(long node) {
    return Long.MAX_VALUE;
  }

  /**
   * A restricted ioctl on an open file: {@code in} holds the bytes the command carries in,
   * the reply at most {@code outSize} bytes out. ENOTTY unless the node understands it.
   */
  default byte[] ioctl(Caller c, long ino, long fh, int cmd, byte[] in, int outSize)
      throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOTTY, "inode " + ino);
  }
}
