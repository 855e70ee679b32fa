package dev.agentfs.nio;

import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.core.BranchFs;
import dev.agentfs.core.FsCore;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.Vfs;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A java.nio {@link FileSystem} over one branch of an {@code AgentFs}. Obtain it with {@link
 * Branch#asFileSystem()} or {@link java.nio.file.FileSystems#newFileSystem(java.net.URI, Map)}
 * (see {@link AgentFsFileSystemProvider}). Operations act as the {@link Caller} the file system
 * was opened with (root by default) and create files with its umask (022 by default). Relative
 * paths resolve against the root directory. Closing closes every channel, directory stream and
 * watch service opened through it, never the {@code AgentFs} or the branch.
 *
 * @since 0.1
 */
public final class AgentFsFileSystem extends FileSystem {
  static final int MAX_SYMLINKS = 40;

  private static final Map<Object, Long> DEVS = new WeakHashMap<>();
  private static final AtomicLong NEXT_DEV = new AtomicLong(0xAF00);

  private final AgentFsFileSystemProvider provider;
  private final String key;
  private final Branch branch;
  private final FsCore core;
  private final Vfs vfs;
  private final Caller caller;
  private final int umask;
  private final long dev;
  private final AgentFsPath root;
  private final AgentFsFileStore store;
  private final Set<Closeable> resources = ConcurrentHashMap.newKeySet();
  private volatile boolean open = true;

  AgentFsFileSystem(AgentFsFileSystemProvider provider, String key, Branch branch, FsCore core,
      Caller caller, int umask) {
    this.provider = provider;
    this.key = key;
    this.branch = branch;
    this.core = core;
    this.vfs = branch.vfs();
    this.caller = caller;
    this.umask = umask & 0777;
    synchronized (DEVS) {
      this.dev = DEVS.computeIfAbsent(vfs, k -> NEXT_DEV.getAndIncrement());
    }
    this.root = new AgentFsPath(this, new byte[] {'/'});
    this.store = new AgentFsFileStore(this);
  }

  /** The branch this file system shows. */
  public Branch branch() {
    return branch;
  }

  /** Who the operations act as. */
  public Caller caller() {
    return caller;
  }

  /** The umask applied to modes of created files and directories. */
  public int umask() {
    return umask;
  }

  String key() {
    return key;
  }

  Vfs vfs() {
    return vfs;
  }

  FsCore core() {
    return core;
  }

  /** A device number that tells branches (and AgentFs instances) apart, as st_dev does. */
  long dev() {
    return dev;
  }

  AgentFsPath root() {
    return root;
  }

  AgentFsFileStore store() {
    return store;
  }

  @Override
  public AgentFsFileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() throws IOException {
    if (!open) {
      return;
    }
    provider.unregister(this);
    IOException first = null;
    for (Closeable c : List.copyOf(resources)) {
      try {
        c.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    resources.clear();
    open = false;
    if (first != null) {
      throw first;
    }
  }

  void track(Closeable c) {
    resources.add(c);
  }

  void untrack(Closeable c) {
    resources.remove(c);
  }

  void ensureOpen() {
    if (!open) {
      throw new ClosedFileSystemException();
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isReadOnly() {
    try {
      vfs.access(Caller.ROOT, Vfs.ROOT, Modes.W_OK);
      return false;
    } catch (AgentFsException e) {
      return e.errno() == Errno.EROFS;
    }
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(root);
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return List.of(store);
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return Views.SUPPORTED;
  }

  @Override
  public AgentFsPath getPath(String first, String... more) {
    return AgentFsPath.of(this, first, more);
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    return Globs.matcher(syntaxAndPattern);
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    return Principals.LOOKUP;
  }

  @Override
  public WatchService newWatchService() throws IOException {
    ensureOpen();
    AgentFsWatchService ws = new AgentFsWatchService(this);
    track(ws);
    return ws;
  }

  @Override
  public String toString() {
    return "agentfs://" + key + "/ (branch " + branch.name() + ")";
  }

  // ---------------------------------------------------------------- path walking

  /** The end of a walk: the inode, its attributes and the physical names leading to it. */
  record Walk(long ino, Attr attr, List<byte[]> names) {}

  /** The directory that holds a path's last name, and that name. */
  record Parent(long dir, byte[] name) {}

  private static final byte[] DOTDOT = {'.', '.'};

  private static Deque<byte[]> split(byte[] path) {
    Deque<byte[]> out = new ArrayDeque<>();
    int start = 0;
    for (int i = 0; i <= path.length; i++) {
      if (i == path.length || path[i] == '/') {
        if (i > start) {
          byte[] c = new byte[i - start];
          System.arraycopy(path, start, c, 0, c.length);
          out.add(c);
        }
        start = i + 1;
      }
    }
    return out;
  }

  long lookup(long dir, byte[] name) throws AgentFsException {
    if (vfs instanceof BranchFs b) {
      return b.lookupNoRef(caller, dir, name);
    }
    long ino = vfs.lookup(caller, dir, name).ino();
    vfs.forget(ino, 1);
    return ino;
  }

  Attr attr(long ino) throws AgentFsException {
    return vfs.getattr(caller, ino, 0);
  }

  /**
   * Resolves {@code p} (relative paths against the root) as Linux path walking does: symlinks
   * in every name are followed, the last one only with {@code followLast}; ".." goes to the
   * physical parent; more than {@value #MAX_SYMLINKS} links end with ELOOP.
   */
  Walk walk(AgentFsPath p, boolean followLast) throws AgentFsException {
    ensureOpen();
    Deque<byte[]> comps = split(p.bytes());
    List<Long> inos = new ArrayList<>();
    List<byte[]> names = new ArrayList<>();
    long cur = Vfs.ROOT;
    Attr curAttr = attr(cur);
    int links = 0;
    while (!comps.isEmpty()) {
      byte[] c = comps.pollFirst();
      if (!curAttr.isDirectory()) {
        throw new AgentFsException(Errno.ENOTDIR, p.toString());
      }
      if (c.length == 1 && c[0] == '.') {
        continue;
      }
      if (c.length == 2 && c[0] == '.' && c[1] == '.') {
        lookup(cur, DOTDOT);
        if (!inos.isEmpty()) {
          inos.remove(inos.size() - 1);
          names.remove(names.size() - 1);
        }
        cur = inos.isEmpty() ? Vfs.ROOT : inos.get(inos.size() - 1);
        curAttr = attr(cur);
        continue;
      }
      long child = lookup(cur, c);
      Attr ca = attr(child);
      boolean last = comps.isEmpty();
      if (ca.isSymlink() && (!last || followLast)) {
        if (++links > MAX_SYMLINKS) {
          throw new AgentFsException(Errno.ELOOP, p.toString());
        }
        byte[] target = vfs.readlink(caller, child);
        Deque<byte[]> t = split(target);
        while (!t.isEmpty()) {
          comps.addFirst(t.pollLast());
        }
        if (target.length > 0 && target[0] == '/') {
          cur = Vfs.ROOT;
          curAttr = attr(cur);
          inos.clear();
          names.clear();
        }
        continue;
      }
      inos.add(child);
      names.add(c);
      cur = child;
      curAttr = ca;
    }
    return new Walk(cur, curAttr, names);
  }

  /**
   * The parent directory of {@code p} (following symlinks) and its last name; {@code rootErr}
   * is what an operation on the root itself, which has no parent, fails with.
   */
  Parent parent(AgentFsPath p, Errno rootErr) throws AgentFsException {
    AgentFsPath abs = p.toAbsolutePath();
    AgentFsPath parent = abs.getParent();
    if (parent == null || abs.getNameCount() == 0) {
      throw new AgentFsException(rootErr, p.toString());
    }
    Walk w = walk(parent, true);
    if (!w.attr().isDirectory()) {
      throw new AgentFsException(Errno.ENOTDIR, p.toString());
    }
    return new Parent(w.ino(), abs.nameBytes(abs.getNameCount() - 1));
  }
}
