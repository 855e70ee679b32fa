package dev.agentfs;

import dev.agentfs.core.TreeDiff.Change;
import dev.agentfs.core.TreeDiff.Kind;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.SetAttr;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Applies what a branch changed since its base snapshot onto a target: another branch, or the
 * overlay's lower directory on the host. The plan is the core's tree diff (cost grows with
 * the change); a change conflicts when the target changed the same inode or path since the
 * base. Files are written to a temporary name and renamed into place, so each file changes
 * atomically; conflicting changes are reported and never applied.
 */
final class Commits {
  private Commits() {}

  /** Target operations, so branches and the host directory share one planner. */
  private interface Target {
    String name();

    /** Why applying {@code c} would overwrite something the target changed, or null. */
    String conflict(Change c) throws AgentFsException;

    void apply(Change c) throws AgentFsException;
  }

  static CommitResult commit(AgentFs fs, Branch source, Branch target, boolean dryRun)
      throws AgentFsException {
    String base = baseOf(source);
    List<Change> targetChanges = fs.diff(base, target.name());
    Set<Long> touchedInos = new HashSet<>();
    Set<String> touchedPaths = new HashSet<>();
    for (Change c : targetChanges) {
      touchedInos.add(c.ino());
      touchedPaths.add(c.path());
      if (c.oldPath() != null) {
        touchedPaths.add(c.oldPath());
      }
    }
    Target t = new Target() {
      @Override
      public String name() {
        return target.name();
      }

      @Override
      public String conflict(Change c) {
        if (touchedInos.contains(c.ino())) {
          return target.name() + " changed the same file since " + base;
        }
        if (touchedPaths.contains(c.path())
            || (c.oldPath() != null && touchedPaths.contains(c.oldPath()))) {
          return target.name() + " changed " + c.path() + " since " + base;
        }
        return null;
      }

      @Override
      public void apply(Change c) throws AgentFsException {
        applyToBranch(source, target, c);
      }
    };
    return run(fs.diff(base, source.name()), source, t, dryRun);
  }

