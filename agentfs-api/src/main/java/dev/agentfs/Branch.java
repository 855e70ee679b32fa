package dev.agentfs;

import static dev.agentfs.vfs.Modes.*;

import dev.agentfs.core.BranchFs;
import dev.agentfs.core.FsCore;
import dev.agentfs.nio.AgentFsFileSystem;
import dev.agentfs.nio.AgentFsFileSystemProvider;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * A writable line of history in an {@link AgentFs}: the tree an agent works in. Every method
 * takes an absolute path inside the branch ("/src/Main.java"), follows symlinks as the
 * corresponding Linux call does, checks permissions as the branch's {@link Caller} (root unless
 * set with {@link #as(Caller)}), and reports failures as {@link AgentFsException} with the errno
 * and the path. The same branch can be mounted and used through the kernel at the same time.
 *
 * @since 0.1
 */
public final class Branch {
  private static final int MAX_SYMLINKS = 40;
  private static final int IO_CHUNK = 1 << 20;

  private final FsCore core;
  private final BranchFs fs;
  private final Caller caller;

  Branch(FsCore core, BranchFs fs, Caller caller) {
    this.core = core;
    this.fs = fs;
    this.caller = caller;
  }

  public String name() {
    return fs.name();
  }

  /** The snapshot this branch started from; empty for the default branch. */
  public Optional<String> base() {
    try {
      return Optional.ofNullable(core.baseOf(fs.name()));
    } catch (AgentFsException e) {
      return Optional.empty();
    }
  }

  /** The inode-level view of this branch, as transports see it. */
  public Vfs vfs() {
    return fs;
  }

  /** The same branch, acting as another caller (for permission checks and ownership). */
  public Branch as(Caller c) {
    return new Branch(core, fs, c);
  }

  /**
   * A java.nio file system over this branch, acting as this branch's caller, without a mount:
   * {@code Files.*} on its paths call the core directly. Close it when done (that does not close
   * the AgentFs). See {@link dev.agentfs.nio.AgentFsFileSystemProvider}.
   */
  public AgentFsFileSystem asFileSystem() {
    return AgentFsFileSystemProvider.forBranch(this, core, caller);
  }

  /** Freezes this branch's current tree as a snapshot; O(1) in the size of the tree. */
  public Snapshot snapshot(String snapshotName) throws AgentFsException {
    core.snapshot(fs.name(), snapshotName);
    return new Snapshot(snapshotName, fs.name(), core.snapshotCreatedNs(snapshotName));
  }

  /**
   * Resets this branch to {@code snapshot} in place, as {@link AgentFs#resetBranch} does:
   * processes bound to the branch (and mounts of it) see the snapshot's tree at once, and
   * handles open on files the snapshot lacks answer ESTALE. The snapshot may have been taken
   * of any branch of this AgentFs; it does not move.
   *
   * @throws AgentFsException ENOENT when the snapshot no longer exists
   */
  public void resetTo(Snapshot snapshot) throws AgentFsException {
    core.resetBranch(fs.name(), snapshot.name());
  }

  /**
   * Restores one path of this branch (a file or a whole subtree) to what it is in {@code
   * snapshot}, leaving the rest of the branch alone, as {@link AgentFs#restore} does; a path
   * the snapshot lacks is removed. The changes are made as this branch's caller.
   */
  public void restore(String path, Snapshot snapshot) throws AgentFsException {
    restore(path, snapshot.name());
  }

  void restore(String path, String snapshot) throws AgentFsException {
    Branch src = new Branch(core, core.snapshotView(snapshot), Caller.ROOT);
    boolean inSnapshot = present(src, path);
    boolean inBranch = present(this, path);
    if (inBranch && !path.equals("/")) {
      deleteRecursively(path);
    } else if (inBranch) {
      for (String child : list("/")) {
        deleteRecursively("/" + child);
      }
    }
    if (inSnapshot) {
      Commits.copyTree(src, this, path);
    }
  }

  private static boolean present(Branch b, String path) throws AgentFsException {
    try {
      b.lstat(path);
      return true;
    } catch (AgentFsException e) {
      if (e.errno() != Errno.ENOENT) {
        throw e;
      }
      return false;
    }
  }

  // ---------------------------------------------------------------- path walking

  private record Parent(long ino, byte[] name) {}

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

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

  private static boolean isDot(byte[] c) {
    return c.length == 1 && c[0] == '.';
  }

  /** Resolves {@code path} to an inode, following symlinks in every component but, unless
   *  {@code followLast}, the last. */
  private long walk(String path, boolean followLast) throws AgentFsException {
    return walkFrom(Vfs.ROOT, bytes(path), followLast, path);
  }

  /** {@link #walk} starting at directory {@code start} for a relative {@code rel}. */
  private long walkFrom(long start, byte[] rel, boolean followLast, String path)
      throws AgentFsException {
    Deque<byte[]> comps = split(rel);
    long cur = rel.length > 0 && rel[0] == '/' ? Vfs.ROOT : start;
    int links = 0;
    while (!comps.isEmpty()) {
      byte[] c = comps.pollFirst();
      if (isDot(c)) {
        continue;
      }
      Attr a = fs.getattr(caller, cur, 0);
      if (!a.isDirectory()) {
        throw new AgentFsException(Errno.ENOTDIR, path);
      }
      Attr child = attrOf(fs.lookupNoRef(caller, cur, c));
      boolean last = comps.isEmpty();
      if (child.isSymlink() && (!last || followLast)) {
        if (++links > MAX_SYMLINKS) {
          throw new AgentFsException(Errno.ELOOP, path);
        }
        byte[] target = fs.readlink(caller, child.ino());
        Deque<byte[]> t = split(target);
        while (!t.isEmpty()) {
          comps.addFirst(t.pollLast());
        }
        if (target.length > 0 && target[0] == '/') {
          cur = Vfs.ROOT;
        }
        continue;
      }
      cur = child.ino();
    }
    return cur;
  }

  private Attr attrOf(long ino) throws AgentFsException {
    return fs.getattr(caller, ino, 0);
  }

  /** The directory that holds the last component of {@code path}, and that component. */
  private Parent parent(String path) throws AgentFsException {
    return parentFrom(Vfs.ROOT, bytes(path), path);
  }

  private Parent parentFrom(long start, byte[] b, String path) throws AgentFsException {
    int end = b.length;
    while (end > 1 && b[end - 1] == '/') {
      end--;
    }
    int slash = end - 1;
    while (slash >= 0 && b[slash] != '/') {
      slash--;
    }
    byte[] last = new byte[end - slash - 1];
    System.arraycopy(b, slash + 1, last, 0, last.length);
    if (last.length == 0) {
      throw new AgentFsException(Errno.EBUSY, path, null, "the root has no parent");
    }
    byte[] dir = slash < 0 ? new byte[0] : slash == 0 ? new byte[] {'/'}
        : Arrays.copyOf(b, slash);
    long p = walkFrom(start, dir, true, path);
    if (!attrOf(p).isDirectory()) {
      throw new AgentFsException(Errno.ENOTDIR, path);
    }
    return new Parent(p, last);
  }

  private static AgentFsException at(AgentFsException e, String path) {
    if (path.equals(e.path())) {
      return e;
    }
    AgentFsException x = new AgentFsException(e.errno(), path);
    x.initCause(e);
    return x;
  }

  @FunctionalInterface
  private interface PathOp<T> {
    T run() throws AgentFsException;
  }

  private static <T> T on(String path, PathOp<T> op) throws AgentFsException {
    try {
      return op.run();
    } catch (AgentFsException e) {
      throw at(e, path);
    }
  }

  // ---------------------------------------------------------------- queries

  /** stat(2): attributes, following a final symlink. */
  public Attr stat(String path) throws AgentFsException {
    return on(path, () -> attrOf(walk(path, true)));
  }

  /** lstat(2): attributes of the link itself when the path names a symlink. */
  public Attr lstat(String path) throws AgentFsException {
    return on(path, () -> attrOf(walk(path, false)));
  }

  public boolean exists(String path) throws AgentFsException {
    try {
      walk(path, true);
      return true;
    } catch (AgentFsException e) {
      if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
        return false;
      }
      throw at(e, path);
    }
  }

  /** Names in a directory, without "." and "..", in creation order. */
  public List<String> list(String path) throws AgentFsException {
    return on(path, () -> {
      long ino = walk(path, true);
      long fh = fs.opendir(caller, ino, O_RDONLY);
      try {
        List<String> out = new ArrayList<>();
        fs.readdir(caller, ino, fh, 2, false, (name, child, mode, next, attr) -> {
          out.add(new String(name, StandardCharsets.UTF_8));
          return true;
        });
        return out;
      } finally {
        fs.releasedir(ino, fh);
      }
    });
  }

  public byte[] read(String path) throws AgentFsException {
    return on(path, () -> {
      long ino = walk(path, true);
      long fh = fs.open(caller, ino, O_RDONLY);
      try {
        long size = attrOf(ino).size();
        if (size > Integer.MAX_VALUE - 16) {
          throw new AgentFsException(Errno.EFBIG, path, null, "too large to read into memory");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        while (buf.hasRemaining()) {
          int n = fs.read(ino, fh, buf.position(), buf);
          if (n <= 0) {
            break;
          }
        }
        byte[] out = new byte[buf.position()];
        buf.flip().get(out);
        return out;
      } finally {
        fs.release(ino, fh);
      }
    });
  }

  public String readString(String path) throws AgentFsException {
    return new String(read(path), StandardCharsets.UTF_8);
  }

  public String readlink(String path) throws AgentFsException {
    return on(path, () -> new String(fs.readlink(caller, walk(path, false)),
        StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- changes

  /** Creates or replaces the content of a regular file (open O_CREAT|O_TRUNC, mode 0644). */
  public void write(String path, byte[] data) throws AgentFsException {
    writeAt(path, data, false);
  }

  public void write(String path, String text) throws AgentFsException {
    write(path, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Appends to a regular file, creating it when missing. */
  public void append(String path, byte[] data) throws AgentFsException {
    writeAt(path, data, true);
  }

  private void writeAt(String path, byte[] data, boolean append) throws AgentFsException {
    on(path, () -> {
      int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
      long ino;
      long fh;
      long existing = -1;
      try {
        existing = walk(path, true);
      } catch (AgentFsException e) {
        if (e.errno() != Errno.ENOENT) {
          throw e;
        }
      }
      if (existing >= 0) {
        ino = existing;
        fh = fs.open(caller, ino, flags & ~O_CREAT);
      } else {
        Parent p = createTarget(path);
        Created cr = fs.create(caller, p.ino(), p.name(), 0644, flags, 0);
        ino = cr.attr().ino();
        fh = cr.fh();
        fs.forget(ino, 1);
      }
      try {
        ByteBuffer src = ByteBuffer.wrap(data);
        long pos = 0;
        while (src.hasRemaining()) {
          ByteBuffer slice = src.slice();
          slice.limit(Math.min(slice.remaining(), IO_CHUNK));
          int n = fs.write(caller, ino, fh, pos, slice);
          pos += n;
          src.position(src.position() + n);
        }
      } finally {
        fs.release(ino, fh);
      }
      return null;
    });
  }

  /**
   * Where open(O_CREAT) creates {@code path}: its parent and last name, or, when the last
   * component is a dangling symlink, the place the link points to (as Linux does).
   */
  private Parent createTarget(String path) throws AgentFsException {
    Parent p = parent(path);
    for (int links = 0; ; ) {
      long child;
      try {
        child = fs.lookupNoRef(caller, p.ino(), p.name());
      } catch (AgentFsException e) {
        if (e.errno() == Errno.ENOENT) {
          return p;
        }
        throw e;
      }
      if (!attrOf(child).isSymlink()) {
        return p;
      }
      if (++links > MAX_SYMLINKS) {
        throw new AgentFsException(Errno.ELOOP, path);
      }
      p = parentFrom(p.ino(), fs.readlink(caller, child), path);
    }
  }

  public void mkdir(String path) throws AgentFsException {
    mkdir(path, 0755);
  }

  public void mkdir(String path, int mode) throws AgentFsException {
    on(path, () -> {
      Parent p = parent(path);
      long ino = fs.mkdir(caller, p.ino(), p.name(), mode, 0).ino();
      fs.forget(ino, 1);
      return null;
    });
  }

  /** Creates a directory and any missing parents, like mkdir -p. */
  public void mkdirs(String path) throws AgentFsException {
    StringBuilder cur = new StringBuilder();
    for (byte[] c : split(bytes(path))) {
      cur.append('/').append(new String(c, StandardCharsets.UTF_8));
      String p = cur.toString();
      if (!exists(p)) {
        mkdir(p);
      } else if (!stat(p).isDirectory()) {
        throw new AgentFsException(Errno.ENOTDIR, p);
      }
    }
  }

  /** mknod(2) for FIFOs, sockets and (as root) devices; {@code mode} includes type bits. */
  public void mknod(String path, int mode, long rdev) throws AgentFsException {
    on(path, () -> {
      Parent p = parent(path);
      fs.forget(fs.mknod(caller, p.ino(), p.name(), mode, rdev, 0).ino(), 1);
      return null;
    });
  }

  public void symlink(String target, String linkPath) throws AgentFsException {
    on(linkPath, () -> {
      Parent p = parent(linkPath);
      fs.forget(fs.symlink(caller, p.ino(), p.name(), bytes(target)).ino(), 1);
      return null;
    });
  }

  /** A hard link {@code newPath} to the inode {@code existing} names (not following it). */
  public void link(String existing, String newPath) throws AgentFsException {
    on(newPath, () -> {
      long ino = walk(existing, false);
      Parent p = parent(newPath);
      fs.forget(fs.link(caller, ino, p.ino(), p.name()).ino(), 1);
      return null;
    });
  }

  /** unlink(2), or rmdir(2) when the path names a directory. */
  public void delete(String path) throws AgentFsException {
    on(path, () -> {
      Parent p = parent(path);
      Attr a = attrOf(fs.lookupNoRef(caller, p.ino(), p.name()));
      if (a.isDirectory()) {
        fs.rmdir(caller, p.ino(), p.name());
      } else {
        fs.unlink(caller, p.ino(), p.name());
      }
      return null;
    });
  }

  /** Deletes a tree, like rm -rf (but failing on the first error). */
  public void deleteRecursively(String path) throws AgentFsException {
    Attr a = lstat(path);
    if (a.isDirectory()) {
      for (String child : list(path)) {
        deleteRecursively(path.endsWith("/") ? path + child : path + "/" + child);
      }
    }
    delete(path);
  }

  public void rename(String from, String to) throws AgentFsException {
    rename(from, to, 0);
  }

  /** renameat2(2) with RENAME_NOREPLACE or RENAME_EXCHANGE flags. */
  public void rename(String from, String to, int flags) throws AgentFsException {
    on(from, () -> {
      Parent a = parent(from);
      Parent b = parent(to);
      fs.rename(caller, a.ino(), a.name(), b.ino(), b.name(), flags);
      return null;
    });
  }

  public void chmod(String path, int mode) throws AgentFsException {
    setattr(path, SetAttr.mode(mode));
  }

  /** chown(2); -1 leaves that id unchanged. */
  public void chown(String path, int uid, int gid) throws AgentFsException {
    setattr(path, SetAttr.owner(uid, gid));
  }

  public void truncate(String path, long size) throws AgentFsException {
    setattr(path, SetAttr.size(size));
  }

  public void setTimes(String path, long atimeNs, long mtimeNs) throws AgentFsException {
    setattr(path, SetAttr.times(atimeNs, mtimeNs));
  }

  public Attr setattr(String path, SetAttr set) throws AgentFsException {
    return on(path, () -> fs.setattr(caller, walk(path, true), 0, set));
  }

  public void setxattr(String path, String name, byte[] value) throws AgentFsException {
    on(path, () -> {
      fs.setxattr(caller, walk(path, true), name, value, 0);
      return null;
    });
  }

  public byte[] getxattr(String path, String name) throws AgentFsException {
    return on(path, () -> fs.getxattr(caller, walk(path, true), name));
  }

  public List<String> listxattr(String path) throws AgentFsException {
    return on(path, () -> {
      byte[] raw = fs.listxattr(caller, walk(path, true));
      List<String> out = new ArrayList<>();
      int start = 0;
      for (int i = 0; i < raw.length; i++) {
        if (raw[i] == 0) {
          out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
          start = i + 1;
        }
      }
      return out;
    });
  }

  public void removexattr(String path, String name) throws AgentFsException {
    on(path, () -> {
      fs.removexattr(caller, walk(path, true), name);
      return null;
    });
  }

  @Override
  public String toString() {
    return "Branch[" + name() + "]";
  }
}
