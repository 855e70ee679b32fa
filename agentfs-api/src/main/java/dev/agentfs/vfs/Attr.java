package dev.agentfs.vfs;

/**
 * An inode's attributes as stat(2) reports them. Times are nanoseconds since the epoch.
 * {@code mode} includes the file type bits ({@link Modes#S_IFMT}).
 *
 * @since 0.1
 */
public record Attr(
    long ino,
    int mode,
    int nlink,
    int uid,
    int gid,
    long rdev,
    long size,
    long blocks,
    long atimeNs,
    long mtimeNs,
    long ctimeNs,
    long btimeNs) {

  /** The preferred I/O size reported in st_blksize. */
  public static final int BLKSIZE = 4096;

  public int type() {
    return mode & Modes.S_IFMT;
  }

  public boolean isDirectory() {
    return type() == Modes.S_IFDIR;
  }

  public boolean isRegular() {
    return type() == Modes.S_IFREG;
  }

  public boolean isSymlink() {
    return type() == Modes.S_IFLNK;
  }

  public int permissions() {
    return mode & 07777;
  }
}
