package dev.agentfs.core;

import static dev.agentfs.vfs.Modes.*;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Content;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.DirSink;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.StatFs;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import org.jspecify.annotations.Nullable;

/**
 * The POSIX semantics of one writable branch, as the {@link Vfs} contract the transports and
 * the Java API call. Reads take no lock beyond the branch's shared freeze lock; a mutation
 * locks only the inodes it touches (in inode-number order, so two operations never deadlock),
 * and replaces the branch's inode-table root only when an inode is created, removed, or first
 * changed after a snapshot. Permission checks follow Linux: search permission on the parent,
 * write+search to change a directory, sticky-directory ownership, owner-only chmod and utimes,
 * root-only chown, setuid/setgid stripping on write, truncate and chown, and POSIX ACLs
 * ({@code system.posix_acl_access}/{@code _default}, see {@link PosixAcl}): checked, inherited
 * from default ACLs on create, kept in step by chmod.
 *
 * @since 0.1
 */
public final class BranchFs implements Vfs {
  /** The largest file size, as tmpfs on 64-bit Linux (MAX_LFS_FILESIZE). */
  static final long MAX_FILE_SIZE = Long.MAX_VALUE;

  static final int MAX_LINKS = 65000;
  static final int MAX_SYMLINK = 4095;
  static final int MAX_XATTR_VALUE = 65536;
  static final int MAX_XATTR_NAME = 255;
  static final long MAX_INODES = 1L << 32;

  private static final byte[] DOT = {'.'};
  private static final byte[] DOTDOT = {'.', '.'};

  private final FsCore core;
  final BranchState st;
  private final LockTable locks = new LockTable();
  private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
  private final AtomicLong nextFh = new AtomicLong(1);
  private final ConcurrentHashMap<Long, Refs> refs = new ConcurrentHashMap<>();

  private static final class Handle {
    final long ino;
    final int flags;

    Handle(long ino, int flags) {
      this.ino = ino;
      this.flags = flags;
    }

    boolean readable() {
      return (flags & O_ACCMODE) != O_WRONLY || (flags & O_KERNEL_CACHE_READS) != 0;
    }

    boolean writable() {
      return (flags & O_ACCMODE) != O_RDONLY;
    }
  }

  private static final class Refs {
    long lookups;
    int opens;
  }

  @FunctionalInterface
  private interface Op<T> {
    T run() throws AgentFsException;
  }

  BranchFs(FsCore core, BranchState st) {
    this.core = core;
    this.st = st;
  }

  /** The branch's name. */
  public String name() {
    return st.name;
  }

  // ---------------------------------------------------------------- helpers

  private long now() {
    return core.clock.getAsLong();
  }

  private static AgentFsException err(Errno e, @Nullable String what) {
    return new AgentFsException(e, what);
  }

  private static String path(long ino) {
    return "inode " + ino;
  }

  private static String path(long parent, byte[] name) {
    return "inode " + parent + "/" + new String(name, StandardCharsets.UTF_8);
  }

  Inode node(long ino) throws AgentFsException {
    Inode n = st.table.get(ino);
    if (n == null) {
      n = st.orphans.get(ino);
      if (n == null) {
        throw err(Errno.ENOENT, path(ino));
      }
    }
    return n;
  }

  /** The version of {@code ino} that the current epoch may mutate; caller holds freeze. */
  Inode writable(long ino) throws AgentFsException {
    if (core.journaled) {
      st.dirtyInodes.add(ino);
    }
    Inode n = version(ino);
    n.lowerPristine = false;
    return n;
  }

  /** Like {@link #writable} but not logged: for changes replay can redo (loading lower dirs). */
  private Inode version(long ino) throws AgentFsException {
    Inode n = node(ino);
    if (n.epoch == st.epoch) {
      return n;
    }
    synchronized (st.tableLock) {
      boolean orphan = false;
      Inode cur = st.table.get(ino);
      if (cur == null) {
        cur = st.orphans.get(ino);
        orphan = true;
      }
      if (cur == null) {
        throw err(Errno.ENOENT, path(ino));
      }
      if (cur.epoch == st.epoch) {
        return cur;
      }
      Inode copy = cur.copyFor(st.epoch);
      if (orphan) {
        // No snapshot holds an orphan version, so the copy takes over its content as is:
        // shared only if the orphan itself still shared it with a snapshot.
        copy.contentShared = cur.contentShared;
        st.orphans.put(ino, copy);
      } else {
        st.table = st.table.with(ino, copy);
      }
      return copy;
    }
  }

  /** Read-only: the whole filesystem is, or this is a view of a snapshot. */
  boolean readOnly() {
    return core.readOnly || st.readOnly;
  }

  private <T> T mutate(Op<T> op) throws AgentFsException {
    if (readOnly()) {
      throw err(Errno.EROFS, null);
    }
    Lock l = st.freeze.readLock();
    l.lock();
    try {
      return op.run();
    } finally {
      l.unlock();
    }
  }

  private <T> T shared(Op<T> op) throws AgentFsException {
    Lock l = st.freeze.readLock();
    l.lock();
    try {
      return op.run();
    } finally {
      l.unlock();
    }
  }

  /** Runs {@code op} holding the monitors of {@code nodes}, taken in inode order. */
  private static <T> T locked(Op<T> op, Inode... nodes) throws AgentFsException {
    Inode[] sorted = Arrays.stream(nodes).distinct()
        .sorted(Comparator.comparingLong((Inode n) -> n.ino)).toArray(Inode[]::new);
    return lockFrom(sorted, 0, op);
  }

  private static <T> T lockFrom(Inode[] nodes, int i, Op<T> op) throws AgentFsException {
    if (i == nodes.length) {
      return op.run();
    }
    synchronized (nodes[i]) {
      return lockFrom(nodes, i + 1, op);
    }
  }

  /** Runs {@code op} holding {@code n}'s io lock, which every change of its bytes takes
   *  before the inode monitor, so content writers of one file never overlap. */
  private static <T> T withIo(Inode n, Op<T> op) throws AgentFsException {
    n.io.lock();
    try {
      return op.run();
    } finally {
      n.io.unlock();
    }
  }

  Name name(byte[] b, long parent) throws AgentFsException {
    if (b.length == 0) {
      throw err(Errno.ENOENT, path(parent, b));
    }
    if (b.length > Name.MAX) {
      throw err(Errno.ENAMETOOLONG, path(parent, b));
    }
    for (byte x : b) {
      if (x == '/' || x == 0) {
        throw err(Errno.EINVAL, path(parent, b));
      }
    }
    if (core.strictUtf8) {
      try {
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
      } catch (CharacterCodingException e) {
        throw err(Errno.EILSEQ, path(parent, b));
      }
    }
    return Name.of(b.clone());
  }

  private boolean privileged(Caller c) {
    return c.uid() == 0 && core.rootBypass;
  }

  /**
   * Linux generic_permission: the owner gets the owner bits; anyone else is judged by the
   * access ACL when there is one, else by the group or other bits; root passes all but a bare
   * exec. As acl_permission_check, the ACL is consulted only while the group class bits (the
   * ACL mask) grant something: with a mask of --- a named user falls back to the other bits.
   */
  void check(Caller c, Inode n, int mask) throws AgentFsException {
    if (mask == 0) {
      return;
    }
    if (privileged(c)) {
      if ((mask & X_OK) == 0 || n.isDir() || (n.mode & 0111) != 0) {
        return;
      }
      throw err(Errno.EACCES, path(n.ino));
    }
    int m = n.mode;
    int bits;
    if (c.uid() == n.uid) {
      bits = (m >>> 6) & 7;
    } else {
      byte[] acl = (m & 0070) != 0 ? n.xattrs.get(PosixAcl.ACCESS) : null;
      if (acl != null) {
        if (!PosixAcl.stored(acl).permits(c, n.uid, n.gid, mask)) {
          throw err(Errno.EACCES, path(n.ino));
        }
        return;
      }
      bits = c.inGroup(n.gid) ? (m >>> 3) & 7 : m & 7;
    }
    if ((bits & mask) != mask) {
      throw err(Errno.EACCES, path(n.ino));
    }
  }

  /** In a sticky directory only the owner of the entry or of the directory may remove it. */
  private void checkSticky(Caller c, Inode dir, Inode child) throws AgentFsException {
    if ((dir.mode & S_ISVTX) != 0 && !privileged(c) && c.uid() != child.uid
        && c.uid() != dir.uid) {
      throw err(Errno.EPERM, path(child.ino));
    }
  }

  private Inode dir(long ino) throws AgentFsException {
    Inode d = node(ino);
    if (!d.isDir()) {
      throw err(Errno.ENOTDIR, path(ino));
    }
    return d;
  }

  /** Strips setuid, and setgid when group-executable, as Linux does on write by non-root. */
  private void killPriv(Caller c, Inode n) {
    if (!privileged(c)) {
      killSuidSgid(n);
    }
  }

  private static void killSuidSgid(Inode n) {
    int m = n.mode;
    m &= ~S_ISUID;
    if ((m & 0010) != 0) {
      m &= ~S_ISGID;
    }
    n.mode = m;
  }

  /** The content a write may change: created on first use, copied if a snapshot shares it. */
  private Content own(Inode n) throws AgentFsException {
    Content ct = n.content;
    if (ct == null) {
      ct = core.newContent();
      n.content = ct;
      n.contentShared = false;
    } else if (ct instanceof LowerContent lc) {
      ct = core.copyUp(lc);
      n.content = ct;
      n.contentShared = false;
    } else if (n.contentShared) {
      ct = core.copyContent(ct);
      n.content = ct;
      n.contentShared = false;
    }
    return ct;
  }

