package dev.agentfs.fuse;

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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A small map-backed tree implementing {@link Vfs} for transport tests, standing in for the
 * real copy-on-write core. One lock guards everything; permissions are not checked (tests run
 * as root). It counts calls per operation and lookup references per node, and can be told to
 * throw a RuntimeException from an operation to prove the transport survives handler bugs.
 */
public final class MemVfs implements Vfs {
  static final class Node {
    final long ino;
    int mode;
    int nlink;
    int uid;
    int gid;
    long rdev;
    long atime;
    long mtime;
    long ctime;
    byte[] data = new byte[0];
    long size;
    byte @Nullable [] target;
    long parent;
    /** Entries by name, and by the readdir cookie that makes offsets stable. */
    final Map<String, Long> children = new HashMap<>();
    final TreeMap<Long, String> cookies = new TreeMap<>();
    final Map<String, Long> cookieOf = new HashMap<>();
    final Map<String, byte[]> xattrs = new LinkedHashMap<>();

    Node(long ino, int mode) {
      this.ino = ino;
      this.mode = mode;
      long now = System.currentTimeMillis() * 1_000_000L;
      atime = mtime = ctime = now;
    }
  }

  private final Map<Long, Node> nodes = new HashMap<>();
  private final Map<Long, Long> refs = new ConcurrentHashMap<>();
  private final Map<Long, Long> handles = new HashMap<>();
  private final Map<Long, Integer> handleFlags = new HashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Map<String, RuntimeException> failing = new ConcurrentHashMap<>();
  private long nextIno = 2;
  private long nextFh = 1;
  private long nextCookie = 3;

  public MemVfs() {
    Node root = new Node(ROOT, S_IFDIR | 0755);
    root.nlink = 2;
    root.parent = ROOT;
    nodes.put(ROOT, root);
  }

  // ------------------------------------------------------------------ test hooks

  /** How many times {@code op} (a Vfs method name) was called. */
  public int calls(String op) {
    AtomicInteger n = calls.get(op);
    return n == null ? 0 : n.get();
  }

  /** Makes every later call of {@code op} throw {@code e} until {@link #heal}. */
  public void failWith(String op, RuntimeException e) {
    failing.put(op, e);
  }

  public void heal(String op) {
    failing.remove(op);
  }

  /** Kernel lookup references currently held on {@code ino}. */
  public long refs(long ino) {
    return refs.getOrDefault(ino, 0L);
  }

  /** Replaces a file's content behind the kernel's back (for invalidation tests). */
  public synchronized void replaceContent(long ino, byte[] content) {
    Node n = nodes.get(ino);
    n.data = content.clone();
    n.size = content.length;
    n.mtime = n.ctime = System.currentTimeMillis() * 1_000_000L + 1;
  }

  /** Removes an entry behind the kernel's back. */
  public synchronized void removeBehind(long parent, String name) {
    Node d = nodes.get(parent);
    Long ino = d.children.remove(name);
    if (ino != null) {
      d.cookies.remove(d.cookieOf.remove(name));
      nodes.get(ino).nlink--;
    }
  }

  /** The inode of a path relative to the root, or -1. */
  public synchronized long inoOf(String path) {
    long cur = ROOT;
    for (String part : path.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      Long next = nodes.get(cur).children.get(part);
      if (next == null) {
        return -1;
      }
      cur = next;
    }
    return cur;
  }