  static CommitResult commitToLower(AgentFs fs, Branch source, Path lower, boolean dryRun)
      throws AgentFsException {
    String base = baseOf(source);
    Target t = new Target() {
      @Override
      public String name() {
        return lower.toString();
      }

      @Override
      public String conflict(Change c) throws AgentFsException {
        Path p = host(lower, c.kind() == Kind.RENAMED ? c.oldPath() : c.path());
        boolean exists = Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        if (c.kind() == Kind.ADDED) {
          return exists ? "the workspace now has " + c.path() : null;
        }
        if (!exists) {
          return "the workspace no longer has " + p;
        }
        long[] seen = fs.core().lowerStamp(source.name(), c.ino());
        if (seen == null) {
          seen = fs.core().lowerStamp(base, c.ino());
        }
        if (seen == null || c.directory()) {
          return null;
        }
        try {
          long mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS)
              .to(TimeUnit.NANOSECONDS);
          if (mtime != seen[0] || Files.size(p) != seen[1]) {
            return "the workspace changed " + c.path() + " after the branch read it";
          }
        } catch (IOException e) {
          throw new AgentFsException(Errno.EIO, p.toString(), e);
        }
        return null;
      }

      @Override
      public void apply(Change c) throws AgentFsException {
        applyToHost(source, lower, c);
      }
    };
    return run(fs.diff(base, source.name()), source, t, dryRun);
  }

  private static String baseOf(Branch b) throws AgentFsException {
    return b.base().orElseThrow(() -> new AgentFsException(Errno.EINVAL, b.name(), null,
        "the branch has no base snapshot to commit against"));
  }

  private static CommitResult run(List<Change> changes, Branch source, Target t,
      boolean dryRun) throws AgentFsException {
    List<Change> ordered = new ArrayList<>(changes);
    // Renames first (children move with their directory), then additions parents-first,
    // modifications, and deletions children-first.
    Map<Kind, Integer> rank = Map.of(Kind.RENAMED, 0, Kind.ADDED, 1, Kind.MODIFIED, 2,
        Kind.DELETED, 3);
    ordered.sort(Comparator.<Change>comparingInt(c -> rank.get(c.kind()))
        .thenComparing(c -> c.kind() == Kind.DELETED ? -depth(c.path()) : depth(c.path()))
        .thenComparing(Change::path));
    List<Change> applied = new ArrayList<>();
    List<CommitResult.Conflict> conflicts = new ArrayList<>();
    Set<String> skippedDirs = new HashSet<>();
    for (Change c : ordered) {
      String why = t.conflict(c);
      if (why == null && under(c.path(), skippedDirs)) {
        why = "its directory was not committed";
      }
      if (why != null) {
        conflicts.add(new CommitResult.Conflict(c, why));
        if (c.directory()) {
          skippedDirs.add(c.path());
        }
        continue;
      }
      if (!dryRun) {
        t.apply(c);
      }
      applied.add(c);
    }
    return new CommitResult(source.name(), t.name(), dryRun, applied, conflicts);
  }

  private static boolean under(String path, Set<String> dirs) {
    for (String d : dirs) {
      if (path.startsWith(d + "/")) {
        return true;
      }
    }
    return false;
  }

  private static int depth(String p) {
    int n = 0;
    for (int i = 0; i < p.length(); i++) {
      if (p.charAt(i) == '/') {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- onto a branch

  private static void applyToBranch(Branch src, Branch dst, Change c) throws AgentFsException {
    switch (c.kind()) {
      case DELETED -> {
        if (dst.exists(c.path()) || isLink(dst, c.path())) {
          // A directory deleted from the lower is reported alone, without its children.
          dst.deleteRecursively(c.path());
        }
      }
      case RENAMED -> {
        dst.rename(c.oldPath(), c.path());
        if (c.dataChanged() || c.metadataChanged()) {
          copyInto(src, dst, c.path());
        }
      }
      case ADDED, MODIFIED -> copyInto(src, dst, c.path());
    }
  }

  private static boolean isLink(Branch b, String path) {
    try {
      return b.lstat(path).isSymlink();
    } catch (AgentFsException e) {
      return false;
    }
  }

  /** Makes {@code path} in {@code dst} what it is in {@code src}; files via temp + rename. */
  private static void copyInto(Branch src, Branch dst, String path) throws AgentFsException {
    Attr a = src.lstat(path);
    if (a.isDirectory()) {
      if (!dst.exists(path)) {
        dst.mkdir(path, a.permissions());
      }
    } else {
      String tmp = tempName(path);
      if (a.isSymlink()) {
        dst.symlink(src.readlink(path), tmp);
      } else if (a.isRegular()) {
        dst.write(tmp, src.read(path));
      } else {
        dst.mknod(tmp, a.mode(), a.rdev());
      }
      dst.rename(tmp, path);
    }
    if (!a.isSymlink()) {
      dst.chmod(path, a.permissions());
      for (String x : dst.listxattr(path)) {
        dst.removexattr(path, x);
      }
      for (String x : src.listxattr(path)) {
        dst.setxattr(path, x, src.getxattr(path, x));
      }
      dst.setattr(path, new SetAttr(SetAttr.UID | SetAttr.GID | SetAttr.ATIME | SetAttr.MTIME,
          0, a.uid(), a.gid(), 0, a.atimeNs(), a.mtimeNs(), 0));
    }
  }

  /** Copies the tree at {@code path} from {@code src} into {@code dst}, parents first. */
  static void copyTree(Branch src, Branch dst, String path) throws AgentFsException {
    copyInto(src, dst, path);
    Attr a = src.lstat(path);
    if (a.isDirectory()) {
      for (String child : src.list(path)) {
        copyTree(src, dst, path.equals("/") ? "/" + child : path + "/" + child);
      }
    }
  }

  private static String tempName(String path) {
    int slash = path.lastIndexOf('/');
    return path.substring(0, slash + 1) + ".agentfs-commit-" + Long.toHexString(System.nanoTime())
        + "-" + path.substring(slash + 1);
  }

  // ---------------------------------------------------------------- onto the host

  private static Path host(Path lower, String path) {
    return lower.resolve(path.substring(1));
  }

  private static void applyToHost(Branch src, Path lower, Change c) throws AgentFsException {
    Path p = host(lower, c.path());
    try {
      switch (c.kind()) {
        case DELETED -> deleteTree(p);
        case RENAMED -> {
          Files.move(host(lower, c.oldPath()), p, StandardCopyOption.ATOMIC_MOVE);
          if (c.dataChanged() || c.metadataChanged()) {
            copyToHost(src, c.path(), p);
          }
        }
        case ADDED, MODIFIED -> copyToHost(src, c.path(), p);
      }
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, p.toString(), e);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (var children = Files.list(p)) {
        for (Path c : (Iterable<Path>) children::iterator) {
          deleteTree(c);
        }
      }
    }
    Files.deleteIfExists(p);
  }

  private static void copyToHost(Branch src, String path, Path p)
      throws AgentFsException, IOException {
    Attr a = src.lstat(path);
    if (a.isDirectory()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(p);
      }
    } else {
      Path tmp = p.resolveSibling(".agentfs-commit-" + Long.toHexString(System.nanoTime()) + "-"
          + p.getFileName());
      if (a.isSymlink()) {
        Files.createSymbolicLink(tmp, Path.of(src.readlink(path)));
      } else if (a.isRegular()) {
        Files.write(tmp, src.read(path));
      } else {
        return; // devices, FIFOs and sockets are not written to a workspace
      }
      try {
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    if (!a.isSymlink()) {
      Files.setPosixFilePermissions(p, perms(a.permissions()));
      Files.setLastModifiedTime(p, FileTime.from(a.mtimeNs(), TimeUnit.NANOSECONDS));
    }
  }

  private static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < 9; i++) {
      if ((mode & (0400 >> i)) != 0) {
        s.add(all[i]);
      }
    }
    return s;
  }
}
