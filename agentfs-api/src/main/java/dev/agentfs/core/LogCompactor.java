package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.MetadataLog;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the {@link Journal}'s log into a shorter one that replays to the same branches,
 * snapshots, trees and inode counter, for {@link MetadataLog#compact}. Two passes over the old
 * log, never more than one segment per branch in memory:
 *
 * <ol>
 *   <li>Which snapshot and branch lifetimes the end state still depends on: those alive at the
 *       end, the snapshots a needed branch was created from or reset to, and the branches a
 *       needed snapshot was taken of. Records of the others (created, then deleted, never used
 *       by anything that survives) are dropped, with their creation and deletion.
 *   <li>Between two events that read or replace a branch's table (a snapshot of it, a reset, its
 *       deletion) only the last state record of each inode and of each directory entry counts,
 *       so each such segment becomes one run of records: inode states first, then entries,
 *       exactly what the journal would have written had it flushed once at the segment's end
 *       instead of many times. State records before a reset or deletion of their branch are
 *       dead and dropped.
 * </ol>
 *
 * An {@code INOS} record at the start keeps the highest inode number, so numbers of dropped
 * inodes are never reused. A log replay rejects stops the compaction with EIO; the old log
 * stays.
 */
final class LogCompactor {
  /** Largest batch written; the whole new log is installed atomically, so the cut is free. */
  private static final int BATCH_BYTES = 1 << 20;

  /** Something that can replay the batches of a log (a {@link MetadataLog}). */
  @FunctionalInterface
  interface Source {
    void replay(MetadataLog.BatchSink sink) throws AgentFsException;
  }

  private final Source source;
  private final BitSet neededSnapshots = new BitSet();
  private final BitSet neededBranches = new BitSet();
  private long maxIno = BranchFs.ROOT;

  private LogCompactor(Source source) {
    this.source = source;
  }

  /** Writes the compacted form of the log {@code source} replays to {@code out}. */
  static void compact(Source source, MetadataLog.BatchSink out) throws AgentFsException {
    LogCompactor c = new LogCompactor(source);
    c.plan();
    c.write(out);
  }

  // ---------------------------------------------------------------- pass 1

  private void plan() throws AgentFsException {
    Names names = new Names();
    List<Integer> snapshotOf = new ArrayList<>(); // snapshot -> the branch it froze
    List<Integer> baseOf = new ArrayList<>(); // branch -> the snapshot it started from
    List<List<Integer>> resetsOf = new ArrayList<>(); // branch -> snapshots it was reset to
    baseOf.add(-1); // main
    resetsOf.add(new ArrayList<>());
    each(r -> {
      byte type = r.get();
      switch (type) {
        case Journal.INODE, Journal.GONE -> {
          Journal.str(r);
          if (type == Journal.INODE) {
            maxIno = Math.max(maxIno, r.getLong());
          }
        }
        case Journal.SNAPSHOT -> {
          int b = names.branch(Journal.str(r));
          names.newSnapshot(Journal.str(r));
          snapshotOf.add(b);
        }
        case Journal.BRANCH -> {
          String name = Journal.str(r);
          int from = names.snapshot(Journal.str(r));
          names.newBranch(name);
          baseOf.add(from);
          resetsOf.add(new ArrayList<>());
        }
        case Journal.RESET -> {
          int b = names.branch(Journal.str(r));
          resetsOf.get(b).add(names.snapshot(Journal.str(r)));
        }
        case Journal.DELETE_SNAPSHOT -> names.deleteSnapshot(Journal.str(r));
        case Journal.DELETE_BRANCH -> names.deleteBranch(Journal.str(r));
        case Journal.INOS -> maxIno = Math.max(maxIno, r.getLong());
        case Journal.ENTRY -> { }
        default -> throw bad("unknown record type " + type);
      }
    });
    // Everything alive at the end is needed, and whatever a needed thing was made from.
    List<int[]> work = new ArrayList<>();
    names.snapshots.values().forEach(s -> work.add(new int[] {0, s}));
    names.branches.values().forEach(b -> work.add(new int[] {1, b}));
    while (!work.isEmpty()) {
      int[] w = work.remove(work.size() - 1);
      if (w[0] == 0) {
        if (!neededSnapshots.get(w[1])) {
          neededSnapshots.set(w[1]);
          work.add(new int[] {1, snapshotOf.get(w[1])});
        }
      } else if (!neededBranches.get(w[1])) {
        neededBranches.set(w[1]);
        if (baseOf.get(w[1]) >= 0) {
          work.add(new int[] {0, baseOf.get(w[1])});
        }
        resetsOf.get(w[1]).forEach(s -> work.add(new int[] {0, s}));
      }
    }
  }

