package dev.agentfs.vfs;

import java.util.function.IntFunction;

/**
 * Who is asking: the process id and credentials of the caller of one operation. Permission
 * checks in the core use {@link #uid()}, {@link #gid()} and the supplementary groups; the
 * router uses {@link #pid()} to pick the caller's branch. Supplementary groups are loaded
 * lazily (a FUSE request does not carry them; the transport reads them only when a check
 * needs them).
 *
 * @since 0.1
 */
public final class Caller {
  /** The host process itself with full privileges, used by the Java API by default. */
  public static final Caller ROOT = new Caller(0, 0, 0, new int[0]);

  private static final int[] NOT_LOADED = new int[0];

  private final int pid;
  private final int uid;
  private final int gid;
  private final IntFunction<int[]> groupLoader;
  private volatile int[] groups;

  public Caller(int pid, int uid, int gid, int[] groups) {
    this.pid = pid;
    this.uid = uid;
    this.gid = gid;
    this.groups = groups.clone();
    this.groupLoader = p -> new int[0];
  }

  /** A caller whose supplementary groups are fetched on first use by {@code loader(pid)}. */
  public Caller(int pid, int uid, int gid, IntFunction<int[]> loader) {
    this.pid = pid;
    this.uid = uid;
    this.gid = gid;
    this.groups = NOT_LOADED;
    this.groupLoader = loader;
  }

  public int pid() {
    return pid;
  }

  public int uid() {
    return uid;
  }

  public int gid() {
    return gid;
  }

  /** True when {@code g} is the caller's primary group or one of its supplementary groups. */
  public boolean inGroup(int g) {
    if (g == gid) {
      return true;
    }
    int[] gs = groups;
    if (gs == NOT_LOADED) {
      gs = groupLoader.apply(pid);
      groups = gs;
    }
    for (int x : gs) {
      if (x == g) {
        return true;
      }
    }
    return false;
  }

  public boolean isRoot() {
    return uid == 0;
  }

  @Override
  public String toString() {
    return "Caller{pid=" + pid + ", uid=" + uid + ", gid=" + gid + "}";
  }
}
