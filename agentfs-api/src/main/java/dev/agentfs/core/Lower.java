package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Modes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The read-only host directory under an overlay. The core reads a lower directory the first
 * time a branch touches it and turns its entries into inodes; nothing here ever writes to the
 * host. Symlinks are read, never followed, and paths are built only from names listed under
 * the root, so nothing resolves outside it. Inode numbers derive from the host's, so they are
 * the same in every branch and across restarts (git's index relies on that).
 */
final class Lower {
  /** Inode numbers of lower entries live above this bit, away from allocated ones. */
  static final long INO_BASE = 1L << 62;

  record Entry(byte[] name, String path, long ino, int mode, int uid, int gid, int nlink,
      long rdev, long size, long atime, long mtime, long ctime, byte @Nullable [] target,
      Map<String, byte[]> xattrs) {}

  final Path root;
  private final long rootIno;
  private final Set<String> hidden = ConcurrentHashMap.newKeySet();

  Lower(Path root) throws AgentFsException {
    this.root = root.toAbsolutePath().normalize();
    if (!Files.isDirectory(this.root, LinkOption.NOFOLLOW_LINKS)) {
      throw new AgentFsException(Errno.ENOTDIR, this.root.toString(), null,
          "the lower layer must be a directory");
    }
    this.rootIno = stat("").ino;
  }

  /** How close to now a host change time makes an entry's times untrustworthy (racy). */
  static final long RACY_NANOS = 2_000_000_000L;

  /**
   * Whether {@code e} changed so recently (by the host's real clock) that another change in
   * the same timestamp tick could leave its times as they are: such an entry is compared in
   * full at its next check, as git treats racily clean index entries.
   */
  static boolean racy(Entry e) {
    long now = System.currentTimeMillis() * 1_000_000L;
    return e.ctime() > now - RACY_NANOS || e.mtime() > now - RACY_NANOS;
  }

  /** Keeps {@code path} (e.g. the mount point itself) out of every listing. */
  void hide(Path path) {
    Path p = path.toAbsolutePath().normalize();
    if (p.startsWith(root) && !p.equals(root)) {
      hidden.add(root.relativize(p).toString());
    }
  }

  Path host(String rel) {
    return rel.isEmpty() ? root : root.resolve(rel);
  }

  /** The core's inode number for a host inode number. */
  long coreIno(long hostIno) {
    return hostIno == rootIno ? BranchFs.ROOT : INO_BASE | (hostIno & (INO_BASE - 1));
  }

  Entry stat(String rel) throws AgentFsException {
    Path p = host(rel);
    try {
      Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) a.get("mode");
      byte[] target = null;
      if (Modes.isLnk(mode)) {
        target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
      }
      Map<String, byte[]> xattrs = Map.of();
      if (Modes.isReg(mode) || Modes.isDir(mode)) {
        xattrs = userXattrs(p);
      }
      String name = p.getFileName() == null ? "" : p.getFileName().toString();
      return new Entry(name.getBytes(StandardCharsets.UTF_8), rel, (Long) a.get("ino"), mode,
          (Integer) a.get("uid"), (Integer) a.get("gid"), (Integer) a.get("nlink"),
          (Long) a.get("rdev"), (Long) a.get("size"), nanos(a.get("lastAccessTime")),
          nanos(a.get("lastModifiedTime")), nanos(a.get("ctime")), target, xattrs);
    } catch (IOException e) {
      throw error(e, p);
    }
  }

  private static long nanos(Object t) {
    return ((FileTime) t).to(TimeUnit.NANOSECONDS);
  }

  private static Map<String, byte[]> userXattrs(Path p) {
    try {
      UserDefinedFileAttributeView v = Files.getFileAttributeView(p,
          UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
      if (v == null) {
        return Map.of();
      }
      List<String> names = v.list();
      if (names.isEmpty()) {
        return Map.of();
      }
      TreeMap<String, byte[]> out = new TreeMap<>();
      for (String n : names) {
        ByteBuffer b = ByteBuffer.allocate(v.size(n));
        v.read(n, b);
        out.put("user." + n, b.array());
      }
      return out;
    } catch (IOException | UnsupportedOperationException e) {
      return Map.of(); // xattrs are best effort on the lower layer
    }
  }

  /** The entries of lower directory {@code rel}, stat'ed without following symlinks. */
  List<Entry> list(String rel) throws AgentFsException {
    Path dir = host(rel);
    List<Entry> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path child : ds) {
        String name = child.getFileName().toString();
        String childRel = rel.isEmpty() ? name : rel + "/" + name;
        if (hidden.contains(childRel)) {
          continue;
        }
        try {
          out.add(stat(childRel));
        } catch (AgentFsException e) {
          if (e.errno() != Errno.ENOENT) {
            throw e;
          } // removed while we listed: it is simply not there
        }
      }
    } catch (IOException e) {
      throw error(e, dir);
    }
    return out;
  }

  static AgentFsException error(IOException e, Path p) {
    Errno errno = e instanceof NoSuchFileException ? Errno.ENOENT
        : e instanceof NotDirectoryException ? Errno.ENOTDIR
        : e instanceof AccessDeniedException ? Errno.EACCES : Errno.EIO;
    return new AgentFsException(errno, "lower " + p, e);
  }
}
