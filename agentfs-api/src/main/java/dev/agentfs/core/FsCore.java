package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.Content;
import dev.agentfs.vfs.ChangeListener;
import dev.agentfs.vfs.Modes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One filesystem: its backstore, its branches and snapshots, and the counters they share
 * (inode numbers are unique across branches, epochs are unique across everything). Snapshot
 * and branch creation are O(1): a snapshot is the branch's inode-table root at an instant, a
 * branch is a new head over a snapshot's root with a fresh epoch.
 *
 * <p>Storage reclamation: content owned by exactly one live inode version is released as soon
 * as that inode dies; content that a snapshot may still share is released by {@link
 * #collectGarbage()} (run after deleting a snapshot or branch), which marks what every live
 * root reaches, skipping shared subtrees, and releases the rest.
 */
public final class FsCore {
  final Backstore backstore;
  final LongSupplier clock;
  final boolean rootBypass;
  final boolean readOnly;
  final boolean strictUtf8;

  private final AtomicLong inos = new AtomicLong(BranchFs.ROOT + 1);
  private final AtomicLong epochs = new AtomicLong(1);
  private final Map<String, BranchFs> branches = new ConcurrentHashMap<>();
  private final Map<String, SnapshotState> snapshots = new ConcurrentHashMap<>();
  private final Set<Content> contents = ConcurrentHashMap.newKeySet();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  public FsCore(Backstore backstore, LongSupplier clockNanos, boolean rootBypass,
      boolean readOnly, boolean strictUtf8, int rootUid, int rootGid, int rootMode) {
    this.backstore = backstore;
    this.clock = clockNanos;
    this.rootBypass = rootBypass;
    this.readOnly = readOnly;
    this.strictUtf8 = strictUtf8;
    long now = clockNanos.getAsLong();
    long epoch = epochs.getAndIncrement();
    Inode root = new Inode(BranchFs.ROOT, epoch, Modes.S_IFDIR | (rootMode & 07777), rootUid,
        rootGid, now, BranchFs.ROOT, Name.of("/"));
    BranchState main = new BranchState("main", null, LongTrie.<Inode>empty().with(1, root),
        epoch, now);
    branches.put("main", new BranchFs(this, main));
  }

  long newIno() {
    return inos.getAndIncrement();
  }

  Content newContent() throws AgentFsException {
    Content c = backstore.newContent();
    contents.add(c);
    return c;
  }

  Content copyContent(Content c) throws AgentFsException {
    Content copy = c.copy();
    contents.add(copy);
    return copy;
  }

  void releaseContent(Content c) {
    if (contents.remove(c)) {
      c.release();
    }
  }

  long unboundedCapacity() {
    return Math.max(Runtime.getRuntime().maxMemory(), 1L << 30);
  }

  // ---------------------------------------------------------------- listeners

  public void addListener(ChangeListener l) {
    listeners.add(l);
  }

  public void removeListener(ChangeListener l) {
    listeners.remove(l);
  }

  void fireInode(BranchFs b, long ino) {
    for (ChangeListener l : listeners) {
      l.inodeChanged(ino);
    }
  }

  void fireEntry(BranchFs b, long parent, byte[] name) {
    for (ChangeListener l : listeners) {
      l.entryChanged(parent, name);
    }
  }

  // ---------------------------------------------------------------- branches and snapshots

  public BranchFs branch(String name) throws AgentFsException {
    BranchFs b = branches.get(name);
    if (b == null) {
      throw new AgentFsException(Errno.ENOENT, "branch " + name);
    }
    return b;
  }

  public List<String> branchNames() {
    List<String> l = new ArrayList<>(branches.keySet());
    Collections.sort(l);
    return l;
  }

  public List<String> snapshotNames() {
    List<String> l = new ArrayList<>(snapshots.keySet());
    Collections.sort(l);
    return l;
  }

  public @Nullable String baseOf(String branch) throws AgentFsException {
    return branch(branch).st.baseSnapshot;
  }

  public String snapshotBranch(String snapshot) throws AgentFsException {
    return snap(snapshot).branch();
  }

  public long snapshotCreatedNs(String snapshot) throws AgentFsException {
    return snap(snapshot).createdNs();
  }

  private SnapshotState snap(String name) throws AgentFsException {
    SnapshotState s = snapshots.get(name);
    if (s == null) {
      throw new AgentFsException(Errno.ENOENT, "snapshot " + name);
    }
    return s;
  }

  static void checkLabel(String what, String name) throws AgentFsException {
    if (name.isEmpty() || name.length() > 255 || name.contains("/") || name.contains("\0")
        || name.equals(".") || name.equals("..")) {
      throw new AgentFsException(Errno.EINVAL, what + " " + name, null,
          "names are 1..255 characters without '/' or NUL");
    }
  }

  /** Freezes {@code branch}'s current tree as snapshot {@code name}; O(1). */
  public void snapshot(String branch, String name) throws AgentFsException {
    checkLabel("snapshot", name);
    BranchFs b = branch(branch);
    BranchState st = b.st;
    st.freeze.writeLock().lock();
    try {
      SnapshotState s = new SnapshotState(name, branch, st.table, clock.getAsLong());
      if (snapshots.putIfAbsent(name, s) != null) {
        throw new AgentFsException(Errno.EEXIST, "snapshot " + name);
      }
      st.epoch = epochs.getAndIncrement();
    } finally {
      st.freeze.writeLock().unlock();
    }
  }

  /**
   * A new writable branch whose tree starts as snapshot {@code from}; O(1). Synchronized with
   * {@link #collectGarbage()}: a snapshot deleted while the branch is being made must not be
   * swept before the branch is registered as a root.
   */
  public synchronized BranchFs createBranch(String name, String from) throws AgentFsException {
    checkLabel("branch", name);
    SnapshotState s = snap(from);
    BranchState st = new BranchState(name, from, s.table(), epochs.getAndIncrement(),
        clock.getAsLong());
    BranchFs b = new BranchFs(this, st);
    if (branches.putIfAbsent(name, b) != null) {
      throw new AgentFsException(Errno.EEXIST, "branch " + name);
    }
    return b;
  }

  public void deleteSnapshot(String name) throws AgentFsException {
    if (snapshots.remove(name) == null) {
      throw new AgentFsException(Errno.ENOENT, "snapshot " + name);
    }
    collectGarbage();
  }

  public void deleteBranch(String name) throws AgentFsException {
    BranchFs b = branch(name);
    if (name.equals("main")) {
      throw new AgentFsException(Errno.EBUSY, "branch main", null,
          "the default branch cannot be deleted");
    }
    if (b.openHandles() > 0) {
      throw new AgentFsException(Errno.EBUSY, "branch " + name, null,
          b.openHandles() + " open handles");
    }
    branches.remove(name);
    collectGarbage();
  }

  /**
   * Releases content no live branch, orphan or snapshot reaches. Stops every branch's writers
   * for the duration (they hold the freeze lock shared), so nothing is created mid-sweep.
   */
  public synchronized void collectGarbage() {
    List<BranchFs> live = new ArrayList<>(branches.values());
    for (BranchFs b : live) {
      b.st.freeze.writeLock().lock();
    }
    try {
      Set<Content> reached = Collections.newSetFromMap(new IdentityHashMap<>());
      Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
      for (BranchFs b : live) {
        mark(b.st.table, reached, seen);
        for (Inode o : b.st.orphans.values()) {
          addContent(o, reached);
        }
      }
      for (SnapshotState s : snapshots.values()) {
        mark(s.table(), reached, seen);
      }
      for (Content c : new ArrayList<>(contents)) {
        if (!reached.contains(c)) {
          releaseContent(c);
        }
      }
    } finally {
      for (BranchFs b : live) {
        b.st.freeze.writeLock().unlock();
      }
    }
  }

  private static void mark(LongTrie<Inode> t, Set<Content> reached, Set<Object> seen) {
    if (t.root != null) {
      markNode(t.root, t.shift, reached, seen);
    }
  }

  private static void markNode(Object[] node, int shift, Set<Content> reached,
      Set<Object> seen) {
    if (!seen.add(node)) {
      return;
    }
    for (Object child : node) {
      if (child == null) {
        continue;
      }
      if (shift == 0) {
        addContent((Inode) child, reached);
      } else {
        markNode((Object[]) child, shift - 5, reached, seen);
      }
    }
  }

  private static void addContent(Inode n, Set<Content> reached) {
    Content c = n.content;
    if (c != null) {
      reached.add(c);
    }
  }

  /** Number of content objects currently held (for tests of reclamation). */
  public int liveContents() {
    return contents.size();
  }

  // ---------------------------------------------------------------- diff

  /** The table of a branch's current state or of a snapshot, by name. */
  LongTrie<Inode> tableOf(String ref) throws AgentFsException {
    SnapshotState s = snapshots.get(ref);
    if (s != null) {
      return s.table();
    }
    BranchFs b = branches.get(ref);
    if (b == null) {
      throw new AgentFsException(Errno.ENOENT, ref, null, "no such branch or snapshot");
    }
    return b.st.table;
  }

  /** What changed from {@code from} to {@code to} (snapshot or branch names). */
  public List<TreeDiff.Change> diff(String from, String to) throws AgentFsException {
    return TreeDiff.diff(tableOf(from), tableOf(to));
  }
}