  // ---------------------------------------------------------------- pass 2

  private void write(MetadataLog.BatchSink out) throws AgentFsException {
    Output o = new Output(out);
    o.add(Journal.inosRecord(maxIno));
    Names names = new Names();
    Map<Integer, Segment> open = new TreeMap<>();
    each(r -> {
      ByteBuffer rec = r.duplicate();
      byte type = r.get();
      switch (type) {
        case Journal.INODE, Journal.GONE, Journal.ENTRY -> {
          String name = Journal.str(r);
          int b = names.branch(name);
          if (!neededBranches.get(b)) {
            return;
          }
          Segment s = open.computeIfAbsent(b, k -> new Segment(name));
          if (type == Journal.ENTRY) {
            long dir = r.getLong();
            byte[] nm = Journal.bytes(r);
            s.entry(dir, Name.of(nm == null ? new byte[0] : nm), copy(rec));
          } else {
            s.inode(r.getLong(), type == Journal.GONE, copy(rec));
          }
        }
        case Journal.SNAPSHOT -> {
          int b = names.branch(Journal.str(r));
          int id = names.newSnapshot(Journal.str(r));
          if (neededSnapshots.get(id)) {
            Segment s = open.remove(b);
            if (s != null) {
              s.writeTo(o);
            }
            o.add(copy(rec));
          }
        }
        case Journal.BRANCH -> {
          String name = Journal.str(r);
          names.snapshot(Journal.str(r));
          if (neededBranches.get(names.newBranch(name))) {
            o.add(copy(rec));
          }
        }
        case Journal.RESET, Journal.DELETE_BRANCH -> {
          String name = Journal.str(r);
          int b = names.branch(name);
          if (type == Journal.RESET) {
            names.snapshot(Journal.str(r));
          } else {
            names.deleteBranch(name);
          }
          if (neededBranches.get(b)) {
            open.remove(b); // the branch's table is replaced or gone: its pending state is dead
            o.add(copy(rec));
          }
        }
        case Journal.DELETE_SNAPSHOT -> {
          String name = Journal.str(r);
          if (neededSnapshots.get(names.snapshot(name))) {
            o.add(copy(rec));
          }
          names.deleteSnapshot(name);
        }
        case Journal.INOS -> { }
        default -> throw bad("unknown record type " + type);
      }
    });
    for (Segment s : open.values()) {
      s.writeTo(o);
    }
    o.finish();
  }

  /** The last state records of one branch since its last snapshot or reset. */
  private static final class Segment {
    final String branch;
    final LinkedHashMap<Long, ByteBuffer> inodes = new LinkedHashMap<>();
    final Map<Long, Boolean> gone = new HashMap<>(); // ino -> its latest record is GONE
    /** Inodes removed in this segment and then logged again: replay must drop the old first. */
    final java.util.Set<Long> recreated = new java.util.HashSet<>();
    final LinkedHashMap<Long, LinkedHashMap<Name, ByteBuffer>> entries = new LinkedHashMap<>();

    Segment(String branch) {
      this.branch = branch;
    }

