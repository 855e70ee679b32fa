package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a tree must hold according to the "synced ..." replies of {@code fsops.py}: files with
 * their sha256 and directories. It also picks the next operation for a random writer, valid
 * for the current tree, and checks a manifest of the real tree against itself.
 */
final class TreeModel {
  private static final String[] DIRS = {"a", "a/b", "c"};
  private static final long[] SIZES = {0, 1, 511, 4096, 4097, 65_536, 131_073, 1 << 20,
      (3 << 20) + 7};

  /** Paths below this directory are unsynced churn: consistency is checked, content not. */
  static final String JUNK = "junk";

  final TreeMap<String, String> files = new TreeMap<>();
  final TreeSet<String> dirs = new TreeSet<>();

  TreeModel copy() {
    TreeModel m = new TreeModel();
    m.files.putAll(files);
    m.dirs.addAll(dirs);
    return m;
  }

  /** Applies one "synced ..." reply. */
  void apply(String reply) {
    String[] a = reply.split(" ");
    if (!a[0].equals("synced")) {
      throw new AssertionError("not a synced reply: " + reply);
    }
    switch (a[1]) {
      case "write", "patch", "truncate" -> files.put(a[2], a[3]);
      case "rename" -> files.put(a[3], files.remove(a[2]));
      case "delete" -> files.remove(a[2]);
      case "mkdir" -> dirs.add(a[2]);
      case "rmdir" -> dirs.remove(a[2]);
      default -> throw new AssertionError("unknown reply: " + reply);
    }
  }

  /** A random operation that is valid for this tree, as an fsops.py command. */
  String nextOp(Random r) {
    List<String> existing = new ArrayList<>(files.keySet());
    int kind = r.nextInt(100);
    if (kind < 15 && !existing.isEmpty()) {
      String f = pick(existing, r);
      return "patch " + f + " " + r.nextInt(200_000) + " " + (1 + r.nextInt(300_000));
    }
    if (kind < 25 && !existing.isEmpty()) {
      return "truncate " + pick(existing, r) + " " + r.nextInt(300_000);
    }
    if (kind < 40 && !existing.isEmpty()) {
      String from = pick(existing, r);
      String to = randomFile(r);
      if (!to.equals(from)) {
        return "rename " + from + " " + to;
      }
    }
    if (kind < 50 && !existing.isEmpty()) {
      return "delete " + pick(existing, r);
    }
    if (kind < 58) {
      for (String d : DIRS) {
        if (!dirs.contains(d) && (parent(d).isEmpty() || dirs.contains(parent(d)))) {
          return "mkdir " + d;
        }
      }
    }
    if (kind < 64) {
      for (String d : dirs) {
        if (files.keySet().stream().noneMatch(f -> f.startsWith(d + "/"))
            && dirs.stream().noneMatch(x -> x.startsWith(d + "/"))) {
          return "rmdir " + d;
        }
      }
    }
    long size = SIZES[r.nextInt(SIZES.length)];
    return "write " + randomFile(r) + " " + size;
  }

  private String randomFile(Random r) {
    List<String> parents = new ArrayList<>(dirs);
    parents.add("");
    String d = pick(parents, r);
    return (d.isEmpty() ? "" : d + "/") + "f" + r.nextInt(6);
  }

  private static String pick(List<String> l, Random r) {
    return l.get(r.nextInt(l.size()));
  }

  private static String parent(String p) {
    int i = p.lastIndexOf('/');
    return i < 0 ? "" : p.substring(0, i);
  }

  /**
   * Checks {@code fsops.py} manifest lines of a tree: outside {@link #JUNK}, exactly these
   * files with these contents and these directories; everywhere, every entry was lstat'ed,
   * directories have nlink 2 + subdirectories and files nlink 1.
   */
  void check(List<String> manifest, String what) {
    TreeMap<String, String> gotFiles = new TreeMap<>();
    TreeSet<String> gotDirs = new TreeSet<>();
    for (String line : manifest) {
      String[] m = line.split(" ", 7);
      String type = m[1];
      int nlink = Integer.parseInt(m[2]);
      String path = m[6];
      if (type.equals("d")) {
        assertEquals(2 + Integer.parseInt(m[4]), nlink, what + ": nlink of directory " + path);
      } else {
        assertEquals(1, nlink, what + ": nlink of " + path);
      }
      if (path.equals(JUNK) || path.startsWith(JUNK + "/")) {
        continue;
      }
      switch (type) {
        case "d" -> {
          if (!path.equals(".")) {
            gotDirs.add(path);
          }
        }
        case "f" -> gotFiles.put(path, m[5]);
        default -> throw new AssertionError(what + ": unexpected " + line);
      }
    }
    assertEquals(dirs, gotDirs, what + ": directories");
    assertEquals(files, gotFiles, what + ": files and their sha256");
  }
}
