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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import dev.agentfs.spi.MetadataLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 *
 * @since 0.1
 */
public final class FsCore {
  private static final Logger LOG = LoggerFactory.getLogger(FsCore.class);

  final Backstore backstore;
  final LongSupplier clock;
  final boolean rootBypass;
  final boolean readOnly;
  final boolean strictUtf8;
  /** {@link dev.agentfs.Feature#CONFINED_SYMLINKS}: see {@link SymlinkPolicy}. */
  final boolean confinedSymlinks;

  private final AtomicLong inos = new AtomicLong(BranchFs.ROOT + 1);
  private final AtomicLong epochs = new AtomicLong(1);
  private final Map<String, BranchFs> branches = new ConcurrentHashMap<>();
  private final Map<String, SnapshotState> snapshots = new ConcurrentHashMap<>();
  private final Set<Content> contents = ConcurrentHashMap.newKeySet();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** Set when the backstore is durable: every change is logged (see {@link Journal}). */
  final boolean journaled;

  private final @Nullable Journal journal;

  /** Content unreachable in memory but maybe still named by the durable log: released only
   *  after the next synced flush, so a crash never replays a reference to a deleted file. */
  private final List<Content> pendingRelease = new ArrayList<>();

  private final @Nullable ScheduledExecutorService flusher;

  /** The overlay's read-only lower directory, or null. */
  final @Nullable Lower lower;

  /**
   * Overlay: how often an untouched lower entry is compared with the host again, in clock
   * nanoseconds (0: on every access; {@link Long#MAX_VALUE}: never, read once).
   */
  final long lowerRefreshNs;

  /**
   * How many branches (the default one included), snapshots and open handles (files and
   * directories, across all branches, mounts and the Java API) the filesystem allows at once.
   * One more branch or snapshot fails with EDQUOT (as ZFS's filesystem_limit and
   * snapshot_limit do), one more handle with ENFILE (the table is shared by every process,
   * like the kernel's file table, not per process as EMFILE's limit is).
   */
  public record Limits(int maxBranches, int maxSnapshots, int maxOpenHandles) {
    /** No limit beyond what fits in an int. */
    public static final Limits NONE =
        new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE);

