package dev.agentfs.core;

import static dev.agentfs.vfs.Modes.*;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.DirSink;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.StatFs;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * What a mount serves: one Vfs over every branch of a filesystem, routing each request to a
 * branch. Node ids carry their branch in bits 48..61 (index 0 is the branch the mount was made
 * for, so its node ids are its inode numbers); only the root is shared, and a request on the
 * root goes to the caller's branch: the one its process, or the nearest ancestor process, is
 * bound to, else the mount's default. So processes bound to different branches see different
 * trees at the same paths, and the kernel may cache everything below the root (the node ids
 * differ); {@link #sharedNode} tells it not to cache the root's entries while bindings exist.
 *
 * <p>The root also holds a hidden directory {@code .agentfs} with the {@code control} file whose
 * ioctl carries control-plane requests; it is not listed by readdir.
 *
 * @since 0.1
 */
public final class Router implements Vfs {
  static final int SHIFT = 48;
  static final long MASK = 0x3FFFL;
  static final long IDX_BITS = MASK << SHIFT;
  static final int MAX_BRANCHES = (int) MASK - 1;
  static final long VIRTUAL = MASK << SHIFT;
  /** The hidden control directory and file. */
  public static final long CTL_DIR = VIRTUAL | 2;
  public static final long CTL_FILE = VIRTUAL | 3;
  /** {@code .agentfs/snapshots}: one read-only directory per snapshot. */
  public static final long SNAP_DIR = VIRTUAL | 4;
  public static final String SNAP_DIR_NAME = "snapshots";
  public static final String CTL_DIR_NAME = ".agentfs";
  public static final String CTL_FILE_NAME = "control";

  /** Handles one control request: bytes in, reply bytes out. */
  @FunctionalInterface
  public interface ControlHandler {
    byte[] handle(Caller caller, byte[] request, int maxReply);
  }

  /** Told to drop cached root entries when routing starts or changes. */
  @FunctionalInterface
  public interface RootInvalidator {
    void invalidateRootEntry(byte[] name);
  }

  private record Binding(long startTime, String branch) {}

  private final FsCore core;
  /** Branch objects by routing index; a branch deleted and made again gets a new index, so
   *  node ids the kernel cached for the old one can never reach the new one. */
  private final AtomicReferenceArray<BranchFs> byIdx = new AtomicReferenceArray<>(MAX_BRANCHES + 1);
  private final Map<BranchFs, Integer> indexOf = new ConcurrentHashMap<>();
  private final Map<Integer, Binding> bindings = new ConcurrentHashMap<>();
  /** Read-only snapshot views, by their routing name ("@" + snapshot). */
  private final Map<String, BranchFs> views = new ConcurrentHashMap<>();
  private final java.util.Set<BranchFs> viewSet = ConcurrentHashMap.newKeySet();
  private volatile String defaultBranch;
  private volatile @Nullable ControlHandler control;
  private volatile @Nullable RootInvalidator invalidator;
  private final long created;

  public Router(FsCore core, String mountedBranch) throws AgentFsException {
    this.core = core;
    BranchFs mounted = core.branch(mountedBranch);
    this.defaultBranch = mountedBranch;
    byIdx.set(0, mounted);
    indexOf.put(mounted, 0);
    this.created = core.clock.getAsLong();
  }

  public void setControlHandler(ControlHandler h) {
    this.control = h;
  }

  public void setInvalidator(RootInvalidator i) {
    this.invalidator = i;
  }

  // ---------------------------------------------------------------- routing

  private int index(BranchFs branch) throws AgentFsException {
    Integer i = indexOf.get(branch);
    if (i != null) {
      return i;
    }
    synchronized (indexOf) {
      i = indexOf.get(branch);
      if (i != null) {
        return i;
      }
      int n = indexOf.size();
      if (n >= MAX_BRANCHES) {
        throw new AgentFsException(Errno.ENOSPC, branch.name(), null,
            "a mount routes at most " + MAX_BRANCHES + " branches");
      }
      byIdx.set(n, branch);
      indexOf.put(branch, n);
      return n;
    }
  }

  private BranchFs byIndex(int idx) throws AgentFsException {
    BranchFs b = byIdx.get(idx);
    if (b == null) {
      throw new AgentFsException(Errno.ESTALE, "node of branch #" + idx);
    }
    if (viewSet.contains(b)) {
      return b;
    }
    BranchFs current;
    try {
      current = core.branch(b.name());
    } catch (AgentFsException e) {
      current = null;
    }
    if (current != b) {
      throw new AgentFsException(Errno.ESTALE, "branch " + b.name(), null,
          "the branch was deleted");
    }
    return b;
  }

  /** The branch a request on {@code node} goes to. */
  private BranchFs branch(Caller c, long node) throws AgentFsException {
    if (node == ROOT) {
      return core.branch(branchOf(c.pid()));
    }
    return byIndex((int) ((node >>> SHIFT) & MASK));
  }

  private static long ino(long node) {
    return node == ROOT ? ROOT : node & ~IDX_BITS;
  }

  /** The read-only view of snapshot {@code name}, made on first use. */
  private BranchFs view(String name) throws AgentFsException {
    String key = "@" + name;
    BranchFs v = views.get(key);
    if (v == null) {
      core.snapshotBranch(name); // ENOENT for an unknown snapshot
      v = views.computeIfAbsent(key, k -> {
        try {
          BranchFs made = core.snapshotView(name);
          viewSet.add(made);
          return made;
        } catch (AgentFsException e) {
          throw new IllegalStateException(e);
        }
      });
      index(v);
    }
    return v;
  }

  private long node(BranchFs b, long ino) throws AgentFsException {
    if (ino == ROOT && !viewSet.contains(b)) {
      return ROOT;
    }
    int idx = index(b);
    if (idx == 0) {
      return ino;
    }
    if ((ino & IDX_BITS) != 0) {
      throw new AgentFsException(Errno.EOVERFLOW, "inode " + ino, null,
          "inode number too large to route across branches");
    }
    return ino | ((long) idx << SHIFT);
  }

  private Attr out(BranchFs b, Attr a) throws AgentFsException {
    long n = node(b, a.ino());
    return n == a.ino() ? a : new Attr(n, a.mode(), a.nlink(), a.uid(), a.gid(), a.rdev(),
        a.size(), a.blocks(), a.atimeNs(), a.mtimeNs(), a.ctimeNs(), a.btimeNs());
  }

  private static boolean virtual(long node) {
    return (node & IDX_BITS) == VIRTUAL;
  }

  // ---------------------------------------------------------------- bindings

  /** The branch {@code pid} sees: its binding, its nearest bound ancestor's, or the default. */
  public String branchOf(int pid) {
    if (bindings.isEmpty() || pid <= 0) {
      return defaultBranch;
    }
    int p = pid;
    for (int depth = 0; depth < 128 && p > 1; depth++) {
      long[] st = procStat(p);
      if (st == null) {
        break;
      }
      Binding b = bindings.get(p);
      if (b != null) {
        if (b.startTime == st[1]) {
          return b.branch;
        }
        bindings.remove(p, b); // the pid was reused: the binding died with its process
      }
      p = (int) st[0];
    }
    return defaultBranch;
  }

  /** {ppid, starttime} from /proc/PID/stat, or null when the process is gone. */
  static long @Nullable [] procStat(int pid) {
    try {
      String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
      return new long[] {Long.parseLong(f[1]), Long.parseLong(f[19])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  public void bind(int pid, String branch) throws AgentFsException {
    index(core.branch(branch));
    long[] st = procStat(pid);
    if (st == null) {
      throw new AgentFsException(Errno.ESRCH, "pid " + pid);
    }
    boolean first = bindings.isEmpty();
    bindings.put(pid, new Binding(st[1], branch));
    if (first) {
      dropRootEntries();
    }
  }

  public void unbind(int pid) throws AgentFsException {
    if (bindings.remove(pid) == null) {
      throw new AgentFsException(Errno.ESRCH, "pid " + pid, null, "not bound");
    }
  }

  /** Live bindings, pid to branch. */
  public Map<Integer, String> bindings() {
    Map<Integer, String> out = new TreeMap<>();
    bindings.forEach((pid, b) -> {
      long[] st = procStat(pid);
      if (st != null && st[1] == b.startTime) {
        out.put(pid, b.branch);
      } else {
        bindings.remove(pid, b);
      }
    });
    return out;
  }

  /** Processes bound to {@code branch}. */
  public int boundTo(String branch) {
    int n = 0;
    for (String b : bindings().values()) {
      if (b.equals(branch)) {
        n++;
      }
    }
    return n;
  }

  public String defaultBranch() {
    return defaultBranch;
  }

  /** Switches what unbound processes see, without remounting. */
  public void setDefaultBranch(String branch) throws AgentFsException {
    index(core.branch(branch));
    this.defaultBranch = branch;
    dropRootEntries();
  }

  /** The kernel cached root entries of some branch: drop them all, so routing takes over. */
  private void dropRootEntries() {
    RootInvalidator inv = invalidator;
    if (inv == null) {
      return;
    }
    for (String n : core.branchNames()) {
      try {
        BranchFs b = core.branch(n);
        b.readdir(Caller.ROOT, ROOT, 0, 2, false, (name, ino, mode, next, a) -> {
          inv.invalidateRootEntry(name);
          return true;
        });
      } catch (AgentFsException e) {
        // deleted meanwhile
      }
    }
  }

  @Override
  public boolean sharedNode(long node) {
    return (node == ROOT && !bindings.isEmpty()) || node == SNAP_DIR;
  }

  @Override
  public long cacheLimitNanos(long node) {
    if (virtual(node)) {
      return Long.MAX_VALUE;
    }
    if (sharedNode(node)) {
      return 0;
    }
    try {
      return byNode(node).cacheLimitNanos(ino(node));
    } catch (AgentFsException e) {
      return Long.MAX_VALUE; // the branch is gone: the next request says ESTALE
    }
  }

  // ---------------------------------------------------------------- the control nodes

  private Attr ctlAttr(long node) {
    boolean dir = node == CTL_DIR || node == SNAP_DIR;
    return new Attr(node, dir ? S_IFDIR | 0555 : S_IFREG | 0666, dir ? 2 : 1, 0, 0, 0, 0, 0,
        created, created, created, created);
  }

  private static AgentFsException ctlDenied(long node) {
    return new AgentFsException(Errno.EPERM, "inode " + node, null,
        "the control file only takes ioctl requests");
  }

  private static boolean isCtlName(byte[] name) {
    return Arrays.equals(name, CTL_DIR_NAME.getBytes(StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- Vfs

  @Override
  public Attr lookup(Caller c, long parent, byte[] name) throws AgentFsException {
    if (parent == ROOT && isCtlName(name)) {
      return ctlAttr(CTL_DIR);
    }
    if (parent == SNAP_DIR) {
      BranchFs v = view(new String(name, StandardCharsets.UTF_8));
      return out(v, v.getattr(c, ROOT, 0));
    }
    if (parent == CTL_DIR) {
      if (Arrays.equals(name, CTL_FILE_NAME.getBytes(StandardCharsets.UTF_8))) {
        return ctlAttr(CTL_FILE);
      }
      if (Arrays.equals(name, SNAP_DIR_NAME.getBytes(StandardCharsets.UTF_8))) {
        return ctlAttr(SNAP_DIR);
      }
      throw new AgentFsException(Errno.ENOENT, CTL_DIR_NAME + "/"
          + new String(name, StandardCharsets.UTF_8));
    }
    if (virtual(parent)) {
      throw new AgentFsException(Errno.ENOTDIR, "inode " + parent);
    }
    BranchFs b = branch(c, parent);
    return out(b, b.lookup(c, ino(parent), name));
  }

  @Override
  public void forget(long node, long nlookup) {
    if (virtual(node) || node == ROOT) {
      return;
    }
    try {
      byIndex((int) ((node >>> SHIFT) & MASK)).forget(ino(node), nlookup);
    } catch (AgentFsException e) {
      // the branch is gone: nothing to forget
    }
  }

  @Override
  public Attr getattr(Caller c, long node, long fh) throws AgentFsException {
    if (virtual(node)) {
      return ctlAttr(node);
    }
    BranchFs b = branch(c, node);
    return out(b, b.getattr(c, ino(node), fh));
  }

  @Override
  public Attr setattr(Caller c, long node, long fh, SetAttr set) throws AgentFsException {
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    BranchFs b = branch(c, node);
    return out(b, b.setattr(c, ino(node), fh, set));
  }

  @Override
  public byte[] readlink(Caller c, long node) throws AgentFsException {
    if (virtual(node)) {
      throw new AgentFsException(Errno.EINVAL, "inode " + node);
    }
    return branch(c, node).readlink(c, ino(node));
  }

  private void reserved(long parent, byte[] name) throws AgentFsException {
    if (virtual(parent)) {
      throw ctlDenied(parent);
    }
    if (parent == ROOT && isCtlName(name)) {
      throw new AgentFsException(Errno.EEXIST, "/" + CTL_DIR_NAME, null,
          "the name is reserved for the control directory");
    }
  }

  @Override
  public Attr mknod(Caller c, long parent, byte[] name, int mode, long rdev, int umask)
      throws AgentFsException {
    reserved(parent, name);
    BranchFs b = branch(c, parent);
    return out(b, b.mknod(c, ino(parent), name, mode, rdev, umask));
  }

  @Override
  public Attr mkdir(Caller c, long parent, byte[] name, int mode, int umask)
      throws AgentFsException {
    reserved(parent, name);
    BranchFs b = branch(c, parent);
    return out(b, b.mkdir(c, ino(parent), name, mode, umask));
  }

  @Override
  public Attr symlink(Caller c, long parent, byte[] name, byte[] target)
      throws AgentFsException {
    reserved(parent, name);
    BranchFs b = branch(c, parent);
    return out(b, b.symlink(c, ino(parent), name, target));
  }

  @Override
  public Attr link(Caller c, long node, long newParent, byte[] newName)
      throws AgentFsException {
    reserved(newParent, newName);
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    BranchFs b = branch(c, node);
    if (branch(c, newParent) != b) {
      throw new AgentFsException(Errno.EXDEV, "inode " + node, null,
          "hard links cannot cross branches");
    }
    return out(b, b.link(c, ino(node), ino(newParent), newName));
  }

  @Override
  public void unlink(Caller c, long parent, byte[] name) throws AgentFsException {
    reserved(parent, name);
    branch(c, parent).unlink(c, ino(parent), name);
  }

  @Override
  public void rmdir(Caller c, long parent, byte[] name) throws AgentFsException {
    reserved(parent, name);
    branch(c, parent).rmdir(c, ino(parent), name);
  }

  @Override
  public void rename(Caller c, long parent, byte[] name, long newParent, byte[] newName,
      int flags) throws AgentFsException {
    reserved(parent, name);
    reserved(newParent, newName);
    BranchFs b = branch(c, parent);
    if (branch(c, newParent) != b) {
      throw new AgentFsException(Errno.EXDEV, "inode " + parent, null,
          "renames cannot cross branches");
    }
    b.rename(c, ino(parent), name, ino(newParent), newName, flags);
  }

  @Override
  public long open(Caller c, long node, int flags) throws AgentFsException {
    if (node == CTL_FILE) {
      return 1;
    }
    if (virtual(node)) {
      throw new AgentFsException(Errno.EISDIR, "inode " + node);
    }
    return branch(c, node).open(c, ino(node), flags);
  }

  @Override
  public Created create(Caller c, long parent, byte[] name, int mode, int flags, int umask)
      throws AgentFsException {
    reserved(parent, name);
    BranchFs b = branch(c, parent);
    Created cr = b.create(c, ino(parent), name, mode, flags, umask);
    return new Created(out(b, cr.attr()), cr.fh());
  }

  @Override
  public Created tmpfile(Caller c, long parent, int mode, int flags, int umask)
      throws AgentFsException {
    if (virtual(parent)) {
      throw ctlDenied(parent);
    }
    BranchFs b = branch(c, parent);
    Created cr = b.tmpfile(c, ino(parent), mode, flags, umask);
    return new Created(out(b, cr.attr()), cr.fh());
  }

  @Override
  public int read(long node, long fh, long offset, ByteBuffer dst) throws AgentFsException {
    if (virtual(node)) {
      return 0;
    }
    return byNode(node).read(ino(node), fh, offset, dst);
  }

  /** Handle-based operations never touch the root with a caller: route by node id alone. */
  private BranchFs byNode(long node) throws AgentFsException {
    if (node == ROOT) {
      return core.branch(defaultBranch);
    }
    return byIndex((int) ((node >>> SHIFT) & MASK));
  }

  @Override
  public int write(Caller c, long node, long fh, long offset, ByteBuffer src)
      throws AgentFsException {
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    return byNode(node).write(c, ino(node), fh, offset, src);
  }

  @Override
  public void flush(Caller c, long node, long fh, long lockOwner) throws AgentFsException {
    if (!virtual(node)) {
      byNode(node).flush(c, ino(node), fh, lockOwner);
    }
  }

  @Override
  public void release(long node, long fh) throws AgentFsException {
    if (!virtual(node)) {
      byNode(node).release(ino(node), fh);
    }
  }

  @Override
  public void fsync(long node, long fh, boolean datasync) throws AgentFsException {
    if (!virtual(node)) {
      byNode(node).fsync(ino(node), fh, datasync);
    }
  }

  @Override
  public long opendir(Caller c, long node, int flags) throws AgentFsException {
    if (node == CTL_DIR || node == SNAP_DIR) {
      return 1;
    }
    BranchFs b = branch(c, node);
    long fh = b.opendir(c, ino(node), flags);
    // The root is shared: remember in the handle which branch opened it.
    return node == ROOT ? fh | ((long) index(b) << SHIFT) : fh;
  }

  /** The branch a handle on {@code node} belongs to (root handles carry it in the fh). */
  private BranchFs byHandle(long node, long fh) throws AgentFsException {
    return node == ROOT ? byIndex((int) ((fh >>> SHIFT) & MASK)) : byNode(node);
  }

  private static long fh(long node, long fh) {
    return node == ROOT ? fh & ~IDX_BITS : fh;
  }

  @Override
  public void readdir(Caller c, long node, long fh, long offset, boolean plus, DirSink sink)
      throws AgentFsException {
    if (node == SNAP_DIR) {
      java.util.List<String> snaps = core.snapshotNames();
      for (int i = (int) Math.max(0, offset); i < snaps.size(); i++) {
        BranchFs v = view(snaps.get(i));
        Attr a = out(v, v.getattr(c, ROOT, 0));
        if (!sink.add(snaps.get(i).getBytes(StandardCharsets.UTF_8), a.ino(), S_IFDIR, i + 1,
            plus ? a : null)) {
          return;
        }
      }
      return;
    }
    if (node == CTL_DIR) {
      if (offset < 1 && !sink.add(new byte[] {'.'}, CTL_DIR, S_IFDIR, 1,
          plus ? ctlAttr(CTL_DIR) : null)) {
        return;
      }
      if (offset < 2 && !sink.add(new byte[] {'.', '.'}, ROOT, S_IFDIR, 2, null)) {
        return;
      }
      if (offset < 3 && !sink.add(CTL_FILE_NAME.getBytes(StandardCharsets.UTF_8), CTL_FILE,
          S_IFREG, 3, plus ? ctlAttr(CTL_FILE) : null)) {
        return;
      }
      if (offset < 4) {
        sink.add(SNAP_DIR_NAME.getBytes(StandardCharsets.UTF_8), SNAP_DIR, S_IFDIR, 4,
            plus ? ctlAttr(SNAP_DIR) : null);
      }
      return;
    }
    BranchFs b = byHandle(node, fh);
    BranchFs target = b;
    AgentFsException[] failed = new AgentFsException[1];
    b.readdir(c, ino(node), fh(node, fh), offset, plus, (name, ino, mode, next, attr) -> {
      try {
        long n = node(target, ino);
        return sink.add(name, n, mode, next, attr == null ? null : out(target, attr));
      } catch (AgentFsException e) {
        failed[0] = e;
        return false;
      }
    });
    if (failed[0] != null) {
      throw failed[0];
    }
  }

  @Override
  public void releasedir(long node, long fh) throws AgentFsException {
    if (!virtual(node)) {
      byHandle(node, fh).releasedir(ino(node), fh(node, fh));
    }
  }

  @Override
  public void fsyncdir(long node, long fh, boolean datasync) throws AgentFsException {
    if (!virtual(node)) {
      byHandle(node, fh).fsyncdir(ino(node), fh(node, fh), datasync);
    }
  }

  @Override
  public StatFs statfs(Caller c, long node) throws AgentFsException {
    return branch(c, virtual(node) ? ROOT : node).statfs(c, ROOT);
  }

  @Override
  public void setxattr(Caller c, long node, String name, byte[] value, int flags)
      throws AgentFsException {
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    branch(c, node).setxattr(c, ino(node), name, value, flags);
  }

  @Override
  public byte[] getxattr(Caller c, long node, String name) throws AgentFsException {
    if (virtual(node)) {
      throw new AgentFsException(Errno.ENODATA, "inode " + node);
    }
    return branch(c, node).getxattr(c, ino(node), name);
  }

  @Override
  public byte[] listxattr(Caller c, long node) throws AgentFsException {
    if (virtual(node)) {
      return new byte[0];
    }
    return branch(c, node).listxattr(c, ino(node));
  }

  @Override
  public void removexattr(Caller c, long node, String name) throws AgentFsException {
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    branch(c, node).removexattr(c, ino(node), name);
  }

  @Override
  public void access(Caller c, long node, int mask) throws AgentFsException {
    if (virtual(node)) {
      return;
    }
    branch(c, node).access(c, ino(node), mask);
  }

  @Override
  public FileLock getlk(long node, long fh, long owner, FileLock lock) throws AgentFsException {
    return byNode(node).getlk(ino(node), fh, owner, lock);
  }

  @Override
  public void setlk(long node, long fh, long owner, FileLock lock, boolean wait, boolean flock)
      throws AgentFsException {
    byNode(node).setlk(ino(node), fh, owner, lock, wait, flock);
  }

  @Override
  public void fallocate(Caller c, long node, long fh, int mode, long offset, long length)
      throws AgentFsException {
    if (virtual(node)) {
      throw ctlDenied(node);
    }
    byNode(node).fallocate(c, ino(node), fh, mode, offset, length);
  }

  @Override
  public long lseek(long node, long fh, long offset, int whence) throws AgentFsException {
    return byNode(node).lseek(ino(node), fh, offset, whence);
  }

  @Override
  public long copyFileRange(Caller c, long inoIn, long fhIn, long offIn, long inoOut,
      long fhOut, long offOut, long len, int flags) throws AgentFsException {
    BranchFs a = byNode(inoIn);
    if (byNode(inoOut) != a) {
      throw new AgentFsException(Errno.EXDEV, "inode " + inoIn);
    }
    return a.copyFileRange(c, ino(inoIn), fhIn, offIn, ino(inoOut), fhOut, offOut, len, flags);
  }

  @Override
  public java.nio.file.@Nullable Path openBacking(long node, boolean forWrite)
      throws AgentFsException {
    return virtual(node) ? null : byNode(node).openBacking(ino(node), forWrite);
  }

  @Override
  public void releaseBacking(long node) {
    if (!virtual(node)) {
      try {
        byNode(node).releaseBacking(ino(node));
      } catch (AgentFsException e) {
        // branch gone
      }
    }
  }

  @Override
  public byte[] ioctl(Caller c, long node, long fh, int cmd, byte[] in, int outSize)
      throws AgentFsException {
    ControlHandler h = control;
    if (node != CTL_FILE || h == null || cmd != dev.agentfs.control.ControlFrames.IOC_CONTROL) {
      throw new AgentFsException(Errno.ENOTTY, "inode " + node);
    }
    return h.handle(c, in, outSize);
  }

  /** The node id {@code ino} of {@code branch} has on this mount, or -1 if never routed. */
  public long nodeIdIfRouted(String branch, long ino) {
    BranchFs b;
    try {
      b = core.branch(branch);
    } catch (AgentFsException e) {
      return -1;
    }
    Integer idx = indexOf.get(b);
    if (idx == null || (ino != ROOT && (ino & IDX_BITS) != 0)) {
      return -1;
    }
    return ino == ROOT ? ROOT : ino | ((long) idx << SHIFT);
  }
}