  private void ref(long ino) {
    refs.compute(ino, (k, r) -> {
      Refs x = r == null ? new Refs() : r;
      x.lookups++;
      return x;
    });
  }

  private void opened(long ino) {
    refs.compute(ino, (k, r) -> {
      Refs x = r == null ? new Refs() : r;
      x.opens++;
      return x;
    });
  }

  private boolean referenced(long ino) {
    Refs r = refs.get(ino);
    return r != null && (r.lookups > 0 || r.opens > 0);
  }

  private void unref(long ino, long lookups, int opens) {
    boolean[] gone = new boolean[1];
    refs.computeIfPresent(ino, (k, r) -> {
      r.lookups = Math.max(0, r.lookups - lookups);
      r.opens = Math.max(0, r.opens - opens);
      if (r.lookups == 0 && r.opens == 0) {
        gone[0] = true;
        return null;
      }
      return r;
    });
    if (gone[0]) {
      Inode o = st.orphans.get(ino);
      if (o != null && o.nlink == 0) {
        if (st.orphans.remove(ino, o)) {
          free(o);
        }
      }
    }
  }

  /** The last link is gone: keep the inode while referenced, else free it. */
  private void dropLink(Inode n) {
    if (core.journaled) {
      st.dirtyInodes.add(n.ino);
    }
    // Into the orphans before out of the table, so an open handle always finds its inode.
    boolean keep = referenced(n.ino);
    if (keep) {
      st.orphans.put(n.ino, n);
    }
    synchronized (st.tableLock) {
      st.table = st.table.without(n.ino);
    }
    if (keep) {
      if (!referenced(n.ino) && st.orphans.remove(n.ino, n)) {
        free(n);
      }
    } else {
      free(n);
    }
  }

  private void free(Inode n) {
    Content ct = n.content;
    if (ct != null && !n.contentShared) {
      core.releaseContent(ct);
    }
  }

  private void addEntry(Inode dir, Name name, long ino, int type) {
    dir.addEntry(name, ino, type);
    if (core.journaled) {
      st.dirtyEntries.add(new BranchState.EntryKey(dir.ino, name));
    }
  }

  private void removeEntry(Inode dir, Dirent e) {
    dir.removeEntry(e);
    if (core.journaled) {
      st.dirtyEntries.add(new BranchState.EntryKey(dir.ino, e.name()));
    }
  }

  // ---------------------------------------------------------------- replay (Journal)

  /** The current-epoch version of {@code ino}, created when the log first mentions it. */
  Inode replayInode(long ino, int mode, long btime) {
    synchronized (st.tableLock) {
      Inode cur = st.table.get(ino);
      if (cur != null && cur.epoch == st.epoch && cur.type() == (mode & S_IFMT)) {
        return cur;
      }
      Inode n = cur != null && cur.type() == (mode & S_IFMT) ? cur.copyFor(st.epoch)
          : new Inode(ino, st.epoch, mode, 0, 0, btime, ROOT, Name.of(new byte[0]));
      st.table = st.table.with(ino, n);
      return n;
    }
  }

  void replayGone(long ino) {
    synchronized (st.tableLock) {
      st.table = st.table.without(ino);
    }
  }

  void replayEntry(long dir, Name name, long ino, int type, long cookie)
      throws AgentFsException {
    Inode d = writable(dir);
    Dirent old = d.entries.get(name);
    if (old != null) {
      d.removeEntry(old);
    }
    if (ino != 0) {
      Dirent e = new Dirent(name, ino, type, cookie);
      d.entries = d.entries.with(name, e);
      d.byCookie = d.byCookie.with(cookie, e);
      d.nextCookie = Math.max(d.nextCookie, cookie + 1);
    }
  }

  private void changedInode(long ino) {
    core.fireInode(this, ino);
  }

  private void changedEntry(long parent, Name name) {
    core.fireEntry(this, parent, name.bytes);
  }

  private Handle handle(long fh, long ino) throws AgentFsException {
    Handle h = handles.get(fh);
    if (h == null || h.ino != ino) {
      throw err(Errno.EBADF, path(ino));
    }
    if (st.table.get(ino) == null && st.orphans.get(ino) == null) {
      // The branch was reset to a snapshot without this file: the handle is stale.
      throw err(Errno.ESTALE, path(ino));
    }
    return h;
  }

  /**
   * Replaces this branch's tree with snapshot {@code table} (a reset); returns the old table.
   * Open handles on files the snapshot lacks answer ESTALE from then on.
   */
  LongTrie<Inode> resetTo(LongTrie<Inode> table, long newEpoch) {
    LongTrie<Inode> old = st.table;
    synchronized (st.tableLock) {
      st.table = table;
    }
    st.epoch = newEpoch;
    st.dirtyInodes.clear();
    st.dirtyEntries.clear();
    return old;
  }

  /** Tells listeners about everything that differs between two tables of this branch. */
  void announceDifferences(LongTrie<Inode> before, LongTrie<Inode> after) {
    List<long[]> inos = new ArrayList<>();
    List<Object[]> entries = new ArrayList<>();
    LongTrie.diff(before, after, (ino, b, a) -> {
      inos.add(new long[] {ino});
      for (Inode v : new Inode[] {b, a}) {
        if (v != null && v.isDir()) {
          v.entries.forEach((name, d) -> entries.add(new Object[] {ino, name}));
        }
      }
    });
    for (long[] i : inos) {
      changedInode(i[0]);
    }
    for (Object[] e : entries) {
      changedEntry((Long) e[0], (Name) e[1]);
    }
  }

  /**
   * Runs {@code op}, which ends by making one handle, holding a slot of the filesystem's handle
   * table for it; taken first, as Linux allocates the struct file before the path walk, so
   * ENFILE wins over every other error and a refused open or create changes nothing.
   */
  private <T> T withHandleSlot(String what, Op<T> op) throws AgentFsException {
    core.handleSlots.take(what);
    boolean ok = false;
    try {
      T r = op.run();
      ok = true;
      return r;
    } finally {
      if (!ok) {
        core.handleSlots.give();
      }
    }
  }

  /** Registers a handle; the caller holds its slot (see {@link #withHandleSlot}). */
  private long newHandle(long ino, int flags) {
    long fh = nextFh.getAndIncrement();
    handles.put(fh, new Handle(ino, flags));
    opened(ino);
    return fh;
  }

  // ---------------------------------------------------------------- overlay

  /**
   * Turns the lower listing of directory {@code ino} into entries the first time anything
   * needs them. Reading the host happens outside every lock; the result is installed once.
   */
  void ensureLoaded(long ino) throws AgentFsException {
    Inode d = node(ino);
    if (d.lowerPath == null || d.lowerLoaded || !d.isDir()) {
      return;
    }
    Lower lower = core.lower;
    if (lower == null) {
      return;
    }
    List<Lower.Entry> listing = lower.list(d.lowerPath);
    shared(() -> {
      Inode w = version(ino);
      synchronized (w) {
        if (!w.lowerLoaded) {
          install(lower, w, listing);
        }
      }
      return null;
    });
  }

  /**
   * Materialisation's second pass ({@link Materializer}): every lower inode in {@code inos}
   * becomes the branch's own (logged, no longer read from or compared with the lower), files
   * with the content copied for them.
   */
  void adoptMaterialized(java.util.Collection<Long> inos, java.util.Map<Long, Content> copies)
      throws AgentFsException {
    shared(() -> {
      for (long ino : inos) {
        Inode n = writable(ino);
        synchronized (n) {
          Content c = copies.get(ino);
          if (c != null && n.content instanceof LowerContent) {
            n.content = core.adopt(c);
            n.contentShared = false;
          } else if (c != null) {
            c.release(); // copied up meanwhile: the branch's own bytes win
          }
          n.lowerPath = null;
          if (core.journaled && n.isDir()) {
            // Loaded entries were never logged: a replay must not need the lower for them.
            n.entries.forEach((nm, e) -> st.dirtyEntries.add(new BranchState.EntryKey(ino, nm)));
          }
        }
      }
      return null;
    });
  }

  /** Adds inodes and entries for a lower listing; caller holds {@code d}'s monitor. */
  void install(Lower lower, Inode d, List<Lower.Entry> listing) {
    for (Lower.Entry e : listing) {
      Name nm = Name.of(e.name());
      if (d.entries.get(nm) != null) {
        continue;
      }
      long ino = lower.coreIno(e.ino());
      Inode child = st.table.get(ino);
      if (child == null) {
        child = new Inode(ino, st.epoch, e.mode(), e.uid(), e.gid(), e.ctime(), d.ino, nm);
        child.atime = e.atime();
        child.mtime = e.mtime();
        child.nlink = e.nlink();
        child.rdev = e.rdev();
        child.lowerPath = e.path();
        child.lowerPristine = true;
        child.lowerMtime = e.mtime();
        child.lowerSize = e.size();
        child.lowerChecked = now();
        child.lowerRacy = Lower.racy(e);
        child.target = e.target();
        if (!e.xattrs().isEmpty()) {
          child.setXattrs(new TreeMap<>(e.xattrs()));
        }
        if (child.isReg() && e.size() > 0) {
          child.content = new LowerContent(lower, e.path());
        }
        synchronized (st.tableLock) {
          st.table = st.table.with(ino, child);
        }
      }
      d.addEntry(nm, ino, child.type());
    }
    d.lowerLoaded = true;
  }

