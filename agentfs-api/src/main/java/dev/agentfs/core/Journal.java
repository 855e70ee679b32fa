package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Content;
import dev.agentfs.spi.MetadataLog;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a filesystem on a durable backstore survive restarts and crashes. Branches remember
 * which inodes and directory entries changed since the last flush; a flush writes their
 * current state (not the operations that led there) as one atomic batch of records to the
 * backstore's {@link MetadataLog}. Replaying the batches in order rebuilds branches, snapshots
 * and trees exactly, because snapshot and branch records sit in the log between the state
 * records of the branch they freeze.
 *
 * <p>Flushes happen on fsync (synchronously durable, so data a caller fsync'd survives kill
 * -9), before every snapshot and branch operation, periodically from a background thread, and
 * at close. A crash loses at most the changes since the last flush, and never leaves a torn
 * batch visible: the log discards a torn tail.
 */
final class Journal {
  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

  static final byte INODE = 1;
  static final byte GONE = 2;
  static final byte ENTRY = 3;
  static final byte SNAPSHOT = 4;
  static final byte BRANCH = 5;
  static final byte DELETE_SNAPSHOT = 6;
  static final byte DELETE_BRANCH = 7;
  static final byte RESET = 8;
  /** The highest inode number ever used: compaction may drop every record that named it. */
  static final byte INOS = 9;

  private final FsCore core;
  private final MetadataLog log;

  /** Content objects by id: versions that share bytes must share one object. */
  final Map<String, Content> contentById = new ConcurrentHashMap<>();

  private volatile boolean replaying;

  Journal(FsCore core, MetadataLog log) {
    this.core = core;
    this.log = log;
  }

  boolean replaying() {
    return replaying;
  }

  // ---------------------------------------------------------------- writing

  /** Writes the dirty state of every branch; durable on return when {@code sync}. */
  synchronized void flushAll(boolean sync) throws AgentFsException {
    List<ByteBuffer> batch = new ArrayList<>();
    List<Taken> taken = new ArrayList<>();
    for (BranchFs b : core.liveBranches()) {
      b.st.freeze.writeLock().lock();
      try {
        taken.add(collect(b, batch));
      } finally {
        b.st.freeze.writeLock().unlock();
      }
    }
    try {
      if (!batch.isEmpty()) {
        log.append(batch, sync);
      } else if (sync) {
        log.sync();
      }
    } catch (AgentFsException | RuntimeException e) {
      restore(taken);
      throw e;
    }
  }

  /**
   * Appends {@code b}'s dirty state followed by {@code record}, both in one batch. The caller
   * holds {@code b}'s freeze lock exclusively (snapshot), so nothing slips in between.
   */
  synchronized void flushWith(@Nullable BranchFs b, ByteBuffer record) throws AgentFsException {
    List<ByteBuffer> batch = new ArrayList<>();
    List<Taken> taken = new ArrayList<>();
    if (b != null) {
      taken.add(collect(b, batch));
    }
    batch.add(record);
    try {
      log.append(batch, true);
    } catch (AgentFsException | RuntimeException e) {
      restore(taken);
      throw e;
    }
  }

  /** What one flush took out of a branch's dirty sets, to put back if the append fails. */
  private record Taken(BranchState st, List<Long> inos, List<BranchState.EntryKey> entries) {}

  /**
   * A failed append wrote nothing: mark what it carried dirty again, so the next flush (an
   * fsync retried once the log works, or the background flush) writes it. Without this a
   * retried fsync would succeed with nothing to write and the changes would never be logged.
   */
  private static void restore(List<Taken> taken) {
    for (Taken t : taken) {
      t.st.dirtyInodes.addAll(t.inos);
      t.st.dirtyEntries.addAll(t.entries);
    }
  }

  private Taken collect(BranchFs b, List<ByteBuffer> batch) {
    BranchState st = b.st;
    if (st.dirtyInodes.isEmpty() && st.dirtyEntries.isEmpty()) {
      return new Taken(st, List.of(), List.of());
    }
    List<Long> inos = new ArrayList<>(st.dirtyInodes);
    st.dirtyInodes.removeAll(inos);
    List<BranchState.EntryKey> entries = new ArrayList<>(st.dirtyEntries);
    st.dirtyEntries.removeAll(entries);
    for (long ino : inos) {
      Inode n = st.table.get(ino);
      batch.add(n == null ? gone(st.name, ino) : inode(st.name, n));
    }
    for (BranchState.EntryKey k : entries) {
      Inode d = st.table.get(k.dir());
      if (d == null) {
        continue; // the directory itself is gone; its GONE record covers the entries
      }
      batch.add(entry(st.name, k.dir(), k.name(), d.entries.get(k.name())));
    }
    return new Taken(st, inos, entries);
  }

  private static final class Out {
    ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);