  private void count(String op) {
    calls.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
    RuntimeException e = failing.get(op);
    if (e != null) {
      throw e;
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String key(byte[] name) {
    return new String(name, StandardCharsets.ISO_8859_1);
  }

  private Node node(long ino) throws AgentFsException {
    Node n = nodes.get(ino);
    if (n == null) {
      throw new AgentFsException(Errno.ESTALE, "#" + ino);
    }
    return n;
  }

  private Node dir(long ino) throws AgentFsException {
    Node n = node(ino);
    if (!isDir(n.mode)) {
      throw new AgentFsException(Errno.ENOTDIR, "#" + ino);
    }
    return n;
  }

  private static Attr attr(Node n) {
    long size = isDir(n.mode) ? 4096 : n.size;
    return new Attr(n.ino, n.mode, n.nlink, n.uid, n.gid, n.rdev, size, (size + 511) / 512,
        n.atime, n.mtime, n.ctime, n.ctime);
  }

  private void ref(long ino) {
    refs.merge(ino, 1L, Long::sum);
  }

  private Node newChild(Caller c, long parent, byte[] name, int mode) throws AgentFsException {
    Node d = dir(parent);
    String k = key(name);
    if (name.length > 255) {
      throw new AgentFsException(Errno.ENAMETOOLONG, k);
    }
    if (d.children.containsKey(k)) {
      throw new AgentFsException(Errno.EEXIST, k);
    }
    Node n = new Node(nextIno++, mode);
    n.uid = c.uid();
    n.gid = c.gid();
    n.nlink = isDir(mode) ? 2 : 1;
    n.parent = parent;
    nodes.put(n.ino, n);
    addEntry(d, k, n.ino);
    if (isDir(mode)) {
      d.nlink++;
    }
    return n;
  }

  private void addEntry(Node d, String k, long ino) {
    d.children.put(k, ino);
    long cookie = nextCookie++;
    d.cookies.put(cookie, k);
    d.cookieOf.put(k, cookie);
    d.mtime = d.ctime = System.currentTimeMillis() * 1_000_000L;
  }

  private long removeEntry(Node d, String k) {
    Long ino = d.children.remove(k);
    d.cookies.remove(d.cookieOf.remove(k));
    d.mtime = d.ctime = System.currentTimeMillis() * 1_000_000L;
    return ino == null ? -1 : ino;
  }

  // ------------------------------------------------------------------ Vfs

  @Override
  public synchronized Attr lookup(Caller c, long parent, byte[] name) throws AgentFsException {
    count("lookup");
    Node d = dir(parent);
    String k = key(name);
    Long ino = k.equals(".") ? Long.valueOf(parent)
        : k.equals("..") ? Long.valueOf(d.parent) : d.children.get(k);
    if (ino == null) {
      throw new AgentFsException(Errno.ENOENT, k);
    }
    ref(ino);
    return attr(node(ino));
  }

  @Override
  public void forget(long ino, long nlookup) {
    count("forget");
    refs.computeIfPresent(ino, (k, v) -> v - nlookup <= 0 ? null : v - nlookup);
  }

  @Override
  public synchronized Attr getattr(Caller c, long ino, long fh) throws AgentFsException {
    count("getattr");
    return attr(node(ino));
  }

  @Override
  public synchronized Attr setattr(Caller c, long ino, long fh, SetAttr s)
      throws AgentFsException {
    count("setattr");
    Node n = node(ino);
    long now = System.currentTimeMillis() * 1_000_000L;
    if (s.has(SetAttr.MODE)) {
      n.mode = (n.mode & S_IFMT) | (s.mode() & 07777);
    }
    if (s.has(SetAttr.UID)) {
      n.uid = s.uid();
    }
    if (s.has(SetAttr.GID)) {
      n.gid = s.gid();
    }
    if (s.has(SetAttr.SIZE)) {
      if (isDir(n.mode)) {
        throw new AgentFsException(Errno.EISDIR, "#" + ino);
      }
      resize(n, s.size());
      n.mtime = now;
    }
    if (s.has(SetAttr.ATIME)) {
      n.atime = s.has(SetAttr.ATIME_NOW) ? now : s.atimeNs();
    }
    if (s.has(SetAttr.MTIME)) {
      n.mtime = s.has(SetAttr.MTIME_NOW) ? now : s.mtimeNs();
    }
    n.ctime = now;
    return attr(n);
  }

  private static void resize(Node n, long size) {
    if (size > n.data.length) {
      n.data = Arrays.copyOf(n.data, (int) Math.max(size, n.data.length * 2L));
    } else if (size < n.size) {
      Arrays.fill(n.data, (int) size, (int) n.size, (byte) 0);
    }
    n.size = size;
  }

  @Override
  public synchronized byte[] readlink(Caller c, long ino) throws AgentFsException {
    count("readlink");
    Node n = node(ino);
    if (n.target == null) {
      throw new AgentFsException(Errno.EINVAL, "#" + ino);
    }
    return n.target.clone();
  }

  @Override
  public synchronized Attr mknod(Caller c, long parent, byte[] name, int mode, long rdev,
      int umask) throws AgentFsException {
    count("mknod");
    Node n = newChild(c, parent, name, (mode & S_IFMT) | (mode & 07777 & ~umask));
    n.rdev = rdev;
    ref(n.ino);
    return attr(n);
  }

  @Override
  public synchronized Attr mkdir(Caller c, long parent, byte[] name, int mode, int umask)
      throws AgentFsException {
    count("mkdir");
    Node n = newChild(c, parent, name, S_IFDIR | (mode & 07777 & ~umask));
    ref(n.ino);
    return attr(n);
  }

  @Override
  public synchronized Attr symlink(Caller c, long parent, byte[] name, byte[] target)
      throws AgentFsException {
    count("symlink");
    Node n = newChild(c, parent, name, S_IFLNK | 0777);
    n.target = target.clone();
    n.size = target.length;
    ref(n.ino);
    return attr(n);
  }

  @Override
  public synchronized Attr link(Caller c, long ino, long newParent, byte[] newName)
      throws AgentFsException {
    count("link");
    Node n = node(ino);
    Node d = dir(newParent);
    String k = key(newName);
    if (d.children.containsKey(k)) {
      throw new AgentFsException(Errno.EEXIST, k);
    }
    addEntry(d, k, ino);
    n.nlink++;
    ref(ino);
    return attr(n);
  }

  @Override
  public synchronized void unlink(Caller c, long parent, byte[] name) throws AgentFsException {
    count("unlink");
    Node d = dir(parent);
    String k = key(name);
    Long ino = d.children.get(k);
    if (ino == null) {
      throw new AgentFsException(Errno.ENOENT, k);
    }
    if (isDir(node(ino).mode)) {
      throw new AgentFsException(Errno.EISDIR, k);
    }
    removeEntry(d, k);
    node(ino).nlink--;
  }

  @Override
  public synchronized void rmdir(Caller c, long parent, byte[] name) throws AgentFsException {
    count("rmdir");
    Node d = dir(parent);
    String k = key(name);
    Long ino = d.children.get(k);
    if (ino == null) {
      throw new AgentFsException(Errno.ENOENT, k);
    }
    Node n = dir(ino);
    if (!n.children.isEmpty()) {
      throw new AgentFsException(Errno.ENOTEMPTY, k);
    }
    removeEntry(d, k);
    n.nlink = 0;
    d.nlink--;
  }

  @Override
  public synchronized void rename(Caller c, long parent, byte[] name, long newParent,
      byte[] newName, int flags) throws AgentFsException {
    count("rename");
    Node from = dir(parent);
    Node to = dir(newParent);
    String k = key(name);
    String nk = key(newName);
    Long ino = from.children.get(k);
    if (ino == null) {
      throw new AgentFsException(Errno.ENOENT, k);
    }
    Long existing = to.children.get(nk);
    if ((flags & RENAME_NOREPLACE) != 0 && existing != null) {
      throw new AgentFsException(Errno.EEXIST, nk);
    }
    if ((flags & RENAME_EXCHANGE) != 0) {
      if (existing == null) {
        throw new AgentFsException(Errno.ENOENT, nk);
      }
      from.children.put(k, existing);
      to.children.put(nk, ino);
      return;
    }
    if (existing != null) {
      Node victim = node(existing);
      if (isDir(victim.mode) && !victim.children.isEmpty()) {
        throw new AgentFsException(Errno.ENOTEMPTY, nk);
      }
      removeEntry(to, nk);
      victim.nlink = isDir(victim.mode) ? 0 : victim.nlink - 1;
    }
    removeEntry(from, k);
    addEntry(to, nk, ino);
    Node moved = node(ino);
    moved.parent = newParent;
    if (isDir(moved.mode) && parent != newParent) {
      from.nlink--;
      to.nlink++;
    }
  }

  private long handle(long ino, int flags) {
    long fh = nextFh++;
    handles.put(fh, ino);
    handleFlags.put(fh, flags);
    return fh;
  }

  @Override
  public synchronized long open(Caller c, long ino, int flags) throws AgentFsException {
    count("open");
    Node n = node(ino);
    if (isDir(n.mode) && (flags & O_ACCMODE) != O_RDONLY) {
      throw new AgentFsException(Errno.EISDIR, "#" + ino);
    }
    if ((flags & O_TRUNC) != 0) {
      resize(n, 0);
    }
    return handle(ino, flags);
  }

  @Override
  public synchronized Created create(Caller c, long parent, byte[] name, int mode, int flags,
      int umask) throws AgentFsException {
    count("create");
    Node d = dir(parent);
    Long existing = d.children.get(key(name));
    if (existing != null) {
      if ((flags & O_EXCL) != 0) {
        throw new AgentFsException(Errno.EEXIST, key(name));
      }
      ref(existing);
      return new Created(attr(node(existing)), open(c, existing, flags));
    }
    Node n = newChild(c, parent, name, S_IFREG | (mode & 07777 & ~umask));
    ref(n.ino);
    return new Created(attr(n), handle(n.ino, flags));
  }

  @Override
  public synchronized Created tmpfile(Caller c, long parent, int mode, int flags, int umask)
      throws AgentFsException {
    count("tmpfile");
    dir(parent);
    Node n = new Node(nextIno++, S_IFREG | (mode & 07777 & ~umask));
    n.nlink = 0;
    nodes.put(n.ino, n);
    ref(n.ino);
    return new Created(attr(n), handle(n.ino, flags));
  }

  @Override
  public synchronized int read(long ino, long fh, long offset, ByteBuffer dst)
      throws AgentFsException {
    count("read");
    Node n = node(ino);
    if (offset >= n.size) {
      return 0;
    }
    int len = (int) Math.min(dst.remaining(), n.size - offset);
    dst.put(n.data, (int) offset, len);
    n.atime = System.currentTimeMillis() * 1_000_000L;
    return len;
  }

  @Override
  public synchronized int write(Caller c, long ino, long fh, long offset, ByteBuffer src)
      throws AgentFsException {
    count("write");
    Node n = node(ino);
    Integer flags = handleFlags.get(fh);
    long at = flags != null && (flags & O_APPEND) != 0 ? n.size : offset;
    int len = src.remaining();
    if (at + len > n.size) {
      resize(n, at + len);
    }
    src.get(n.data, (int) at, len);
    n.mtime = n.ctime = System.currentTimeMillis() * 1_000_000L;
    return len;
  }

  @Override
  public void flush(Caller c, long ino, long fh, long lockOwner) {
    count("flush");
  }

  @Override
  public synchronized void release(long ino, long fh) {
    count("release");
    handles.remove(fh);
    handleFlags.remove(fh);
  }

  @Override
  public void fsync(long ino, long fh, boolean datasync) {
    count("fsync");
  }

  @Override
  public synchronized long opendir(Caller c, long ino, int flags) throws AgentFsException {
    count("opendir");
    dir(ino);
    return handle(ino, flags);
  }

  @Override
  public synchronized void readdir(Caller c, long ino, long fh, long offset, boolean plus,
      DirSink sink) throws AgentFsException {
    count(plus ? "readdirplus" : "readdir");
    Node d = dir(ino);
    if (offset < 1 && !sink.add(new byte[] {'.'}, d.ino, d.mode, 1, plus ? attr(d) : null)) {
      return;
    }
    if (offset < 2) {
      Node p = node(d.parent);
      if (!sink.add(new byte[] {'.', '.'}, p.ino, p.mode, 2, plus ? attr(p) : null)) {
        return;
      }
    }
    for (Map.Entry<Long, String> e : d.cookies.tailMap(Math.max(offset, 2), false).entrySet()) {
      Node n = node(d.children.get(e.getValue()));
      byte[] name = e.getValue().getBytes(StandardCharsets.ISO_8859_1);
      if (!sink.add(name, n.ino, n.mode, e.getKey(), plus ? attr(n) : null)) {
        return;
      }
      if (plus) {
        ref(n.ino);
      }
    }
  }

  @Override
  public synchronized void releasedir(long ino, long fh) {
    count("releasedir");
    handles.remove(fh);
  }

  @Override
  public void fsyncdir(long ino, long fh, boolean datasync) {
    count("fsyncdir");
  }

  @Override
  public synchronized StatFs statfs(Caller c, long ino) {
    count("statfs");
    return new StatFs(1 << 20, 1 << 19, 1 << 19, 1 << 16, (1 << 16) - nodes.size(), 4096, 255,
        4096);
  }

  @Override
  public synchronized void setxattr(Caller c, long ino, String name, byte[] value, int flags)
      throws AgentFsException {
    count("setxattr");
    Node n = node(ino);
    boolean exists = n.xattrs.containsKey(name);
    if ((flags & XATTR_CREATE) != 0 && exists) {
      throw new AgentFsException(Errno.EEXIST, name);
    }
    if ((flags & XATTR_REPLACE) != 0 && !exists) {
      throw new AgentFsException(Errno.ENODATA, name);
    }
    n.xattrs.put(name, value.clone());
  }

  @Override
  public synchronized byte[] getxattr(Caller c, long ino, String name) throws AgentFsException {
    count("getxattr");
    byte[] v = node(ino).xattrs.get(name);
    if (v == null) {
      throw new AgentFsException(Errno.ENODATA, name);
    }
    return v.clone();
  }

  @Override
  public synchronized byte[] listxattr(Caller c, long ino) throws AgentFsException {
    count("listxattr");
    StringBuilder sb = new StringBuilder();
    for (String k : node(ino).xattrs.keySet()) {
      sb.append(k).append('\0');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void removexattr(Caller c, long ino, String name)
      throws AgentFsException {
    count("removexattr");
    if (node(ino).xattrs.remove(name) == null) {
      throw new AgentFsException(Errno.ENODATA, name);
    }
  }

  @Override
  public synchronized void access(Caller c, long ino, int mask) throws AgentFsException {
    count("access");
    node(ino);
  }

  @Override
  public FileLock getlk(long ino, long fh, long owner, FileLock lock) {
    count("getlk");
    return new FileLock(lock.start(), lock.end(), F_UNLCK, 0);
  }

  @Override
  public void setlk(long ino, long fh, long owner, FileLock lock, boolean wait, boolean flock) {
    count(flock ? "flock" : "setlk");
  }

  @Override
  public synchronized void fallocate(Caller c, long ino, long fh, int mode, long offset,
      long length) throws AgentFsException {
    count("fallocate");
    Node n = node(ino);
    if ((mode & FALLOC_FL_KEEP_SIZE) == 0 && offset + length > n.size) {
      resize(n, offset + length);
    }
  }

  @Override
  public synchronized long lseek(long ino, long fh, long offset, int whence)
      throws AgentFsException {
    count("lseek");
    Node n = node(ino);
    if (offset >= n.size) {
      throw new AgentFsException(Errno.ENXIO, "#" + ino);
    }
    return whence == SEEK_DATA ? offset : n.size;
  }

  @Override
  public synchronized long copyFileRange(Caller c, long inoIn, long fhIn, long offIn,
      long inoOut, long fhOut, long offOut, long len, int flags) throws AgentFsException {
    count("copyFileRange");
    Node src = node(inoIn);
    Node dst = node(inoOut);
    long n = Math.max(0, Math.min(len, src.size - offIn));
    if (offOut + n > dst.size) {
      resize(dst, offOut + n);
    }
    System.arraycopy(src.data, (int) offIn, dst.data, (int) offOut, (int) n);
    return n;
  }
}
