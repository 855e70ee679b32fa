package dev.agentfs.core;

import dev.agentfs.spi.Content;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Modes;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One version of an inode. A version belongs to the branch epoch that made it: while the epoch
 * is current the branch mutates it in place under its monitor; once a snapshot freezes the
 * epoch the version is immutable, and the branch makes a new version ({@link #copyFor}) before
 * changing anything. Directory entries and xattrs are persistent maps, so a new version shares
 * them and copying is O(1); file bytes are shared until the first write ({@link
 * #contentShared}) and then copied by the backstore at chunk granularity.
 */
final class Inode {
  static final int DIR_SIZE = 4096;

  final long ino;
  final long epoch;

  int mode;
  int uid;
  int gid;
  int nlink;
  long rdev;
  long atime;
  long mtime;
  long ctime;
  final long btime;

  /** The directory and name this inode was last linked under; used to name changes in diffs. */
  long parent;

  Name nameHint;

  /** Regular files: content, and whether an older version still shares it. */
  volatile @Nullable Content content;

  boolean contentShared;

  /** Directories: entries by name and by readdir cookie. */
  volatile Hamt<Name, Dirent> entries = Hamt.empty();

  volatile LongTrie<Dirent> byCookie = LongTrie.empty();
  long nextCookie = 3;

  /** Symlinks: target bytes. */
  byte @Nullable [] target;

  /** Overlay: where this inode lives in the lower directory, or null for inodes made here. */
  @Nullable String lowerPath;

  /** Overlay directories: whether the lower listing has been turned into entries yet. */
  volatile boolean lowerLoaded;

  /** Overlay: loaded from the lower and never changed since (diffs treat it as the lower). */
  boolean lowerPristine;

  /** Overlay: the lower file's mtime and size when first loaded, to detect later edits. */
  long lowerMtime = -1;

  long lowerSize = -1;

  /** Overlay: the clock when this untouched lower entry was last compared with the host. */
  volatile long lowerChecked;

  /**
   * Overlay: the host changed this entry so recently that a further change within its
   * timestamp granularity would not move its times; compared in full at the next check.
   */
  volatile boolean lowerRacy;

  /** Serialises changes to this version's bytes; taken before the monitor. */
  final java.util.concurrent.locks.ReentrantLock io = new java.util.concurrent.locks.ReentrantLock();

  /** O_TMPFILE inodes may be linked while their link count is still 0. */
  boolean tmpfile;

  /** Extended attributes; replaced, never mutated, so versions can share the map. */
  Map<String, byte[]> xattrs = Map.of();

  Inode(long ino, long epoch, int mode, int uid, int gid, long now, long parent, Name name) {
    this.ino = ino;
    this.epoch = epoch;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.atime = now;
    this.mtime = now;
    this.ctime = now;
    this.btime = now;
    this.parent = parent;
    this.nameHint = name;
    this.nlink = Modes.isDir(mode) ? 2 : 1;
  }

  private Inode(Inode o, long epoch) {
    this.ino = o.ino;
    this.epoch = epoch;
    this.mode = o.mode;
    this.uid = o.uid;
    this.gid = o.gid;
    this.nlink = o.nlink;
    this.rdev = o.rdev;
    this.atime = o.atime;
    this.mtime = o.mtime;
    this.ctime = o.ctime;
    this.btime = o.btime;
    this.parent = o.parent;
    this.nameHint = o.nameHint;
    this.content = o.content;
    this.contentShared = o.content != null;
    this.entries = o.entries;
    this.byCookie = o.byCookie;
    this.nextCookie = o.nextCookie;
    this.target = o.target;
    this.xattrs = o.xattrs;
    this.tmpfile = o.tmpfile;
    this.lowerPath = o.lowerPath;
    this.lowerLoaded = o.lowerLoaded;
    this.lowerPristine = o.lowerPristine;
    this.lowerMtime = o.lowerMtime;
    this.lowerSize = o.lowerSize;
    this.lowerChecked = o.lowerChecked;
    this.lowerRacy = o.lowerRacy;
  }

  /** A new version for {@code newEpoch}; the caller holds this version's monitor. */
  Inode copyFor(long newEpoch) {
    return new Inode(this, newEpoch);
  }

  boolean isDir() {
    return Modes.isDir(mode);
  }

  boolean isReg() {
    return Modes.isReg(mode);
  }

  boolean isSymlink() {
    return Modes.isLnk(mode);
  }

  int type() {
    return mode & Modes.S_IFMT;
  }

  long size() {
    if (content != null) {
      return content.size();
    }
    if (target != null) {
      return target.length;
    }
    return isDir() ? DIR_SIZE : 0;
  }

  synchronized Attr attr() {
    long blocks;
    if (content != null) {
      blocks = (content.allocatedBytes() + 511) / 512;
    } else {
      blocks = isDir() ? DIR_SIZE / 512 : 0;
    }
    return new Attr(ino, mode, nlink, uid, gid, rdev, size(), blocks, atime, mtime, ctime, btime);
  }

  /** Adds an entry with the next cookie; caller holds the monitor and checked absence. */
  void addEntry(Name name, long childIno, int type) {
    Dirent d = new Dirent(name, childIno, type, nextCookie++);
    entries = entries.with(name, d);
    byCookie = byCookie.with(d.cookie(), d);
  }

  void removeEntry(Dirent d) {
    entries = entries.without(d.name());
    byCookie = byCookie.without(d.cookie());
  }

  void setXattrs(TreeMap<String, byte[]> map) {
    this.xattrs = map.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(map);
  }
}