  /**
   * Overlay refresh: an untouched lower inode (loaded and never changed by this branch) is
   * compared with the host when {@code lowerRefresh} has passed since its last comparison
   * (always, at 0). If its mtime or ctime moved it takes the host's attributes, and a loaded
   * directory is listed again: names gone from the lower go (unless the branch changed
   * something at or under them), new names come in, a name now naming another host file is
   * replaced. Snapshot views never refresh; neither do inodes the branch changed. The host is
   * read outside every lock; the result is applied under the freeze lock, shared, as loading
   * is, and not logged: a restart reads the lower afresh anyway.
   */
  void refreshLower(long ino) throws AgentFsException {
    Lower lower = core.lower;
    long every = core.lowerRefreshNs;
    if (lower == null || every == Long.MAX_VALUE || st.readOnly) {
      return;
    }
    Inode n = st.table.get(ino);
    if (n == null || n.lowerPath == null || !n.lowerPristine) {
      return;
    }
    long t = now();
    long last = n.lowerChecked;
    if (every > 0 && t - last < every && t >= last) {
      return;
    }
    // A version snapshots may share is marked checked only when it matched the host: a
    // change found here goes into a new version of this branch, and the others must still
    // find it themselves.
    Lower.Entry e;
    try {
      e = lower.stat(n.lowerPath);
    } catch (AgentFsException x) {
      n.lowerChecked = t;
      return; // gone or unreadable: the parent's listing drops it, until then it stays
    }
    if (lower.coreIno(e.ino()) != n.ino || (e.mode() & S_IFMT) != n.type()) {
      n.lowerChecked = t;
      return; // the path names another file now: the parent's listing replaces the entry
    }
    boolean same = e.mtime() == n.mtime && e.ctime() == n.ctime
        && (n.isDir() || e.size() == n.lowerSize);
    if (same && !n.lowerRacy) {
      n.lowerChecked = t;
      return;
    }
    List<Lower.Entry> listing = n.isDir() && n.lowerLoaded ? lower.list(n.lowerPath) : null;
    List<Name> names = new ArrayList<>();
    boolean applied = shared(() -> {
      Inode w = version(ino);
      synchronized (w) {
        if (!w.lowerPristine || w.lowerPath == null) {
          return false;
        }
        takeLowerAttrs(lower, w, e);
        w.lowerChecked = t;
        w.lowerRacy = Lower.racy(e);
        if (listing != null) {
          relist(lower, w, listing, names);
        }
        return true;
      }
    });
    if (applied && (!same || !names.isEmpty())) {
      changedInode(ino);
      for (Name nm : names) {
        changedEntry(ino, nm);
      }
    }
  }

  private static void takeLowerAttrs(Lower lower, Inode w, Lower.Entry e) {
    w.mode = e.mode();
    w.uid = e.uid();
    w.gid = e.gid();
    w.nlink = e.nlink();
    w.rdev = e.rdev();
    w.atime = e.atime();
    w.mtime = e.mtime();
    w.ctime = e.ctime();
    w.lowerMtime = e.mtime();
    w.lowerSize = e.size();
    w.target = e.target();
    w.setXattrs(new TreeMap<>(e.xattrs()));
    if (w.isReg() && w.content == null && e.size() > 0) {
      w.content = new LowerContent(lower, e.path());
    }
  }

  /**
   * Brings loaded, untouched directory {@code d} in line with its new lower listing; caller
   * holds {@code d}'s monitor. Collects the names that changed.
   */
  private void relist(Lower lower, Inode d, List<Lower.Entry> listing, List<Name> names)
      throws AgentFsException {
    java.util.Map<Name, Lower.Entry> now = new java.util.HashMap<>();
    for (Lower.Entry e : listing) {
      now.put(Name.of(e.name()), e);
    }
    List<Dirent> gone = new ArrayList<>();
    d.entries.forEach((nm, de) -> {
      Lower.Entry e = now.get(nm);
      if (e == null || lower.coreIno(e.ino()) != de.ino()) {
        gone.add(de);
      }
    });
    for (Dirent de : gone) {
      Inode child = st.table.get(de.ino());
      if (child != null && !untouched(child)) {
        continue; // the branch's own now: copied-up entries never follow the lower
      }
      d.removeEntry(de);
      names.add(de.name());
      if (child != null && (child.isDir() || child.nlink <= 1)) {
        dropLowerTree(child.ino);
      }
    }
    for (Name nm : now.keySet()) {
      if (d.entries.get(nm) == null) {
        names.add(nm);
      }
    }
    install(lower, d, listing);
  }

  /** Whether nothing at or under {@code n} was changed by this branch. */
  private boolean untouched(Inode n) {
    if (n.lowerPath == null || !n.lowerPristine) {
      return false;
    }
    if (!n.isDir() || !n.lowerLoaded) {
      return true;
    }
    boolean[] ok = {true};
    n.entries.forEach((nm, de) -> {
      Inode c = st.table.get(de.ino());
      if (ok[0] && c != null && !untouched(c)) {
        ok[0] = false;
      }
    });
    return ok[0];
  }

  /**
   * Takes an untouched lower inode (and, for a directory, what it loaded) out of the table
   * because the lower dropped it; one the kernel or a handle still references lives on as an
   * orphan until forgotten, as after unlink. Holds nothing in the backstore, logs nothing.
   */
  private void dropLowerTree(long ino) throws AgentFsException {
    boolean keep = referenced(ino);
    Inode n = keep ? version(ino) : node(ino);
    List<Long> children = new ArrayList<>();
    if (n.isDir()) {
      n.entries.forEach((nm, de) -> children.add(de.ino()));
    }
    if (keep) {
      n.nlink = 0; // so that the last forget frees it
      st.orphans.put(ino, n);
    }
    synchronized (st.tableLock) {
      st.table = st.table.without(ino);
    }
    if (keep && !referenced(ino)) {
      st.orphans.remove(ino, n);
    }
    for (long c : children) {
      Inode child = st.table.get(c);
      if (child != null && (child.isDir() || child.nlink <= 1)) {
        dropLowerTree(c);
      }
    }
  }

  /**
   * The longest the kernel may cache {@code ino}'s attributes, entries under it and its
   * listing: the lower refresh interval for an untouched overlay entry, so workspace changes
   * show; no limit for everything else.
   */
  @Override
  public long cacheLimitNanos(long ino) {
    if (core.lower == null || core.lowerRefreshNs == Long.MAX_VALUE || st.readOnly) {
      return Long.MAX_VALUE;
    }
    Inode n = st.table.get(ino);
    return n != null && n.lowerPath != null && n.lowerPristine ? core.lowerRefreshNs
        : Long.MAX_VALUE;
  }

  // ---------------------------------------------------------------- lookup and attributes

  @Override
  public Attr lookup(Caller c, long parent, byte[] name) throws AgentFsException {
    Inode child = resolveChild(c, parent, name);
    ref(child.ino);
    return child.attr();
  }

  /** Lookup without adding a kernel reference, for path walks by the Java API. */
  public long lookupNoRef(Caller c, long parent, byte[] name) throws AgentFsException {
    return resolveChild(c, parent, name).ino;
  }

  Inode resolveChild(Caller c, long parent, byte[] name) throws AgentFsException {
    Inode d = dir(parent);
    if (d.lowerPath != null) {
      if (d.lowerLoaded) {
        refreshLower(parent);
      } else {
        ensureLoaded(parent);
      }
      d = dir(parent);
    }
    check(c, d, X_OK);
    if (Arrays.equals(name, DOT)) {
      return d;
    }
    if (Arrays.equals(name, DOTDOT)) {
      return node(d.parent);
    }
    if (name.length > Name.MAX) {
      throw err(Errno.ENAMETOOLONG, path(parent, name));
    }
    Dirent e = d.entries.get(Name.of(name));
    if (e == null) {
      throw err(Errno.ENOENT, path(parent, name));
    }
    Inode child = node(e.ino());
    if (child.lowerPath != null && child.lowerPristine) {
      refreshLower(child.ino);
      child = node(e.ino());
    }
    return child;
  }

  @Override
  public void forget(long ino, long nlookup) {
    unref(ino, nlookup, 0);
  }

  @Override
  public Attr getattr(Caller c, long ino, long fh) throws AgentFsException {
    refreshLower(ino);
    Inode n = node(ino);
    if (!st.pinned.isEmpty() && st.pinned.containsKey(ino)) {
      syncTimesFromHost(n);
    }
    return n.attr();
  }

  /**
   * The kernel writes a passthrough file (or a mapping writes a mapped one) without telling us,
   * so while it is in use the host file's mtime is the truth (setattr writes explicit times
   * through to it). True when the recorded mtime changed.
   */
  private boolean syncTimesFromHost(Inode n) {
    Content ct = n.content;
    java.nio.file.Path p = ct == null ? null : ct.hostPath();
    if (p == null || n.epoch != st.epoch) {
      return false;
    }
    try {
      java.util.Map<String, Object> a = java.nio.file.Files.readAttributes(p,
          "unix:lastModifiedTime,ctime");
      long m = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime"))
          .to(java.util.concurrent.TimeUnit.NANOSECONDS);
      synchronized (n) {
        if (m != n.mtime) {
          n.mtime = m;
          n.ctime = Math.max(n.ctime, m);
          if (core.journaled) {
            st.dirtyInodes.add(n.ino);
          }
          return true;
        }
      }
    } catch (java.io.IOException e) {
      // the host file is gone or unreadable: keep what we recorded
    }
    return false;
  }