    void inode(long ino, boolean isGone, ByteBuffer rec) {
      Boolean was = gone.put(ino, isGone);
      if (isGone) {
        entries.remove(ino); // replaying GONE drops the directory with its entries
      } else if (Boolean.TRUE.equals(was)) {
        recreated.add(ino);
      }
      inodes.put(ino, rec);
    }

    void entry(long dir, Name name, ByteBuffer rec) {
      entries.computeIfAbsent(dir, k -> new LinkedHashMap<>()).put(name, rec);
    }

    void writeTo(Output o) throws AgentFsException {
      for (Map.Entry<Long, ByteBuffer> e : inodes.entrySet()) {
        if (recreated.contains(e.getKey()) && !gone.get(e.getKey())) {
          o.add(Journal.gone(branch, e.getKey()));
        }
        o.add(e.getValue());
      }
      for (LinkedHashMap<Name, ByteBuffer> dir : entries.values()) {
        for (ByteBuffer rec : dir.values()) {
          o.add(rec);
        }
      }
    }
  }

  /** Collects records into batches of about {@link #BATCH_BYTES}. */
  private static final class Output {
    final MetadataLog.BatchSink out;
    List<ByteBuffer> batch = new ArrayList<>();
    long bytes;

    Output(MetadataLog.BatchSink out) {
      this.out = out;
    }

    void add(ByteBuffer rec) throws AgentFsException {
      if (bytes > 0 && bytes + rec.remaining() > BATCH_BYTES) {
        finish();
      }
      batch.add(rec);
      bytes += 4 + rec.remaining();
    }

    void finish() throws AgentFsException {
      if (!batch.isEmpty()) {
        out.accept(batch);
        batch = new ArrayList<>();
        bytes = 0;
      }
    }
  }

  /**
   * Live snapshot and branch names, resolved to lifetimes: the n-th SNAPSHOT (BRANCH) record
   * starts lifetime n, "main" is branch lifetime 0. Both passes number them the same way.
   */
  private static final class Names {
    final Map<String, Integer> snapshots = new HashMap<>();
    final Map<String, Integer> branches = new HashMap<>();
    int snapshotCount;
    int branchCount = 1;

    Names() {
      branches.put("main", 0);
    }

    int newSnapshot(String name) {
      snapshots.put(name, snapshotCount);
      return snapshotCount++;
    }

    int newBranch(String name) {
      branches.put(name, branchCount);
      return branchCount++;
    }

    int snapshot(String name) throws AgentFsException {
      Integer s = snapshots.get(name);
      if (s == null) {
        throw bad("no snapshot " + name);
      }
      return s;
    }

    int branch(String name) throws AgentFsException {
      Integer b = branches.get(name);
      if (b == null) {
        throw bad("no branch " + name);
      }
      return b;
    }

    void deleteSnapshot(String name) throws AgentFsException {
      snapshot(name);
      snapshots.remove(name);
    }

    void deleteBranch(String name) throws AgentFsException {
      branch(name);
      branches.remove(name);
    }
  }

  // ---------------------------------------------------------------- helpers

  @FunctionalInterface
  private interface RecordSink {
    void accept(ByteBuffer record) throws AgentFsException;
  }

  private void each(RecordSink sink) throws AgentFsException {
    try {
      source.replay(batch -> {
        for (ByteBuffer rec : batch) {
          sink.accept(rec.duplicate().order(ByteOrder.LITTLE_ENDIAN));
        }
      });
    } catch (RuntimeException e) {
      throw new AgentFsException(Errno.EIO, "metadata log", null,
          "cannot compact, the log does not parse: " + e);
    }
  }

  private static ByteBuffer copy(ByteBuffer rec) {
    return ByteBuffer.allocate(rec.remaining()).put(rec.duplicate()).flip();
  }

  private static AgentFsException bad(String what) {
    return new AgentFsException(Errno.EIO, "metadata log", null, "cannot compact: " + what);
  }
}
