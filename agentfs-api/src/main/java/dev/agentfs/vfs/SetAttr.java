package dev.agentfs.vfs;

/**
 * The attribute changes of one setattr call; a field is applied only when its flag is in
 * {@link #valid()}. Time fields are nanoseconds since the epoch; {@link #ATIME_NOW} and
 * {@link #MTIME_NOW} ask for the current time (utimensat's UTIME_NOW), an absent flag is
 * UTIME_OMIT.
 *
 * @since 0.1
 */
public record SetAttr(int valid, int mode, int uid, int gid, long size, long atimeNs, long mtimeNs,
    long ctimeNs) {
  public static final int MODE = 1;
  public static final int UID = 1 << 1;
  public static final int GID = 1 << 2;
  public static final int SIZE = 1 << 3;
  public static final int ATIME = 1 << 4;
  public static final int MTIME = 1 << 5;
  public static final int ATIME_NOW = 1 << 7;
  public static final int MTIME_NOW = 1 << 8;
  public static final int CTIME = 1 << 10;
  /** The caller asked to clear setuid/setgid (FATTR_KILL_SUIDGID). */
  public static final int KILL_SUIDGID = 1 << 11;

  public boolean has(int flag) {
    return (valid & flag) != 0;
  }

  public static SetAttr mode(int mode) {
    return new SetAttr(MODE, mode, 0, 0, 0, 0, 0, 0);
  }

  public static SetAttr owner(int uid, int gid) {
    int v = (uid >= 0 ? UID : 0) | (gid >= 0 ? GID : 0);
    return new SetAttr(v, 0, uid, gid, 0, 0, 0, 0);
  }

  public static SetAttr size(long size) {
    return new SetAttr(SIZE, 0, 0, 0, size, 0, 0, 0);
  }

  public static SetAttr times(long atimeNs, long mtimeNs) {
    return new SetAttr(ATIME | MTIME, 0, 0, 0, 0, atimeNs, mtimeNs, 0);
  }
}