  @Override
  public Attr setattr(Caller c, long ino, long fh, SetAttr s) throws AgentFsException {
    Handle h = fh != 0 ? handles.get(fh) : null;
    Attr a = mutate(() -> {
      Inode n = writable(ino);
      Op<Attr> op = () -> locked(() -> {
        applySetattr(c, n, h, s);
        return n.attr();
      }, n);
      return s.has(SetAttr.SIZE) ? withIo(n, op) : op.run();
    });
    changedInode(ino);
    return a;
  }

  private void applySetattr(Caller c, Inode n, @Nullable Handle h, SetAttr s)
      throws AgentFsException {
    boolean priv = privileged(c);
    boolean owner = priv || c.uid() == n.uid;
    // Check everything first (setattr_prepare), then apply: a refused call changes nothing.
    if (s.has(SetAttr.MODE) && !owner && !killPrivOnly(c, n, s.mode())) {
      throw err(Errno.EPERM, path(n.ino));
    }
    int newUid = s.has(SetAttr.UID) ? s.uid() : n.uid;
    int newGid = s.has(SetAttr.GID) ? s.gid() : n.gid;
    if (s.has(SetAttr.UID) && !priv && !(c.uid() == n.uid && newUid == n.uid)) {
      throw err(Errno.EPERM, path(n.ino));
    }
    if (s.has(SetAttr.GID) && !priv
        && !(c.uid() == n.uid && (newGid == n.gid || c.inGroup(newGid)))) {
      throw err(Errno.EPERM, path(n.ino));
    }
    if (s.has(SetAttr.SIZE)) {
      if (n.isDir()) {
        throw err(Errno.EISDIR, path(n.ino));
      }
      if (!n.isReg()) {
        throw err(Errno.EINVAL, path(n.ino));
      }
      if (s.size() < 0) {
        throw err(Errno.EINVAL, path(n.ino));
      }
      if (s.size() > MAX_FILE_SIZE) {
        throw err(Errno.EFBIG, path(n.ino));
      }
      if (h == null || !h.writable()) {
        check(c, n, W_OK);
      }
    }
    boolean explicitTimes = (s.has(SetAttr.ATIME) && !s.has(SetAttr.ATIME_NOW))
        || (s.has(SetAttr.MTIME) && !s.has(SetAttr.MTIME_NOW));
    boolean nowTimes = s.has(SetAttr.ATIME_NOW) || s.has(SetAttr.MTIME_NOW);
    if (explicitTimes && !owner) {
      throw err(Errno.EPERM, path(n.ino));
    }
    if (nowTimes && !explicitTimes && !owner) {
      if (h == null || !h.writable()) {
        check(c, n, W_OK);
      }
    }
    long t = now();
    if (s.has(SetAttr.SIZE)) {
      long old = n.size();
      if (s.size() == 0 && n.content instanceof LowerContent) {
        n.content = null; // nothing of the lower file survives: skip the copy-up
      } else if (s.size() != old || n.content != null) {
        own(n).truncate(s.size());
      }
      if (!s.has(SetAttr.MTIME)) {
        n.mtime = t;
      }
      if (!priv) {
        killSuidSgid(n);
      }
    }
    if (s.has(SetAttr.UID) || s.has(SetAttr.GID)) {
      n.uid = newUid;
      n.gid = newGid;
      if (!n.isDir()) {
        killSuidSgid(n);
      }
    }
    if (s.has(SetAttr.MODE)) {
      int m = s.mode() & 07777;
      if (!priv && !c.inGroup(n.gid)) {
        m &= ~S_ISGID;
      }
      n.mode = (n.mode & S_IFMT) | m;
      byte[] acl = n.xattrs.get(PosixAcl.ACCESS);
      if (acl != null) {
        putXattr(n, PosixAcl.ACCESS, PosixAcl.stored(acl).chmod(m).encode());
      }
    }
    if (s.has(SetAttr.KILL_SUIDGID)) {
      killSuidSgid(n);
    }
    if (s.has(SetAttr.ATIME)) {
      n.atime = s.has(SetAttr.ATIME_NOW) ? t : s.atimeNs();
    }
    if (s.has(SetAttr.MTIME)) {
      n.mtime = s.has(SetAttr.MTIME_NOW) ? t : s.mtimeNs();
      if (st.pinned.containsKey(n.ino) && n.content != null && n.content.hostPath() != null) {
        try {
          java.nio.file.Files.setLastModifiedTime(n.content.hostPath(),
              java.nio.file.attribute.FileTime.from(n.mtime,
                  java.util.concurrent.TimeUnit.NANOSECONDS));
        } catch (java.io.IOException e) {
          throw new AgentFsException(Errno.EIO, path(n.ino), e);
        }
      }
    }
    n.ctime = s.has(SetAttr.CTIME) ? s.ctimeNs() : t;
  }

  /**
   * A mode change that only drops set-id bits, asked by a caller who may write the file: what
   * a kernel without FUSE killpriv support (libfuse2) sends on a non-owner's write, as that
   * writer. Linux clears the bits for such a writer, so it is allowed.
   */
  private boolean killPrivOnly(Caller c, Inode n, int mode) {
    int old = n.mode & 07777;
    int want = mode & 07777;
    int setId = S_ISUID | S_ISGID;
    if ((want & ~old) != 0 || (want | setId) != (old | setId) || want == old) {
      return false;
    }
    try {
      check(c, n, W_OK);
      return true;
    } catch (AgentFsException e) {
      return false;
    }
  }

  @Override
  public byte[] readlink(Caller c, long ino) throws AgentFsException {
    Inode n = node(ino);
    byte[] t = n.target;
    if (t == null) {
      throw err(Errno.EINVAL, path(ino));
    }
    return t.clone();
  }

  // ---------------------------------------------------------------- creating names

  @Override
  public Attr mknod(Caller c, long parent, byte[] name, int mode, long rdev, int umask)
      throws AgentFsException {
    int type = mode & S_IFMT;
    if (type == 0) {
      type = S_IFREG;
    }
    switch (type) {
      case S_IFREG, S_IFIFO, S_IFSOCK -> { }
      case S_IFCHR, S_IFBLK -> {
        if (!privileged(c)) {
          throw err(Errno.EPERM, path(parent, name));
        }
      }
      default -> throw err(Errno.EINVAL, path(parent, name));
    }
    Inode n = createNode(c, parent, name, type | (mode & 07777), umask, null,
        type == S_IFCHR || type == S_IFBLK ? rdev : 0);
    return n.attr();
  }

  @Override
  public Attr mkdir(Caller c, long parent, byte[] name, int mode, int umask)
      throws AgentFsException {
    Inode n = createNode(c, parent, name, S_IFDIR | (mode & 07777), umask, null, 0);
    return n.attr();
  }

  @Override
  public Attr symlink(Caller c, long parent, byte[] name, byte[] target)
      throws AgentFsException {
    if (target.length == 0) {
      throw err(Errno.ENOENT, path(parent, name));
    }
    if (target.length > MAX_SYMLINK) {
      throw err(Errno.ENAMETOOLONG, path(parent, name));
    }
    for (byte x : target) {
      if (x == 0) {
        // The kernel never sends one; every C reader would cut the target short there.
        throw err(Errno.EINVAL, path(parent, name));
      }
    }
    if (core.confinedSymlinks
        && SymlinkPolicy.escapes(target, shared(() -> depth(parent)))) {
      throw new AgentFsException(Errno.EPERM, path(parent, name), null, "confined symlinks: "
          + "target '" + new String(target, StandardCharsets.UTF_8) + "' is absolute or leads "
          + "above the filesystem root");
    }
    Inode n = createNode(c, parent, name, S_IFLNK | 0777, 0, target.clone(), 0);
    return n.attr();
  }

  /**
   * Creates and links a new inode holding one kernel reference for the caller. {@code mode}
   * is as asked, before the umask (see {@link #newInode}); the device number is set before the
   * inode is published: once createNode returns, a snapshot may hold the inode and it must not
   * change any more.
   */
  Inode createNode(Caller c, long parent, byte[] rawName, int mode, int umask,
      byte @Nullable [] target, long rdev) throws AgentFsException {
    Name nm = name(rawName, parent);
    ensureLoaded(parent);
    Inode n = mutate(() -> {
      Inode d = writable(parent);
      return locked(() -> {
        if (!d.isDir()) {
          throw err(Errno.ENOTDIR, path(parent));
        }
        check(c, d, X_OK);
        if (nm.isDot() || nm.isDotDot() || d.entries.get(nm) != null) {
          throw err(Errno.EEXIST, path(parent, rawName));
        }
        check(c, d, W_OK | X_OK);
        if (d.nlink == 0) {
          throw err(Errno.ENOENT, path(parent, rawName));
        }
        Inode x = newInode(c, d, mode, umask, nm);
        x.target = target;
        x.rdev = rdev;
        if (core.journaled) {
          st.dirtyInodes.add(x.ino);
        }
        synchronized (st.tableLock) {
          st.table = st.table.with(x.ino, x);
        }
        // The caller's kernel reference is taken before the name is visible, so a racing
        // unlink can only orphan the new inode, never free it under the caller.
        ref(x.ino);
        addEntry(d, nm, x.ino, x.type());
        if (x.isDir()) {
          d.nlink++;
        }
        d.mtime = d.ctime = x.ctime;
        return x;
      }, d);
    });
    changedEntry(parent, nm);
    changedInode(parent);
    return n;
  }