    public Limits {
      if (maxBranches < 1 || maxSnapshots < 0 || maxOpenHandles < 1) {
        throw new IllegalArgumentException("limits need at least one branch and one handle: "
            + maxBranches + " branches, " + maxSnapshots + " snapshots, " + maxOpenHandles
            + " handles");
      }
    }
  }

  final Slots branchSlots;
  final Slots snapshotSlots;
  /** Open file and directory handles of every branch and snapshot view. */
  final Slots handleSlots;

  public FsCore(Backstore backstore, LongSupplier clockNanos, boolean rootBypass,
      boolean readOnly, boolean strictUtf8, boolean confinedSymlinks, int rootUid, int rootGid,
      int rootMode, java.nio.file.@Nullable Path lowerDir) throws AgentFsException {
    this(backstore, clockNanos, rootBypass, readOnly, strictUtf8, confinedSymlinks, rootUid,
        rootGid, rootMode, lowerDir, Limits.NONE, Long.MAX_VALUE);
  }

  public FsCore(Backstore backstore, LongSupplier clockNanos, boolean rootBypass,
      boolean readOnly, boolean strictUtf8, boolean confinedSymlinks, int rootUid, int rootGid,
      int rootMode, java.nio.file.@Nullable Path lowerDir, Limits limits)
      throws AgentFsException {
    this(backstore, clockNanos, rootBypass, readOnly, strictUtf8, confinedSymlinks, rootUid,
        rootGid, rootMode, lowerDir, limits, Long.MAX_VALUE);
  }

  /**
   * {@code lowerRefreshNs}: how often an untouched overlay entry is compared with the lower
   * again (0: every use; {@link Long#MAX_VALUE}: never).
   */
  public FsCore(Backstore backstore, LongSupplier clockNanos, boolean rootBypass,
      boolean readOnly, boolean strictUtf8, boolean confinedSymlinks, int rootUid, int rootGid,
      int rootMode, java.nio.file.@Nullable Path lowerDir, Limits limits, long lowerRefreshNs)
      throws AgentFsException {
    this.branchSlots = new Slots("branches", limits.maxBranches(), Errno.EDQUOT, "maxBranches");
    this.snapshotSlots =
        new Slots("snapshots", limits.maxSnapshots(), Errno.EDQUOT, "maxSnapshots");
    this.handleSlots =
        new Slots("open handles", limits.maxOpenHandles(), Errno.ENFILE, "maxOpenHandles");
    this.backstore = backstore;
    this.lower = lowerDir == null ? null : new Lower(lowerDir);
    if (lowerRefreshNs < 0) {
      throw new IllegalArgumentException("negative lower refresh interval " + lowerRefreshNs);
    }
    this.lowerRefreshNs = lowerRefreshNs;
    this.clock = clockNanos;
    this.rootBypass = rootBypass;
    this.readOnly = readOnly;
    this.strictUtf8 = strictUtf8;
    this.confinedSymlinks = confinedSymlinks;
    long now = clockNanos.getAsLong();
    long epoch = epochs.getAndIncrement();
    Inode root = new Inode(BranchFs.ROOT, epoch, Modes.S_IFDIR | (rootMode & 07777), rootUid,
        rootGid, now, BranchFs.ROOT, Name.of("/"));
    if (lower != null) {
      // The overlay's root is the lower root: its owner, mode and times, entries on demand.
      Lower.Entry r = lower.stat("");
      root = new Inode(BranchFs.ROOT, epoch, r.mode(), r.uid(), r.gid(), r.ctime(),
          BranchFs.ROOT, Name.of("/"));
      root.atime = r.atime();
      root.mtime = r.mtime();
      root.nlink = r.nlink();
      root.lowerPath = "";
      if (!r.xattrs().isEmpty()) {
        root.setXattrs(new java.util.TreeMap<>(r.xattrs()));
      }
    }
    BranchState main = new BranchState("main", null, LongTrie.<Inode>empty().with(1, root),
        epoch, now);
    branches.put("main", new BranchFs(this, main));
    branchSlots.force();
    MetadataLog log = backstore.metadataLog();
    this.journaled = log != null;
    this.journal = log == null ? null : new Journal(this, log);
    if (journal != null) {
      try {
        long maxIno = journal.replay();
        inos.set(Math.max(inos.get(), maxIno + 1));
        collectGarbage();
        reportMissing();
        Set<String> live = new java.util.HashSet<>();
        for (Content c : contents) {
          if (c.id() != null) {
            live.add(c.id());
          }
        }
        backstore.retainOnly(live);
        if (maxIno == BranchFs.ROOT && branch("main").st.table.size() == 1) {
          main.dirtyInodes.add(BranchFs.ROOT);
        }
        journal.flushAll(true);
        compactIfDue();
      } catch (AgentFsException e) {
        throw new IllegalStateException("cannot open " + backstore.name() + ": "
            + e.getMessage(), e);
      }
      flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agentfs-journal");
        t.setDaemon(true);
        return t;
      });
      flusher.scheduleWithFixedDelay(this::backgroundFlush, 2, 2, TimeUnit.SECONDS);
    } else {
      flusher = null;
    }
  }

  private void backgroundFlush() {
    try {
      syncMetadata();
    } catch (AgentFsException | RuntimeException e) {
      LOG.warn("background metadata flush failed: {}", e.getMessage());
      return;
    }
    compactIfDue();
  }

  /** Compacts the log when it asks for it; a failure leaves the old log and is only logged. */
  private void compactIfDue() {
    Journal j = journal;
    if (j == null || !j.wantsCompaction()) {
      return;
    }
    try {
      compactNow(j);
    } catch (AgentFsException | RuntimeException e) {
      LOG.warn("metadata log compaction failed: {}", e.getMessage());
    }
  }

  /**
   * Rewrites the metadata log now, keeping only what replay needs: the last state of each inode
   * and entry between snapshots, and only the snapshots and branches the current state still
   * depends on. The log is otherwise compacted on its own when it grows past its threshold (at
   * open and from the background flusher). No-op without a durable backstore; ENOTSUP when its
   * log cannot compact.
   */
  public void compactMetadata() throws AgentFsException {
    Journal j = journal;
    if (j != null) {
      compactNow(j);
    }
  }

  private void compactNow(Journal j) throws AgentFsException {
    long t0 = System.nanoTime();
    long[] sizes = j.compact();
    LOG.info("compacted the metadata log of {} from {} to {} bytes in {} ms", backstore.name(),
        sizes[0], sizes[1], (System.nanoTime() - t0) / 1_000_000);
  }

  /** Makes every change so far durable (no-op without a durable backstore). */
  public void syncMetadata() throws AgentFsException {
    Journal j = journal;
    if (j == null) {
      return;
    }
    List<Content> release;
    synchronized (pendingRelease) {
      release = new ArrayList<>(pendingRelease);
    }
    j.flushAll(true);
    releaseAfterFlush(release);
  }

  private void releaseAfterFlush(List<Content> release) {
    if (release.isEmpty()) {
      return;
    }
    synchronized (pendingRelease) {
      pendingRelease.removeAll(release);
    }
    for (Content c : release) {
      c.release();
    }
  }

  /** Final flush; stops the background flusher. The backstore is closed by the owner. */
  public void close() {
    if (flusher != null) {
      flusher.shutdownNow();
      try {
        flusher.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        syncMetadata();
      } catch (AgentFsException e) {
        LOG.warn("final metadata flush failed: {}", e.getMessage());
      }
    }
  }

  List<BranchFs> liveBranches() {
    return new ArrayList<>(branches.values());
  }

  Content openContentUnchecked(String id) {
    try {
      Content c = backstore.openContent(id);
      contents.add(c);
      return c;
    } catch (AgentFsException e) {
      // Usually an older state record of a file whose content was released once a later
      // record replaced it: the stand-in dies in the garbage collection after replay. Only a
      // stand-in something still reaches is lost data; reportMissing() warns about those.
      try {
        Content c = backstore.newContent();
        contents.add(c);
        synchronized (missing) {
          missing.put(c, id + " (" + e.getMessage() + ")");
        }
        return c;
      } catch (AgentFsException e2) {
        throw new IllegalStateException(e2);
      }
    }
  }

  /** How many files replay found without their content (they read as empty). */
  private int lostAtOpen;

  /** Files whose content the backstore no longer had when this filesystem was opened. */
  public int lostAtOpen() {
    synchronized (missing) {
      return lostAtOpen;
    }
  }

  /** Stand-ins for content the log names but the backstore no longer has, during replay. */
  private final Map<Content, String> missing = new IdentityHashMap<>();

  /** After replay and garbage collection: warns about stand-ins a live file still uses. */
  private void reportMissing() {
    synchronized (missing) {
      int superseded = 0;
      for (Map.Entry<Content, String> e : missing.entrySet()) {
        if (contents.contains(e.getKey())) {
          lostAtOpen++;
          LOG.warn("content {} is missing; the file reads as empty", e.getValue());
        } else {
          superseded++;
        }
      }
      if (superseded > 0) {
        LOG.debug("{} replaced state records named content released since", superseded);
      }
      missing.clear();
    }
  }

  long newIno() {
    return inos.getAndIncrement();
  }

  Content newContent() throws AgentFsException {
    Content c = backstore.newContent();
    contents.add(c);
    if (journal != null) {
      journal.remember(c);
    }
    return c;
  }

  Content copyContent(Content c) throws AgentFsException {
    Content copy = c.copy();
    contents.add(copy);
    if (journal != null) {
      journal.remember(copy);
    }
    return copy;
  }

  void releaseContent(Content c) {
    if (contents.remove(c)) {
      if (journal != null) {
        journal.forget(c);
        if (!journal.replaying()) {
          synchronized (pendingRelease) {
            pendingRelease.add(c);
          }
          return;
        }
      }
      c.release();
    }
  }

  /**
   * The first change to an untouched lower file: its bytes move into the backstore (a host
   * file backstore copies in the kernel, or reflinks where it can).
   */
  Content copyUp(LowerContent lc) throws AgentFsException {
    Content c = adopt(backstore.importFile(lc.lower.host(lc.path), false));
    copyUps.incrementAndGet();
    return c;
  }

  /**
   * Eager materialisation of the overlay into branch {@code branch} (see {@link Materializer}):
   * afterwards no entry of it reads the lower. With {@code reflink} every copy must be a
   * FICLONE, else this fails (ENOTSUP, EXDEV) and the branch is unchanged. Returns the number
   * of files copied; 0 without a lower or when everything was materialised already.
   */
  public int materialize(String branch, boolean reflink) throws AgentFsException {
    int n = Materializer.run(this, branch(branch), reflink);
    materialized.addAndGet(n);
    syncMetadata();
    return n;
  }

  private final AtomicLong materialized = new AtomicLong();

  /** How many lower files eager materialisation copied (for tests and metrics). */
  public long materialized() {
    return materialized.get();
  }

  /** Takes a content the backstore made outside {@link #newContent()} into the books. */
  Content adopt(Content c) {
    contents.add(c);
    if (journal != null) {
      journal.remember(c);
    }
    return c;
  }

  private final AtomicLong copyUps = new AtomicLong();

  /** During a snapshot: the live host content each frozen passthrough version gave up. */
  private final Map<Inode, Content> pinnedLive = new IdentityHashMap<>();

  /** How many lower files were copied up (for tests and metrics). */
  public long copyUps() {
    return copyUps.get();
  }

  /**
   * Overlay: the lower file's {mtime ns, size} when {@code ref} (a branch or snapshot) first
   * loaded inode {@code ino}, or null when it did not come from the lower.
   */
  public long @Nullable [] lowerStamp(String ref, long ino) throws AgentFsException {
    Inode n = tableOf(ref).get(ino);
    return n == null || n.lowerMtime < 0 ? null : new long[] {n.lowerMtime, n.lowerSize};
  }

  /** The overlay's lower directory, or null. */
  public java.nio.file.@Nullable Path lowerRoot() {
    return lower == null ? null : lower.root;
  }

  /** Hides {@code path} (the mount point) from the overlay's lower listings. */
  public void hideFromLower(java.nio.file.Path path) {
    if (lower != null) {
      lower.hide(path);
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
      l.inodeChanged(b.name(), ino);
    }
  }

  void fireEntry(BranchFs b, long parent, byte[] name) {
    for (ChangeListener l : listeners) {
      l.entryChanged(b.name(), parent, name);
    }
  }

  // ---------------------------------------------------------------- branches and snapshots

  /** Takes a slot, or counts one without checking while the journal replays. */
  private void takeSlot(Slots slots, String name) throws AgentFsException {
    if (journal != null && journal.replaying()) {
      slots.force();
    } else {
      slots.take(name);
    }
  }

  /** The limits this filesystem enforces. */
  public Limits limits() {
    return new Limits((int) branchSlots.max(), (int) snapshotSlots.max(),
        (int) handleSlots.max());
  }

  /** Open file and directory handles across every branch and snapshot view. */
  public long openHandles() {
    return handleSlots.used();
  }

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
    snapshotAt(branch, name, clock.getAsLong());
  }

  void snapshotAt(String branch, String name, long createdNs) throws AgentFsException {
    if (journal == null) {
      freeze(branch, name, createdNs);
    } else {
      // Lock order: journal monitor before a branch's freeze lock, as Journal.flushAll takes them.
      synchronized (journal) {
        freeze(branch, name, createdNs);
      }
    }
  }

  private void freeze(String branch, String name, long createdNs) throws AgentFsException {
    checkLabel("snapshot", name);
    BranchFs b = branch(branch);
    BranchState st = b.st;
    st.freeze.writeLock().lock();
    try {
      if (snapshots.containsKey(name)) {
        throw new AgentFsException(Errno.EEXIST, "snapshot " + name);
      }
      takeSlot(snapshotSlots, "snapshot " + name);
      boolean made = false;
      List<Inode> live = new ArrayList<>();
      try {
        // Files the kernel writes directly (passthrough) cannot be copied on write: the
        // snapshot takes a copy of them now and the branch keeps the live host file.
        for (Long ino : st.pinned.keySet()) {
          Inode v = st.table.get(ino);
          Content x = v == null ? null : v.content;
          if (x == null || v.epoch != st.epoch || v.contentShared) {
            continue;
          }
          v.content = copyContent(x); // the version the snapshot keeps names the copy
          live.add(v);
          pinnedLive.put(v, x);
          if (journaled) {
            st.dirtyInodes.add(ino);
          }
        }
        if (journal != null && !journal.replaying()) {
          journal.flushWith(b, Journal.snapshotRecord(branch, name, createdNs));
        }
        if (snapshots.put(name, new SnapshotState(name, branch, st.table, createdNs)) != null) {
          snapshotSlots.give(); // a same-named snapshot of another branch raced us: one left
        }
        made = true;
      } finally {
        if (!made) {
          snapshotSlots.give();
        }
      }
      st.epoch = epochs.getAndIncrement();
      for (Inode v : live) {
        Inode mine = v.copyFor(st.epoch);
        mine.content = pinnedLive.remove(v);
        mine.contentShared = false;
        synchronized (st.tableLock) {
          st.table = st.table.with(mine.ino, mine);
        }
        if (journaled) {
          st.dirtyInodes.add(mine.ino);
        }
      }
    } finally {
      st.freeze.writeLock().unlock();
    }
  }

  /**
   * A read-only view of snapshot {@code name}: a branch-like Vfs over the snapshot's tree that
   * answers EROFS to every change; O(1). It is not listed among the branches.
   */
  public BranchFs snapshotView(String name) throws AgentFsException {
    SnapshotState s = snap(name);
    BranchState st = new BranchState("@" + name, name, s.table(), epochs.getAndIncrement(),
        clock.getAsLong());
    st.readOnly = true;
    return new BranchFs(this, st);
  }

  /** A new writable branch whose tree starts as snapshot {@code from}; O(1). */
  public BranchFs createBranch(String name, String from) throws AgentFsException {
    return createBranchAt(name, from, -1);
  }

  /**
   * Synchronized with the sweep in {@link #collectGarbage()}: a snapshot deleted while the
   * branch is being made must not be swept before the branch is registered as a root.
   */
  synchronized BranchFs createBranchAt(String name, String from, long createdNs)
      throws AgentFsException {
    checkLabel("branch", name);
    SnapshotState s = snap(from);
    if (createdNs < 0) {
      createdNs = clock.getAsLong();
    }
    if (branches.containsKey(name)) {
      throw new AgentFsException(Errno.EEXIST, "branch " + name);
    }
    takeSlot(branchSlots, "branch " + name);
    if (journal != null && !journal.replaying()) {
      try {
        journal.flushWith(null, Journal.branchRecord(name, from, createdNs));
      } catch (AgentFsException | RuntimeException e) {
        branchSlots.give();
        throw e;
      }
    }
    BranchState st = new BranchState(name, from, s.table(), epochs.getAndIncrement(),
        createdNs);
    BranchFs b = new BranchFs(this, st);
    branches.put(name, b);
    return b;
  }

  /**
   * Resets branch {@code branch} to snapshot {@code snapshot} in place: O(1) for the tree;
   * processes bound to the branch see the snapshot's tree at once (the kernel is told what
   * changed); handles on files the snapshot lacks answer ESTALE.
   */
  public void resetBranch(String branch, String snapshot) throws AgentFsException {
    resetBranchAt(branch, snapshot);
    collectGarbage();
  }

  private void resetBranchAt(String branch, String snapshot) throws AgentFsException {
    BranchFs b = branch(branch);
    SnapshotState s = snap(snapshot);
    LongTrie<Inode> old;
    Object lock = journal == null ? new Object() : journal;
    synchronized (lock) {
      b.st.freeze.writeLock().lock();
      try {
        if (journal != null && !journal.replaying()) {
          journal.flushWith(b, Journal.resetRecord(branch, snapshot));
        }
        old = b.resetTo(s.table(), epochs.getAndIncrement());
      } finally {
        b.st.freeze.writeLock().unlock();
      }
    }
    b.announceDifferences(old, s.table());
  }

  void replayReset(String branch, String snapshot) throws AgentFsException {
    BranchFs b = branch(branch);
    b.resetTo(snap(snapshot).table(), epochs.getAndIncrement());
  }

  public void deleteSnapshot(String name) throws AgentFsException {
    dropSnapshot(name);
    collectGarbage();
  }

  /**
   * Deletes the snapshots of {@code names} that still exist and reclaims, in one sweep, the
   * storage only they used; returns those deleted. For pruning many at once: one sweep costs
   * as much as a {@link #deleteSnapshot} of one.
   */
  public List<String> deleteSnapshots(java.util.Collection<String> names)
      throws AgentFsException {
    List<String> done = new ArrayList<>();
    try {
      for (String n : names) {
        synchronized (this) {
          if (!snapshots.containsKey(n)) {
            continue; // deleted meanwhile
          }
          dropSnapshot(n);
        }
        done.add(n);
      }
    } finally {
      if (!done.isEmpty()) {
        collectGarbage();
      }
    }
    return done;
  }

  synchronized void dropSnapshot(String name) throws AgentFsException {
    if (!snapshots.containsKey(name)) {
      throw new AgentFsException(Errno.ENOENT, "snapshot " + name);
    }
    if (journal != null && !journal.replaying()) {
      journal.flushWith(null, Journal.deleteSnapshotRecord(name));
    }
    if (snapshots.remove(name) != null) {
      snapshotSlots.give();
    }
  }

  synchronized void dropBranch(String name) throws AgentFsException {
    branch(name);
    if (journal != null && !journal.replaying()) {
      journal.flushWith(null, Journal.deleteBranchRecord(name));
    }
    if (branches.remove(name) != null) {
      branchSlots.give();
    }
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
    dropBranch(name);
    collectGarbage();
  }

  /**
   * Releases content no live branch, orphan or snapshot reaches. Stops every branch's writers
   * for the duration (they hold the freeze lock shared), so nothing is created mid-sweep.
   */
  public void collectGarbage() {
    synchronized (this) {
      sweep();
    }
    if (journal != null && !journal.replaying()) {
      try {
        syncMetadata();
      } catch (AgentFsException e) {
        LOG.warn("metadata flush after garbage collection failed: {}", e.getMessage());
      }
    }
  }

  private void sweep() {
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

  /** Inodes a branch holds: in its table plus unlinked ones still open or referenced. */
  public int liveInodes(String branch) throws AgentFsException {
    BranchState st = branch(branch).st;
    return st.table.size() + st.orphans.size();
  }

  /** Inodes of {@code branch} with kernel references whose inode no longer exists. */
  public int kernelReferences(String branch, int ignoredBelow) throws AgentFsException {
    return branch(branch).danglingReferences();
  }

  /**
   * Files and directories of {@code branch} that are open (handles not yet released), for
   * tests that check a transport gives every handle back.
   */
  public int openHandles(String branch) throws AgentFsException {
    return branch(branch).openHandles();
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
    return TreeDiff.diff(tableOf(from), tableOf(to), lower);
  }
}
