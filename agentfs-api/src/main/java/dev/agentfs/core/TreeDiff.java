package dev.agentfs.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Compares two inode tables. Subtrees of the tables that are the same object are skipped, so
 * the cost grows with what changed, not with the size of the tree: a branch that touched ten
 * files of a million is diffed by visiting about ten table paths.
 *
 * @since 0.1
 */
public final class TreeDiff {
  private TreeDiff() {}

  /** What happened to one path. */
  public enum Kind { ADDED, DELETED, MODIFIED, RENAMED }

  /**
   * One change. {@code path} is where the node is after the change (before it, for deletions);
   * {@code oldPath} is set for renames. {@code dataChanged} means the bytes (or link target)
   * differ; {@code metadataChanged} means mode, owner or xattrs differ.
   */
  public record Change(Kind kind, String path, @Nullable String oldPath, long ino,
      boolean directory, boolean dataChanged, boolean metadataChanged) {}

  static List<Change> diff(LongTrie<Inode> from, LongTrie<Inode> to, @Nullable Lower lower) {
    List<Change> out = new ArrayList<>();
    LongTrie.diff(from, to, (ino, before, after) -> {
      if (before == null && after != null && after.lowerPath != null && lower != null) {
        fromLower(to, after, lower, out);
      } else if (after == null && before != null && before.lowerPristine
          && !loadedIn(to, before.parent)) {
        // loaded from the lower on the 'from' side only: the same file on both sides
      } else if (before == null && after != null) {
        out.add(new Change(Kind.ADDED, path(to, after), null, ino, after.isDir(), true, false));
      } else if (after == null && before != null) {
        out.add(new Change(Kind.DELETED, path(from, before), null, ino, before.isDir(), true,
            false));
      } else if (before != null && after != null) {
        boolean data = !sameData(before, after);
        boolean meta = before.mode != after.mode || before.uid != after.uid
            || before.gid != after.gid || !sameXattrs(before.xattrs, after.xattrs);
        String pb = path(from, before);
        String pa = path(to, after);
        if (lower != null && before.lowerPath != null && !before.lowerLoaded) {
          // 'from' never listed this lower directory: compare 'to' with the lower itself.
          lowerDeletions(to, after, lower, pa, out);
        }
        if (!pb.equals(pa)) {
          out.add(new Change(Kind.RENAMED, pa, pb, ino, after.isDir(), data, meta));
        } else if (data || meta) {
          out.add(new Change(Kind.MODIFIED, pa, null, ino, after.isDir(), data, meta));
        }
      }
    });
    out.sort(Comparator.comparing(Change::path));
    return out;
  }

  /** Whether {@code dir} in {@code t} lists its entries (so a missing one was deleted). */
  private static boolean loadedIn(LongTrie<Inode> t, long dir) {
    Inode d = t.get(dir);
    return d != null && (d.lowerPath == null || d.lowerLoaded);
  }

  /**
   * An overlay inode the 'from' side never loaded: compare it with the lower directory
   * itself, which is what 'from' would have shown. A loaded directory also reports the lower
   * entries it no longer has.
   */
  private static void fromLower(LongTrie<Inode> to, Inode after, Lower lower, List<Change> out) {
    if (after.lowerPristine) {
      return;
    }
    String pa = path(to, after);
    String pl = after.lowerPath.isEmpty() ? "/" : "/" + after.lowerPath;
    boolean data = !after.isDir() && !(after.content instanceof LowerContent);
    boolean meta = true;
    try {
      Lower.Entry e = lower.stat(after.lowerPath);
      meta = e.mode() != after.mode || e.uid() != after.uid || e.gid() != after.gid
          || !sameXattrs(e.xattrs(), after.xattrs);
      if (after.isSymlink()) {
        data = !Arrays.equals(e.target(), after.target);
      }
    } catch (dev.agentfs.AgentFsException ex) {
      // the lower entry is gone: report what we can
    }
    if (!pa.equals(pl)) {
      out.add(new Change(Kind.RENAMED, pa, pl, after.ino, after.isDir(), data, meta));
    } else if (data || meta) {
      out.add(new Change(Kind.MODIFIED, pa, null, after.ino, after.isDir(), data, meta));
    }
    lowerDeletions(to, after, lower, pa, out);
  }

  /** Lower entries a loaded directory no longer has, reported as deletions. */
  private static void lowerDeletions(LongTrie<Inode> to, Inode after, Lower lower, String pa,
      List<Change> out) {
    if (!after.isDir() || !after.lowerLoaded || after.lowerPath == null) {
      return;
    }
    try {
      for (Lower.Entry e : lower.list(after.lowerPath)) {
        long ino = lower.coreIno(e.ino());
        if (to.get(ino) == null) {
          String name = new String(e.name(), StandardCharsets.UTF_8);
          out.add(new Change(Kind.DELETED, (pa.equals("/") ? "" : pa) + "/" + name, null, ino,
              dev.agentfs.vfs.Modes.isDir(e.mode()), true, false));
        }
      }
    } catch (dev.agentfs.AgentFsException ex) {
      // the lower directory is gone: nothing more to compare
    }
  }

  private static boolean sameData(Inode a, Inode b) {
    if (a.isDir()) {
      return true; // entry changes show up as the children's own changes
    }
    if (a.isSymlink()) {
      return Arrays.equals(a.target, b.target);
    }
    if (!a.isReg()) {
      return a.rdev == b.rdev;
    }
    return a.content == b.content || (a.size() == 0 && b.size() == 0);
  }

  private static boolean sameXattrs(Map<String, byte[]> a, Map<String, byte[]> b) {
    if (a == b) {
      return true;
    }
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (Map.Entry<String, byte[]> e : a.entrySet()) {
      if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The path of {@code n} in {@code table}, from the parent and name hints. */
  static String path(LongTrie<Inode> table, Inode n) {
    if (n.ino == BranchFs.ROOT) {
      return "/";
    }
    Deque<String> parts = new ArrayDeque<>();
    Inode cur = n;
    for (int guard = 0; guard < 4096 && cur.ino != BranchFs.ROOT; guard++) {
      parts.addFirst(new String(cur.nameHint.bytes, StandardCharsets.UTF_8));
      Inode p = table.get(cur.parent);
      if (p == null || Objects.equals(p, cur)) {
        break;
      }
      cur = p;
    }
    return "/" + String.join("/", parts);
  }
}