  /**
   * A new inode in {@code d}, in Linux's order: group and setgid from a setgid directory, the
   * setgid bit dropped for a caller outside the group (judged on the mode as asked, as
   * vfs_prepare_mode does), then either the umask or, when {@code d} has a default ACL,
   * posix_acl_create: the umask is ignored, the default ACL masked by the mode becomes the
   * access ACL (kept only if it says more than the mode), and a directory inherits the default
   * ACL itself. Symlinks get neither (their mode is always 0777).
   */
  private Inode newInode(Caller c, Inode d, int mode, int umask, Name nm)
      throws AgentFsException {
    if (st.table.size() + st.orphans.size() >= MAX_INODES) {
      throw err(Errno.ENOSPC, path(d.ino, nm.bytes));
    }
    int gid = c.gid();
    int m = mode;
    if ((d.mode & S_ISGID) != 0) {
      gid = d.gid;
      if (isDir(m)) {
        m |= S_ISGID;
      }
    }
    if (!isDir(m) && (m & S_ISGID) != 0 && (m & 0010) != 0 && !privileged(c)
        && !c.inGroup(gid)) {
      m &= ~S_ISGID;
    }
    byte[] dflt = isLnk(m) ? null : d.xattrs.get(PosixAcl.DEFAULT);
    TreeMap<String, byte[]> acls = null;
    if (dflt == null) {
      m &= ~(umask & 0777);
    } else {
      PosixAcl.Masked masked = PosixAcl.stored(dflt).createMasq(m);
      m = masked.mode();
      acls = new TreeMap<>();
      if (masked.acl().extended()) {
        acls.put(PosixAcl.ACCESS, masked.acl().encode());
      }
      if (isDir(m)) {
        acls.put(PosixAcl.DEFAULT, dflt);
      }
    }
    Inode x = new Inode(core.newIno(), st.epoch, m, c.uid(), gid, now(), d.ino, nm);
    if (acls != null) {
      x.setXattrs(acls);
    }
    return x;
  }

  @Override
  public Attr link(Caller c, long ino, long newParent, byte[] newName) throws AgentFsException {
    Name nm = name(newName, newParent);
    ensureLoaded(newParent);
    Attr a = mutate(() -> {
      Inode d = writable(newParent);
      Inode n = writable(ino);
      return locked(() -> {
        if (!d.isDir()) {
          throw err(Errno.ENOTDIR, path(newParent));
        }
        check(c, d, X_OK);
        if (nm.isDot() || nm.isDotDot() || d.entries.get(nm) != null) {
          throw err(Errno.EEXIST, path(newParent, newName));
        }
        check(c, d, W_OK | X_OK);
        if (d.nlink == 0) {
          throw err(Errno.ENOENT, path(newParent, newName));
        }
        if (n.isDir()) {
          throw err(Errno.EPERM, path(ino));
        }
        if (n.nlink == 0 && !n.tmpfile) {
          throw err(Errno.ENOENT, path(ino));
        }
        if (n.nlink >= MAX_LINKS) {
          throw err(Errno.EMLINK, path(ino));
        }
        if (n.nlink == 0) {
          st.orphans.remove(ino, n);
          synchronized (st.tableLock) {
            st.table = st.table.with(ino, n);
          }
          n.tmpfile = false;
          n.parent = d.ino;
          n.nameHint = nm;
        }
        n.nlink++;
        long t = now();
        n.ctime = t;
        addEntry(d, nm, n.ino, n.type());
        d.mtime = d.ctime = t;
        return n.attr();
      }, d, n);
    });
    ref(ino);
    changedEntry(newParent, nm);
    changedInode(ino);
    changedInode(newParent);
    return a;
  }

  // ---------------------------------------------------------------- removing names

  @Override
  public void unlink(Caller c, long parent, byte[] name) throws AgentFsException {
    remove(c, parent, name, false);
  }

  @Override
  public void rmdir(Caller c, long parent, byte[] name) throws AgentFsException {
    remove(c, parent, name, true);
  }

  private void remove(Caller c, long parent, byte[] rawName, boolean rmdir)
      throws AgentFsException {
    if (rmdir && Arrays.equals(rawName, DOT)) {
      throw err(Errno.EINVAL, path(parent, rawName));
    }
    if (rmdir && Arrays.equals(rawName, DOTDOT)) {
      throw err(Errno.ENOTEMPTY, path(parent, rawName));
    }
    Name nm = name(rawName, parent);
    ensureLoaded(parent);
    if (rmdir) {
      Inode d = node(parent);
      Dirent e = d.isDir() ? d.entries.get(nm) : null;
      if (e != null) {
        ensureLoaded(e.ino());
      }
    }
    long removed = mutate(() -> {
      while (true) {
        Inode d = writable(parent);
        if (!d.isDir()) {
          throw err(Errno.ENOTDIR, path(parent));
        }
        check(c, d, X_OK);
        Dirent e = d.entries.get(nm);
        if (e == null) {
          throw err(Errno.ENOENT, path(parent, rawName));
        }
        Inode n;
        try {
          n = writable(e.ino());
        } catch (AgentFsException x) {
          if (x.errno() == Errno.ENOENT) {
            continue; // removed meanwhile: look the name up again
          }
          throw x;
        }
        Long done = locked(() -> {
          if (d.entries.get(nm) != e) {
            return null;
          }
          check(c, d, W_OK | X_OK);
          checkSticky(c, d, n);
          if (rmdir) {
            if (!n.isDir()) {
              throw err(Errno.ENOTDIR, path(parent, rawName));
            }
            if (n.ino == ROOT) {
              throw err(Errno.EBUSY, path(parent, rawName));
            }
            if (!n.entries.isEmpty()) {
              throw err(Errno.ENOTEMPTY, path(parent, rawName));
            }
          } else if (n.isDir()) {
            throw err(Errno.EISDIR, path(parent, rawName));
          }
          long t = now();
          removeEntry(d, e);
          d.mtime = d.ctime = t;
          n.ctime = t;
          if (rmdir) {
            d.nlink--;
            n.nlink = 0;
          } else {
            n.nlink--;
          }
          if (n.nlink == 0) {
            dropLink(n);
          }
          return n.ino;
        }, d, n);
        if (done != null) {
          return done;
        }
      }
    });
    changedEntry(parent, nm);
    changedInode(parent);
    changedInode(removed);
  }

