package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.vfs.Attr;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Fingerprints and consistency checks of a finished tree. A fingerprint is one line per
 * entry (path, type, permission bits, size, SHA-256 of the content, symlink target, link
 * count; directory sizes are left out, file systems disagree on them), sorted, so two trees
 * compare as lists. The consistency check walks a tree through readdir and lstat the way a
 * tool would and lists what does not add up.
 */
public final class Trees {
  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;

  private Trees() {}

  /** What {@link #check} counted, and the inconsistencies it found. */
  public record Check(int entries, int dirs, int files, int symlinks, int multiLinked,
      List<String> problems) {}

  private static String line(String rel, int mode, long size, long nlink, String sha,
      String target) {
    int type = mode & S_IFMT;
    String t = type == S_IFDIR ? "d" : type == S_IFREG ? "f" : type == S_IFLNK ? "l" : "?";
    return rel + " " + t + " " + Integer.toOctalString(mode & 07777) + " "
        + (type == S_IFDIR ? "-" : Long.toString(size)) + " " + sha
        + (target.isEmpty() ? "" : " -> " + target) + " n=" + nlink;
  }

  /** The fingerprint of the tree at {@code root} as seen through system calls. */
  public static List<String> fingerprint(Path root, Set<String> skip) throws IOException {
    List<String> out = new ArrayList<>();
    walk(root, root, skip, out);
    out.sort(null);
    return out;
  }

  private static void walk(Path root, Path dir, Set<String> skip, List<String> out)
      throws IOException {
    TreeSet<Path> kids = new TreeSet<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(kids::add);
    }
    for (Path p : kids) {
      String rel = root.relativize(p).toString();
      if (skip.contains(rel)) {
        continue;
      }
      Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,nlink",
          LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) a.get("mode");
      int type = mode & S_IFMT;
      String sha = type == S_IFREG ? Data.sha256(Files.readAllBytes(p)) : "-";
      String target = type == S_IFLNK ? Files.readSymbolicLink(p).toString() : "";
      out.add(line(rel, mode, (Long) a.get("size"), ((Number) a.get("nlink")).longValue(), sha,
          target));
      if (type == S_IFDIR) {
        walk(root, p, skip, out);
      }
    }
  }

  /** The fingerprint of branch {@code b} as the filesystem itself holds it (no kernel). */
  public static List<String> fingerprint(Branch b, Set<String> skip) throws AgentFsException {
    List<String> out = new ArrayList<>();
    walk(b, "", skip, out);
    out.sort(null);
    return out;
  }

  private static void walk(Branch b, String dir, Set<String> skip, List<String> out)
      throws AgentFsException {
    for (String name : new TreeSet<>(b.list("/" + dir))) {
      String rel = dir.isEmpty() ? name : dir + "/" + name;
      if (skip.contains(rel)) {
        continue;
      }
      Attr a = b.lstat("/" + rel);
      String sha = a.isRegular() ? Data.sha256(b.read("/" + rel)) : "-";
      String target = a.isSymlink() ? b.readlink("/" + rel) : "";
      out.add(line(rel, a.mode(), a.size(), a.nlink(), sha, target));
      if (a.isDirectory()) {
        walk(b, rel, skip, out);
      }
    }
  }

  /**
   * Walks the whole tree: every readdir entry must lstat, a directory's link count must be 2
   * plus its subdirectories, and a non-directory's link count must equal the number of names
   * it has in the tree (the walk sees all of them: nothing else links into it).
   */
  public static Check check(Path root) throws IOException {
    List<String> problems = new ArrayList<>();
    Map<Long, Long> nlinkByIno = new HashMap<>();
    Map<Long, List<String>> namesByIno = new HashMap<>();
    int[] counts = new int[4];
    checkDir(root, root, problems, nlinkByIno, namesByIno, counts);
    int multi = 0;
    for (Map.Entry<Long, List<String>> e : namesByIno.entrySet()) {
      long nlink = nlinkByIno.get(e.getKey());
      if (nlink != e.getValue().size()) {
        problems.add("inode " + e.getKey() + " has nlink " + nlink + " but "
            + e.getValue().size() + " names: " + e.getValue());
      }
      if (e.getValue().size() > 1) {
        multi++;
      }
    }
    return new Check(counts[0], counts[1], counts[2], counts[3], multi, problems);
  }

  private static void checkDir(Path root, Path dir, List<String> problems,
      Map<Long, Long> nlinkByIno, Map<Long, List<String>> namesByIno, int[] counts)
      throws IOException {
    List<Path> kids = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(kids::add);
    }
    int subdirs = 0;
    for (Path p : kids) {
      String rel = root.relativize(p).toString();
      counts[0]++;
      Map<String, Object> a;
      try {
        a = Files.readAttributes(p, "unix:mode,nlink,ino", LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        problems.add("readdir lists " + rel + " but lstat fails: " + e);
        continue;
      }
      int type = (Integer) a.get("mode") & S_IFMT;
      long nlink = ((Number) a.get("nlink")).longValue();
      long ino = (Long) a.get("ino");
      if (type == S_IFDIR) {
        subdirs++;
        counts[1]++;
        checkDir(root, p, problems, nlinkByIno, namesByIno, counts);
      } else {
        counts[type == S_IFLNK ? 3 : 2]++;
        Long seen = nlinkByIno.put(ino, nlink);
        if (seen != null && seen != nlink) {
          problems.add("inode " + ino + " shows nlink " + seen + " and " + nlink
              + " under different names, e.g. " + rel);
        }
        namesByIno.computeIfAbsent(ino, k -> new ArrayList<>()).add(rel);
      }
    }
    long nlink = ((Number) Files.getAttribute(dir, "unix:nlink", LinkOption.NOFOLLOW_LINKS))
        .longValue();
    if (nlink != 2 + subdirs) {
      problems.add("directory " + (dir.equals(root) ? "/" : root.relativize(dir)) + " has nlink "
          + nlink + " with " + subdirs + " subdirectories");
    }
  }
}