    void ensure(int n) {
      if (b.remaining() < n) {
        ByteBuffer nb = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n))
            .order(ByteOrder.LITTLE_ENDIAN);
        b.flip();
        nb.put(b);
        b = nb;
      }
    }

    Out u8(int v) {
      ensure(1);
      b.put((byte) v);
      return this;
    }

    Out i32(int v) {
      ensure(4);
      b.putInt(v);
      return this;
    }

    Out i64(long v) {
      ensure(8);
      b.putLong(v);
      return this;
    }

    Out bytes(byte @Nullable [] v) {
      if (v == null) {
        return i32(-1);
      }
      i32(v.length);
      ensure(v.length);
      b.put(v);
      return this;
    }

    Out str(@Nullable String s) {
      return bytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    ByteBuffer done() {
      return b.flip();
    }
  }

  private static ByteBuffer inode(String branch, Inode n) {
    Out o = new Out().u8(INODE).str(branch).i64(n.ino).i32(n.mode).i32(n.uid).i32(n.gid)
        .i32(n.nlink).i64(n.rdev).i64(n.atime).i64(n.mtime).i64(n.ctime).i64(n.btime)
        .i64(n.parent).bytes(n.nameHint.bytes).i64(n.nextCookie);
    Content c = n.content;
    o.str(c == null ? null : c.id()).bytes(n.target).i32(n.xattrs.size());
    for (Map.Entry<String, byte[]> e : n.xattrs.entrySet()) {
      o.str(e.getKey()).bytes(e.getValue());
    }
    o.str(n.lowerPath).u8((n.lowerLoaded ? 1 : 0) | (c instanceof LowerContent ? 2 : 0))
        .i64(n.lowerMtime).i64(n.lowerSize);
    return o.done();
  }

  static ByteBuffer gone(String branch, long ino) {
    return new Out().u8(GONE).str(branch).i64(ino).done();
  }

  private static ByteBuffer entry(String branch, long dir, Name name, @Nullable Dirent d) {
    Out o = new Out().u8(ENTRY).str(branch).i64(dir).bytes(name.bytes);
    return d == null ? o.i64(0).i32(0).i64(0).done()
        : o.i64(d.ino()).i32(d.type()).i64(d.cookie()).done();
  }

  static ByteBuffer snapshotRecord(String branch, String name, long createdNs) {
    return new Out().u8(SNAPSHOT).str(branch).str(name).i64(createdNs).done();
  }

  static ByteBuffer branchRecord(String name, String from, long createdNs) {
    return new Out().u8(BRANCH).str(name).str(from).i64(createdNs).done();
  }

  static ByteBuffer deleteSnapshotRecord(String name) {
    return new Out().u8(DELETE_SNAPSHOT).str(name).done();
  }

  static ByteBuffer resetRecord(String branch, String snapshot) {
    return new Out().u8(RESET).str(branch).str(snapshot).done();
  }

  static ByteBuffer deleteBranchRecord(String name) {
    return new Out().u8(DELETE_BRANCH).str(name).done();
  }

  static ByteBuffer inosRecord(long maxIno) {
    return new Out().u8(INOS).i64(maxIno).done();
  }

  // ---------------------------------------------------------------- compaction

  /** Whether the log asks to be compacted (it has grown past its threshold). */
  boolean wantsCompaction() {
    return log.wantsCompaction();
  }

  /**
   * Rewrites the log without what replay no longer needs ({@link LogCompactor}); returns its
   * size before and after. Holds this monitor, so no flush appends in between.
   */
  synchronized long[] compact() throws AgentFsException {
    long before = log.sizeBytes();
    log.compact(out -> LogCompactor.compact(log::replay, out));
    return new long[] {before, log.sizeBytes()};
  }

  // ---------------------------------------------------------------- replay

  static String str(ByteBuffer b) {
    byte[] v = bytes(b);
    return v == null ? "" : new String(v, StandardCharsets.UTF_8);
  }

  static byte @Nullable [] bytes(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0) {
      return null;
    }
    byte[] v = new byte[n];
    b.get(v);
    return v;
  }

  /** Rebuilds every branch and snapshot from the log; returns the largest inode number. */
  long replay() throws AgentFsException {
    replaying = true;
    long[] maxIno = {BranchFs.ROOT};
    int[] batches = {0};
    try {
      log.replay(batch -> {
        batches[0]++;
        for (ByteBuffer rec : batch) {
          apply(rec.duplicate().order(ByteOrder.LITTLE_ENDIAN), maxIno);
        }
      });
    } catch (RuntimeException e) {
      throw new AgentFsException(Errno.EIO, "metadata log", e);
    } finally {
      replaying = false;
    }
    LOG.debug("replayed {} batches, max inode {}", batches[0], maxIno[0]);
    for (BranchFs b : core.liveBranches()) {
      b.st.dirtyInodes.clear();
      b.st.dirtyEntries.clear();
    }
    return maxIno[0];
  }

  /**
   * Counts {@code ino} towards the highest inode number the filesystem allocated. An overlay's
   * lower inodes carry the host's number with bit 62 set ({@link Lower#INO_BASE}) and are
   * logged once changed; counting them would move the counter into that space, and files made
   * after a restart would take numbers of other lower entries (a new file with a lower
   * directory's number: git saw its tree turn into an empty file).
   */
  private static void allocated(long[] maxIno, long ino) {
    if (ino < Lower.INO_BASE) {
      maxIno[0] = Math.max(maxIno[0], ino);
    }
  }

  private void apply(ByteBuffer r, long[] maxIno) throws AgentFsException {
    byte type = r.get();
    switch (type) {
      case INODE -> {
        BranchFs b = core.branch(str(r));
        long ino = r.getLong();
        allocated(maxIno, ino);
        int mode = r.getInt();
        int uid = r.getInt();
        int gid = r.getInt();
        int nlink = r.getInt();
        long rdev = r.getLong();
        long atime = r.getLong();
        long mtime = r.getLong();
        long ctime = r.getLong();
        long btime = r.getLong();
        Inode n = b.replayInode(ino, mode, btime);
        n.lowerPristine = false; // only changed inodes are logged
        n.mode = mode;
        n.uid = uid;
        n.gid = gid;
        n.nlink = nlink;
        n.rdev = rdev;
        n.atime = atime;
        n.mtime = mtime;
        n.ctime = ctime;
        n.parent = r.getLong();
        byte[] nm = bytes(r);
        n.nameHint = Name.of(nm == null ? new byte[0] : nm);
        long nextCookie = r.getLong();
        byte[] id = bytes(r);
        if (id == null) {
          n.content = null;
          n.contentShared = false;
        } else {
          String sid = new String(id, StandardCharsets.UTF_8);
          Content cur = n.content;
          if (cur == null || !sid.equals(cur.id())) {
            n.content = contentById.computeIfAbsent(sid, k -> core.openContentUnchecked(k));
            n.contentShared = false;
          }
        }
        n.target = bytes(r);
        int nx = r.getInt();
        TreeMap<String, byte[]> x = new TreeMap<>();
        for (int i = 0; i < nx; i++) {
          String k = str(r);
          x.put(k, bytes(r));
        }
        n.setXattrs(x);
        byte[] lp = bytes(r);
        int flags = r.get();
        n.lowerMtime = r.getLong();
        n.lowerSize = r.getLong();
        n.lowerPath = lp == null ? null : new String(lp, StandardCharsets.UTF_8);
        Lower lower = core.lower;
        if (lower != null && n.lowerPath != null) {
          if ((flags & 2) != 0) {
            n.content = new LowerContent(lower, n.lowerPath);
            n.contentShared = false;
          }
          if ((flags & 1) != 0 && n.isDir() && !n.lowerLoaded) {
            List<Lower.Entry> listing;
            try {
              listing = lower.list(n.lowerPath);
            } catch (AgentFsException e) {
              LOG.warn("lower directory {} is gone: {}", n.lowerPath, e.getMessage());
              listing = List.of();
            }
            b.install(lower, n, listing);
          }
        }
        // After install, so loaded entries get the cookies they had when first loaded.
        n.nextCookie = Math.max(n.nextCookie, nextCookie);
      }
      case GONE -> core.branch(str(r)).replayGone(r.getLong());
      case ENTRY -> {
        BranchFs b = core.branch(str(r));
        long dir = r.getLong();
        byte[] nm = bytes(r);
        long ino = r.getLong();
        int t = r.getInt();
        long cookie = r.getLong();
        b.replayEntry(dir, Name.of(nm == null ? new byte[0] : nm), ino, t, cookie);
      }
      case SNAPSHOT -> {
        String branch = str(r);
        String name = str(r);
        core.snapshotAt(branch, name, r.getLong());
      }
      case BRANCH -> {
        String name = str(r);
        String from = str(r);
        core.createBranchAt(name, from, r.getLong());
      }
      case DELETE_SNAPSHOT -> core.dropSnapshot(str(r));
      case DELETE_BRANCH -> core.dropBranch(str(r));
      case RESET -> {
        String branch = str(r);
        core.replayReset(branch, str(r));
      }
      case INOS -> allocated(maxIno, r.getLong());
      default -> throw new AgentFsException(Errno.EIO, "metadata log", null,
          "unknown record type " + type);
    }
  }

  void forget(Content c) {
    String id = c.id();
    if (id != null) {
      contentById.remove(id, c);
    }
  }

  void remember(Content c) {
    String id = c.id();
    if (id != null) {
      contentById.put(id, c);
    }
  }
}
