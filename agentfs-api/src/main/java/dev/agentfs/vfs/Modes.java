package dev.agentfs.vfs;

/**
 * Linux mode, open-flag and operation-flag constants shared by the core and the transports.
 *
 * @since 0.1
 */
public final class Modes {
  private Modes() {}

  public static final int S_IFMT = 0170000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFIFO = 0010000;
  public static final int S_ISUID = 04000;
  public static final int S_ISGID = 02000;
  public static final int S_ISVTX = 01000;

  public static final int O_ACCMODE = 03;
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 01;
  public static final int O_RDWR = 02;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_NOCTTY = 0400;
  public static final int O_TRUNC = 01000;
  public static final int O_APPEND = 02000;
  public static final int O_NONBLOCK = 04000;
  public static final int O_DIRECTORY = 0200000;
  public static final int O_NOFOLLOW = 0400000;
  public static final int O_NOATIME = 01000000;
  /**
   * Not a Linux flag (bit 30 is unused by open(2)): the kernel's page cache may READ through
   * this handle even if it was opened write-only. With the FUSE writeback cache the kernel
   * fills partially written pages with READs on whichever handle it writes through; a user's
   * read(2) of a write-only descriptor is refused by the VFS before it reaches us.
   */
  public static final int O_KERNEL_CACHE_READS = 1 << 30;

  /** access(2) masks. */
  public static final int F_OK = 0;
  public static final int X_OK = 1;
  public static final int W_OK = 2;
  public static final int R_OK = 4;

  /** renameat2(2) flags. */
  public static final int RENAME_NOREPLACE = 1;
  public static final int RENAME_EXCHANGE = 2;
  public static final int RENAME_WHITEOUT = 4;

  /** setxattr(2) flags. */
  public static final int XATTR_CREATE = 1;
  public static final int XATTR_REPLACE = 2;

  /** fallocate(2) modes. */
  public static final int FALLOC_FL_KEEP_SIZE = 0x01;
  public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  public static final int FALLOC_FL_ZERO_RANGE = 0x10;

  /** lseek(2) whence values. */
  public static final int SEEK_SET = 0;
  public static final int SEEK_CUR = 1;
  public static final int SEEK_END = 2;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;

  /** Lock types as in struct flock. */
  public static final int F_RDLCK = 0;
  public static final int F_WRLCK = 1;
  public static final int F_UNLCK = 2;

  /** d_type values for readdir. */
  public static int dtype(int mode) {
    return (mode & S_IFMT) >>> 12;
  }

  public static boolean isDir(int mode) {
    return (mode & S_IFMT) == S_IFDIR;
  }

  public static boolean isReg(int mode) {
    return (mode & S_IFMT) == S_IFREG;
  }

  public static boolean isLnk(int mode) {
    return (mode & S_IFMT) == S_IFLNK;
  }
}