  @Override
  public void rename(Caller c, long parent, byte[] name, long newParent, byte[] newName,
      int flags) throws AgentFsException {
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0
        || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
      throw err(Errno.EINVAL, path(parent, name));
    }
    Name sn = name(name, parent);
    Name dn = name(newName, newParent);
    if (sn.isDot() || sn.isDotDot() || dn.isDot() || dn.isDotDot()) {
      throw err(Errno.EINVAL, path(parent, name));
    }
    ensureLoaded(parent);
    ensureLoaded(newParent);
    Inode target = node(newParent);
    Dirent existing = target.isDir() ? target.entries.get(dn) : null;
    if (existing != null) {
      ensureLoaded(existing.ino());
    }
    long[] touched = mutate(() -> {
      synchronized (st.renameLock) {
        while (true) {
          Inode sd = writable(parent);
          Inode dd = writable(newParent);
          if (!sd.isDir()) {
            throw err(Errno.ENOTDIR, path(parent));
          }
          if (!dd.isDir()) {
            throw err(Errno.ENOTDIR, path(newParent));
          }
          check(c, sd, X_OK);
          check(c, dd, X_OK);
          Dirent se = sd.entries.get(sn);
          if (se == null) {
            throw err(Errno.ENOENT, path(parent, name));
          }
          Dirent de = dd.entries.get(dn);
          if ((flags & RENAME_EXCHANGE) != 0 && de == null) {
            throw err(Errno.ENOENT, path(newParent, newName));
          }
          if ((flags & RENAME_NOREPLACE) != 0 && de != null) {
            throw err(Errno.EEXIST, path(newParent, newName));
          }
          Inode src;
          Inode dst;
          try {
            src = writable(se.ino());
            dst = de == null ? null : writable(de.ino());
          } catch (AgentFsException e) {
            if (e.errno() == Errno.ENOENT) {
              continue; // an entry's inode was removed meanwhile: look again
            }
            throw e;
          }
          Inode[] all = dst == null ? new Inode[] {sd, dd, src} : new Inode[] {sd, dd, src, dst};
          long[] r = locked(() -> {
            // unlink, create and link do not take the rename lock: the entries looked up above
            // may have changed before the inodes were locked.
            if (sd.entries.get(sn) != se || dd.entries.get(dn) != de) {
              return null;
            }
            if (dd.nlink == 0 || sd.nlink == 0) {
              throw err(Errno.ENOENT, path(newParent, newName));
            }
            // Linux checks the ancestry before the types and permissions: a source that is
            // an ancestor of the target's directory is EINVAL; a target that is an ancestor
            // of the source's directory is ENOTEMPTY (EINVAL for an exchange).
            if (src.isDir() && within(dd, src.ino)) {
              throw err(Errno.EINVAL, path(parent, name));
            }
            if (dst != null && dst.isDir() && within(sd, dst.ino)) {
              throw err((flags & RENAME_EXCHANGE) != 0 ? Errno.EINVAL : Errno.ENOTEMPTY,
                  path(newParent, newName));
            }
            check(c, sd, W_OK | X_OK);
            check(c, dd, W_OK | X_OK);
            checkSticky(c, sd, src);
            if (dst != null) {
              checkSticky(c, dd, dst);
            }
            if (dst == src) {
              return new long[] {src.ino};
            }
            if ((flags & RENAME_EXCHANGE) != 0) {
              exchange(c, sd, dd, se, de, src, dst);
            } else {
              move(c, sd, dd, se, de, src, dst, dn);
            }
            return dst == null ? new long[] {src.ino} : new long[] {src.ino, dst.ino};
          }, all);
          if (r != null) {
            return r;
          }
        }
      }
    });
    changedEntry(parent, sn);
    changedEntry(newParent, dn);
    changedInode(parent);
    changedInode(newParent);
    for (long t : touched) {
      changedInode(t);
    }
  }

  /** How many directories lie between the root and directory {@code dir} (0 for the root). */
  private int depth(long dir) throws AgentFsException {
    int d = 0;
    for (long cur = dir; cur != ROOT; cur = node(cur).parent) {
      if (++d > 1_000_000) {
        throw err(Errno.ELOOP, path(dir));
      }
    }
    return d;
  }

  /** True when {@code dir} is {@code ancestor} or lies below it. */
  private boolean within(Inode dir, long ancestor) throws AgentFsException {
    long cur = dir.ino;
    for (int guard = 0; guard < 1_000_000; guard++) {
      if (cur == ancestor) {
        return true;
      }
      if (cur == ROOT) {
        return false;
      }
      cur = node(cur).parent;
    }
    throw err(Errno.ELOOP, path(dir.ino));
  }

  private void move(Caller c, Inode sd, Inode dd, Dirent se, @Nullable Dirent de, Inode src,
      @Nullable Inode dst, Name dn) throws AgentFsException {
    if (dst != null) {
      if (src.isDir() && !dst.isDir()) {
        throw err(Errno.ENOTDIR, path(dd.ino, dn.bytes));
      }
      if (!src.isDir() && dst.isDir()) {
        throw err(Errno.EISDIR, path(dd.ino, dn.bytes));
      }
    }
    if (src.isDir()) {
      if (within(dd, src.ino)) {
        throw err(Errno.EINVAL, path(sd.ino, se.name().bytes));
      }
      if (sd != dd) {
        check(c, src, W_OK);
      }
    }
    if (dst != null && dst.isDir() && !dst.entries.isEmpty()) {
      throw err(Errno.ENOTEMPTY, path(dd.ino, dn.bytes));
    }
    long t = now();
    removeEntry(sd, se);
    if (de != null && dst != null) {
      removeEntry(dd, de);
      dst.ctime = t;
      if (dst.isDir()) {
        dst.nlink = 0;
        dd.nlink--;
      } else {
        dst.nlink--;
      }
      if (dst.nlink == 0) {
        dropLink(dst);
      }
    }
    addEntry(dd, dn, src.ino, src.type());
    if (src.isDir() && sd != dd) {
      sd.nlink--;
      dd.nlink++;
    }
    src.parent = dd.ino;
    src.nameHint = dn;
    src.ctime = t;
    sd.mtime = sd.ctime = t;
    dd.mtime = dd.ctime = t;
  }

  private void exchange(Caller c, Inode sd, Inode dd, Dirent se, Dirent de, Inode src,
      Inode dst) throws AgentFsException {
    if (sd != dd) {
      if (src.isDir()) {
        check(c, src, W_OK);
        if (within(dd, src.ino)) {
          throw err(Errno.EINVAL, path(sd.ino, se.name().bytes));
        }
      }
      if (dst.isDir()) {
        check(c, dst, W_OK);
        if (within(sd, dst.ino)) {
          throw err(Errno.EINVAL, path(dd.ino, de.name().bytes));
        }
      }
    }
    long t = now();
    removeEntry(sd, se);
    removeEntry(dd, de);
    addEntry(sd, se.name(), dst.ino, dst.type());
    addEntry(dd, de.name(), src.ino, src.type());
    if (sd != dd && src.isDir() != dst.isDir()) {
      if (src.isDir()) {
        sd.nlink--;
        dd.nlink++;
      } else {
        dd.nlink--;
        sd.nlink++;
      }
    }
    src.parent = dd.ino;
    src.nameHint = de.name();
    dst.parent = sd.ino;
    dst.nameHint = se.name();
    src.ctime = dst.ctime = t;
    sd.mtime = sd.ctime = t;
    dd.mtime = dd.ctime = t;
  }

  // ---------------------------------------------------------------- files

  @Override
  public long open(Caller c, long ino, int flags) throws AgentFsException {
    return withHandleSlot(path(ino), () -> openWithSlot(c, ino, flags));
  }

  private long openWithSlot(Caller c, long ino, int flags) throws AgentFsException {
    Inode n = node(ino);
    int acc = flags & O_ACCMODE;
    boolean wantWrite = acc != O_RDONLY || (flags & O_TRUNC) != 0;
    if (n.isDir() && wantWrite) {
      throw err(Errno.EISDIR, path(ino));
    }
    if (n.isSymlink()) {
      throw err(Errno.ELOOP, path(ino));
    }
    if (wantWrite && readOnly()) {
      throw err(Errno.EROFS, path(ino));
    }
    int mask = (acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK)
        | ((flags & O_TRUNC) != 0 ? W_OK : 0);
    check(c, n, mask);
    if ((flags & O_TRUNC) != 0 && n.isReg()) {
      truncateOnOpen(c, ino);
    }
    return newHandle(ino, flags);
  }

  private void truncateOnOpen(Caller c, long ino) throws AgentFsException {
    mutate(() -> {
      Inode n = writable(ino);
      return withIo(n, () -> locked(() -> {
        if (n.content instanceof LowerContent) {
          n.content = null;
        } else if (n.content != null && n.size() != 0) {
          own(n).truncate(0);
        }
        long t = now();
        n.mtime = n.ctime = t;
        killPriv(c, n);
        return null;
      }, n));
    });
    changedInode(ino);
  }

  @Override
  public Created create(Caller c, long parent, byte[] name, int mode, int flags, int umask)
      throws AgentFsException {
    return withHandleSlot(path(parent, name), () -> createWithSlot(c, parent, name, mode,
        flags, umask));
  }

  private Created createWithSlot(Caller c, long parent, byte[] name, int mode, int flags,
      int umask) throws AgentFsException {
    int m = S_IFREG | (mode & 07777);
    while (true) {
      Inode existing;
      try {
        existing = resolveChild(c, parent, name);
      } catch (AgentFsException e) {
        if (e.errno() != Errno.ENOENT) {
          throw e;
        }
        existing = null;
      }
      if (existing != null) {
        if ((flags & O_EXCL) != 0) {
          throw err(Errno.EEXIST, path(parent, name));
        }
        if (existing.isDir()) {
          throw err(Errno.EISDIR, path(parent, name));
        }
        long fh = openWithSlot(c, existing.ino, flags & ~O_CREAT);
        ref(existing.ino);
        return new Created(node(existing.ino).attr(), fh);
      }
      try {
        Inode n = createNode(c, parent, name, m, umask, null, 0);
        return new Created(n.attr(), newHandle(n.ino, flags));
      } catch (AgentFsException e) {
        if (e.errno() != Errno.EEXIST || (flags & O_EXCL) != 0) {
          throw e;
        }
        // Lost a race with another creator: open what it made.
      }
    }
  }

  @Override
  public Created tmpfile(Caller c, long parent, int mode, int flags, int umask)
      throws AgentFsException {
    return withHandleSlot(path(parent), () -> tmpfileWithSlot(c, parent, mode, flags, umask));
  }

  private Created tmpfileWithSlot(Caller c, long parent, int mode, int flags, int umask)
      throws AgentFsException {
    Inode n = mutate(() -> {
      Inode d = dir(parent);
      check(c, d, W_OK | X_OK);
      if (d.nlink == 0) {
        throw err(Errno.ENOENT, path(parent));
      }
      Inode x = newInode(c, d, S_IFREG | (mode & 07777), umask, Name.of(new byte[] {'#'}));
      x.nlink = 0;
      x.tmpfile = (flags & O_EXCL) == 0;
      st.orphans.put(x.ino, x);
      return x;
    });
    long fh = newHandle(n.ino, flags);
    ref(n.ino);
    return new Created(n.attr(), fh);
  }

  @Override
  public int read(long ino, long fh, long offset, ByteBuffer dst) throws AgentFsException {
    Handle h = handle(fh, ino);
    if (!h.readable()) {
      throw err(Errno.EBADF, path(ino));
    }
    if (offset < 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    return shared(() -> {
      Inode n = node(ino);
      if (n.isDir()) {
        throw err(Errno.EISDIR, path(ino));
      }
      Content ct = n.content;
      return ct == null ? 0 : ct.read(offset, dst);
    });
  }

  @Override
  public int write(Caller c, long ino, long fh, long offset, ByteBuffer src)
      throws AgentFsException {
    Handle h = handle(fh, ino);
    if (!h.writable()) {
      throw err(Errno.EBADF, path(ino));
    }
    if (offset < 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    int len = src.remaining();
    int written = mutate(() -> {
      Inode n = writable(ino);
      // Writers of one file are serialised by its io lock; the monitor, which stat, lookup
      // and readdirplus need, is held only around the metadata, not during the data I/O.
      return withIo(n, () -> {
        long pos;
        Content ct;
        synchronized (n) {
          pos = (h.flags & O_APPEND) != 0 ? n.size() : offset;
          if (len == 0) {
            return 0;
          }
          if (pos > MAX_FILE_SIZE - len) {
            throw err(Errno.EFBIG, path(ino));
          }
          ct = own(n);
        }
        ct.write(pos, src);
        synchronized (n) {
          long t = now();
          n.mtime = n.ctime = t;
          killPriv(c, n);
        }
        return len;
      });
    });
    if (written > 0) {
      changedInode(ino);
    }
    return written;
  }

  @Override
  public void flush(Caller c, long ino, long fh, long lockOwner) throws AgentFsException {
    handle(fh, ino);
    locks.releasePosix(ino, lockOwner);
  }

  @Override
  public void release(long ino, long fh) throws AgentFsException {
    Handle h = handles.remove(fh);
    if (h == null) {
      return;
    }
    core.handleSlots.give();
    locks.releaseFlock(h.ino, fh);
    unref(h.ino, 0, 1);
  }

  @Override
  public void fsync(long ino, long fh, boolean datasync) throws AgentFsException {
    Inode n = node(ino);
    Content ct = n.content;
    if (ct != null) {
      ct.sync(datasync);
    }
    if (!st.pinned.isEmpty() && st.pinned.containsKey(ino)) {
      // Its host file may have been written behind our back (a memory mapping through the
      // java.nio channel): what mounts cached of it and what watchers saw may be stale.
      syncTimesFromHost(n);
      changedInode(ino);
    }
    core.syncMetadata();
  }

  // ---------------------------------------------------------------- directories

  @Override
  public long opendir(Caller c, long ino, int flags) throws AgentFsException {
    refreshLower(ino);
    return withHandleSlot(path(ino), () -> {
      Inode d = dir(ino);
      check(c, d, R_OK);
      return newHandle(ino, O_RDONLY | O_DIRECTORY);
    });
  }

  @Override
  public void readdir(Caller c, long ino, long fh, long offset, boolean plus, DirSink sink)
      throws AgentFsException {
    if (offset == 0) {
      refreshLower(ino);
    }
    ensureLoaded(ino);
    Inode d = dir(ino);
    if (offset < 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    if (offset == 0 && !sink.add(DOT, d.ino, S_IFDIR, 1, plus ? d.attr() : null)) {
      return;
    }
    if (offset <= 1) {
      Inode p = node(d.parent);
      if (!sink.add(DOTDOT, p.ino, S_IFDIR, 2, plus ? p.attr() : null)) {
        return;
      }
    }
    LongTrie<Dirent> entries = d.byCookie;
    long cur = Math.max(offset, 2);
    for (long k = entries.nextKey(cur); k >= 0; k = entries.nextKey(k)) {
      Dirent e = entries.get(k);
      if (e == null) {
        continue;
      }
      Attr a = null;
      if (plus) {
        Inode child = st.table.get(e.ino());
        if (child == null) {
          continue;
        }
        a = child.attr();
      }
      if (!sink.add(e.name().bytes, e.ino(), e.type(), e.cookie(), a)) {
        return;
      }
      if (plus) {
        ref(e.ino());
      }
    }
  }

  @Override
  public void releasedir(long ino, long fh) throws AgentFsException {
    release(ino, fh);
  }

  @Override
  public void fsyncdir(long ino, long fh, boolean datasync) throws AgentFsException {
    dir(ino);
    core.syncMetadata();
  }

  @Override
  public StatFs statfs(Caller c, long ino) throws AgentFsException {
    long cap = core.backstore.capacityBytes();
    if (cap == Long.MAX_VALUE) {
      cap = core.unboundedCapacity();
    }
    long avail = Math.min(cap, core.backstore.availableBytes());
    if (core.backstore.capacityBytes() == Long.MAX_VALUE) {
      avail = Math.max(0, cap - core.backstore.usedBytes());
    }
    int bsize = Attr.BLKSIZE;
    long used = st.table.size() + st.orphans.size();
    return new StatFs(cap / bsize, avail / bsize, avail / bsize, MAX_INODES,
        MAX_INODES - used, bsize, Name.MAX, bsize);
  }

  // ---------------------------------------------------------------- xattrs

  private void checkXattr(Caller c, Inode n, String name, boolean write)
      throws AgentFsException {
    int len = name.getBytes(StandardCharsets.UTF_8).length;
    if (len == 0 || len > MAX_XATTR_NAME) {
      throw err(Errno.ERANGE, path(n.ino));
    }
    if (name.startsWith("trusted.")) {
      if (!privileged(c)) {
        throw err(write ? Errno.EPERM : Errno.ENODATA, path(n.ino));
      }
    } else if (name.startsWith("security.")) {
      if (write && !privileged(c)) {
        throw err(Errno.EPERM, path(n.ino));
      }
    } else if (name.startsWith("user.")) {
      if (!n.isReg() && !n.isDir()) {
        throw err(write ? Errno.EPERM : Errno.ENODATA, path(n.ino));
      }
      if (write && n.isDir() && (n.mode & S_ISVTX) != 0 && c.uid() != n.uid
          && !privileged(c)) {
        throw err(Errno.EPERM, path(n.ino));
      }
      check(c, n, write ? W_OK : R_OK);
    } else {
      throw err(Errno.ENOTSUP, path(n.ino));
    }
    if (name.indexOf('.') == name.length() - 1) {
      throw err(Errno.EINVAL, path(n.ino));
    }
  }

  @Override
  public void setxattr(Caller c, long ino, String name, byte[] value, int flags)
      throws AgentFsException {
    if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    if (value.length > MAX_XATTR_VALUE) {
      throw err(Errno.E2BIG, path(ino));
    }
    if (PosixAcl.isAclName(name)) {
      // As setxattr(2): XATTR_CREATE and XATTR_REPLACE mean nothing for ACLs.
      setAcl(c, ino, name, PosixAcl.parse(value, path(ino)));
      return;
    }
    mutate(() -> {
      Inode n = writable(ino);
      return locked(() -> {
        checkXattr(c, n, name, true);
        boolean exists = n.xattrs.containsKey(name);
        if ((flags & XATTR_CREATE) != 0 && exists) {
          throw err(Errno.EEXIST, path(ino));
        }
        if ((flags & XATTR_REPLACE) != 0 && !exists) {
          throw err(Errno.ENODATA, path(ino));
        }
        TreeMap<String, byte[]> m = new TreeMap<>(n.xattrs);
        m.put(name, value.clone());
        n.setXattrs(m);
        n.ctime = now();
        return null;
      }, n);
    });
    changedInode(ino);
  }

  @Override
  public byte[] getxattr(Caller c, long ino, String name) throws AgentFsException {
    Inode n = node(ino);
    if (PosixAcl.isAclName(name)) {
      // Anyone may read ACLs (the kernel asks for them as the caller of a permission check).
      if (n.isSymlink()) {
        throw err(Errno.ENOTSUP, path(ino)); // symlinks have no ACL operations, as on ext4
      }
      byte[] v = n.xattrs.get(name);
      if (v == null) {
        throw err(Errno.ENODATA, path(ino));
      }
      return v.clone();
    }
    checkXattr(c, n, name, false);
    byte[] v = n.xattrs.get(name);
    if (v == null) {
      throw err(Errno.ENODATA, path(ino));
    }
    return v.clone();
  }

  @Override
  public byte[] listxattr(Caller c, long ino) throws AgentFsException {
    Inode n = node(ino);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (String k : n.xattrs.keySet()) {
      if (k.startsWith("trusted.") && !privileged(c)) {
        continue;
      }
      out.writeBytes(k.getBytes(StandardCharsets.UTF_8));
      out.write(0);
    }
    return out.toByteArray();
  }

  @Override
  public void removexattr(Caller c, long ino, String name) throws AgentFsException {
    if (PosixAcl.isAclName(name)) {
      setAcl(c, ino, name, null);
      return;
    }
    mutate(() -> {
      Inode n = writable(ino);
      return locked(() -> {
        checkXattr(c, n, name, true);
        if (!n.xattrs.containsKey(name)) {
          throw err(Errno.ENODATA, path(ino));
        }
        TreeMap<String, byte[]> m = new TreeMap<>(n.xattrs);
        m.remove(name);
        n.setXattrs(m);
        n.ctime = now();
        return null;
      }, n);
    });
    changedInode(ino);
  }

  /**
   * Sets ({@code acl} non-null) or removes an ACL, as set_posix_acl and ext4_set_acl: ENOTSUP
   * on a symlink; a default ACL on anything but a directory is EACCES (removing one is a
   * no-op); only the owner or root (EPERM); the ACL must be valid (EINVAL). An access ACL sets
   * the mode's permission bits and is stored only when it says more than they do
   * (posix_acl_update_mode), which also drops setgid for a caller outside the owning group, as
   * the kernel's FUSE_SETXATTR_ACL_KILL_SGID asks. Removing an absent ACL succeeds and, like
   * the other no-ops, touches nothing (an overlay file stays pristine).
   */
  private void setAcl(Caller c, long ino, String name, @Nullable PosixAcl acl)
      throws AgentFsException {
    if (readOnly()) {
      throw err(Errno.EROFS, path(ino));
    }
    Inode cur = node(ino);
    synchronized (cur) {
      if (aclChange(c, cur, name, acl) == null) {
        return;
      }
    }
    boolean changed = mutate(() -> {
      Inode n = writable(ino);
      return locked(() -> {
        AclChange ch = aclChange(c, n, name, acl);
        if (ch == null) {
          return false;
        }
        n.mode = ch.mode();
        putXattr(n, name, ch.value());
        n.ctime = now();
        return true;
      }, n);
    });
    if (changed) {
      changedInode(ino);
    }
  }

  /** The mode and stored value an ACL call leaves; {@code value} null removes the xattr. */
  private record AclChange(int mode, byte @Nullable [] value) {}

  /** Checks an ACL call against {@code n} (monitor held); null when it changes nothing. */
  private @Nullable AclChange aclChange(Caller c, Inode n, String name, @Nullable PosixAcl acl)
      throws AgentFsException {
    if (n.isSymlink()) {
      throw err(Errno.ENOTSUP, path(n.ino));
    }
    boolean access = name.equals(PosixAcl.ACCESS);
    if (!access && !n.isDir()) {
      if (acl != null) {
        throw err(Errno.EACCES, path(n.ino));
      }
      return null;
    }
    if (!privileged(c) && c.uid() != n.uid) {
      throw err(Errno.EPERM, path(n.ino));
    }
    if (acl == null) {
      return n.xattrs.containsKey(name) ? new AclChange(n.mode, null) : null;
    }
    acl.validate(path(n.ino));
    if (!access) {
      return new AclChange(n.mode, acl.encode());
    }
    int mode = acl.equivMode(n.mode);
    if (!privileged(c) && !c.inGroup(n.gid)) {
      mode &= ~S_ISGID;
    }
    return new AclChange(mode, acl.extended() ? acl.encode() : null);
  }

  /** Sets ({@code value} non-null) or removes one xattr; caller holds the monitor. */
  private static void putXattr(Inode n, String name, byte @Nullable [] value) {
    if (value == null && !n.xattrs.containsKey(name)) {
      return;
    }
    TreeMap<String, byte[]> m = new TreeMap<>(n.xattrs);
    if (value == null) {
      m.remove(name);
    } else {
      m.put(name, value);
    }
    n.setXattrs(m);
  }

  @Override
  public void access(Caller c, long ino, int mask) throws AgentFsException {
    Inode n = node(ino);
    if ((mask & W_OK) != 0 && readOnly()) {
      throw err(Errno.EROFS, path(ino));
    }
    check(c, n, mask & (R_OK | W_OK | X_OK));
  }

  // ---------------------------------------------------------------- locks

  @Override
  public FileLock getlk(long ino, long fh, long owner, FileLock lock) throws AgentFsException {
    handle(fh, ino);
    return locks.getlk(ino, owner, lock);
  }

  @Override
  public void setlk(long ino, long fh, long owner, FileLock lock, boolean wait, boolean flock)
      throws AgentFsException {
    handle(fh, ino);
    locks.setlk(ino, flock ? fh : owner, lock, wait, flock);
  }

  // ---------------------------------------------------------------- space

  @Override
  public void fallocate(Caller c, long ino, long fh, int mode, long offset, long length)
      throws AgentFsException {
    Handle h = handle(fh, ino);
    if (!h.writable()) {
      throw err(Errno.EBADF, path(ino));
    }
    if (offset < 0 || length <= 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if ((mode & ~known) != 0
        || ((mode & FALLOC_FL_PUNCH_HOLE) != 0 && (mode & FALLOC_FL_KEEP_SIZE) == 0)
        || ((mode & FALLOC_FL_PUNCH_HOLE) != 0 && (mode & FALLOC_FL_ZERO_RANGE) != 0)) {
      throw err(Errno.ENOTSUP, path(ino));
    }
    if (offset > MAX_FILE_SIZE - length) {
      throw err(Errno.EFBIG, path(ino));
    }
    mutate(() -> {
      Inode n = writable(ino);
      return withIo(n, () -> locked(() -> {
        if (n.isDir()) {
          throw err(Errno.EISDIR, path(ino));
        }
        if (!n.isReg()) {
          throw err(Errno.ENODEV, path(ino));
        }
        Content ct = own(n);
        boolean keep = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        if ((mode & FALLOC_FL_PUNCH_HOLE) != 0) {
          ct.punchHole(offset, length);
        } else if ((mode & FALLOC_FL_ZERO_RANGE) != 0) {
          long end = keep ? Math.min(ct.size(), offset + length) : offset + length;
          if (end > offset) {
            ct.punchHole(offset, end - offset);
            ct.allocate(offset, end - offset, keep);
          }
          if (!keep && offset + length > ct.size()) {
            ct.truncate(offset + length);
          }
        } else {
          ct.allocate(offset, length, keep);
        }
        long t = now();
        n.mtime = n.ctime = t;
        killPriv(c, n);
        return null;
      }, n));
    });
    changedInode(ino);
  }

  @Override
  public long lseek(long ino, long fh, long offset, int whence) throws AgentFsException {
    handle(fh, ino);
    Inode n = node(ino);
    long size = n.size();
    if (whence != SEEK_DATA && whence != SEEK_HOLE) {
      throw err(Errno.EINVAL, path(ino));
    }
    if (offset < 0) {
      throw err(Errno.EINVAL, path(ino));
    }
    if (offset >= size) {
      throw err(Errno.ENXIO, path(ino));
    }
    Content ct = n.content;
    if (ct == null) {
      if (whence == SEEK_DATA) {
        throw err(Errno.ENXIO, path(ino));
      }
      return offset;
    }
    long r = whence == SEEK_DATA ? ct.seekData(offset) : ct.seekHole(offset);
    if (r < 0) {
      throw err(Errno.ENXIO, path(ino));
    }
    return r;
  }

  @Override
  public long copyFileRange(Caller c, long inoIn, long fhIn, long offIn, long inoOut,
      long fhOut, long offOut, long len, int flags) throws AgentFsException {
    Handle in = handle(fhIn, inoIn);
    Handle out = handle(fhOut, inoOut);
    if (flags != 0 || offIn < 0 || offOut < 0) {
      throw err(Errno.EINVAL, path(inoIn));
    }
    if (!in.readable() || !out.writable() || (out.flags & O_APPEND) != 0) {
      throw err(Errno.EBADF, path(inoOut));
    }
    if (len < 0) {
      throw err(Errno.EINVAL, path(inoIn));
    }
    // As Linux: clamp the count to what the source holds, then reject overlapping ranges
    // of one file. Unclamped, a huge count overflowed the overlap test and the loop below
    // kept re-reading the bytes it had just written, growing the file without end.
    long sizeIn = node(inoIn).size();
    len = offIn >= sizeIn ? 0 : Math.min(len, sizeIn - offIn);
    if (inoIn == inoOut && offIn < offOut + len && offOut < offIn + len) {
      throw err(Errno.EINVAL, path(inoIn));
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(len, 1 << 20));
    long done = 0;
    while (done < len) {
      buf.clear().limit((int) Math.min(buf.capacity(), len - done));
      int r = read(inoIn, fhIn, offIn + done, buf);
      if (r <= 0) {
        break;
      }
      buf.flip();
      write(c, inoOut, fhOut, offOut + done, buf);
      done += r;
    }
    return done;
  }

  // ---------------------------------------------------------------- passthrough

  @Override
  public java.nio.file.@Nullable Path openBacking(long ino, boolean forWrite)
      throws AgentFsException {
    return shared(() -> {
      Inode n = node(ino);
      if (!n.isReg()) {
        return null;
      }
      if ((n.mode & (S_ISUID | S_ISGID)) != 0) {
        // A write by an unprivileged caller must clear these bits (we negotiate
        // HANDLE_KILLPRIV_V2, so the kernel leaves that to us), but passthrough writes never
        // reach us: set-id files are served through the filesystem instead.
        return null;
      }
      Content ct = n.content;
      boolean exclusive = ct != null && !(ct instanceof LowerContent) && !n.contentShared
          && n.epoch == st.epoch;
      if (!exclusive) {
        if (!forWrite || readOnly()) {
          return null; // readers of shared bytes go through the filesystem: no copy needed
        }
        Inode w = writable(ino);
        ct = withIo(w, () -> {
          synchronized (w) {
            return own(w);
          }
        });
      }
      java.nio.file.Path p = ct.hostPath();
      if (p != null) {
        st.pinned.merge(ino, 1, Integer::sum);
      }
      return p;
    });
  }

  @Override
  public void releaseBacking(long ino) {
    boolean[] last = new boolean[1];
    st.pinned.computeIfPresent(ino, (k, v) -> {
      last[0] = v <= 1;
      return v <= 1 ? null : v - 1;
    });
    if (!last[0]) {
      return;
    }
    // getattr stops asking the host file now: take its last word on the times.
    Inode n = st.table.get(ino);
    if (n == null) {
      n = st.orphans.get(ino);
    }
    if (n != null && syncTimesFromHost(n)) {
      changedInode(ino);
    }
  }

  // ---------------------------------------------------------------- for the core

  /** Every inode number this branch's table holds, for tests and consistency checks. */
  List<Inode> allInodes() {
    List<Inode> out = new ArrayList<>();
    st.table.forEach((k, v) -> out.add(v));
    return out;
  }

  /** References the kernel holds to inodes that no longer exist anywhere (a leak if > 0). */
  int danglingReferences() {
    int n = 0;
    for (Long ino : refs.keySet()) {
      if (st.table.get(ino) == null && st.orphans.get(ino) == null) {
        n++;
      }
    }
    return n;
  }

  int openHandles() {
    return handles.size();
  }
}
