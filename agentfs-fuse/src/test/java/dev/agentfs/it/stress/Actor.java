package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * One stress actor: until its deadline it mutates its own names (all carry its id) in
 * directories every actor shares, keeping a model of what it made so every operation is one
 * that must succeed, and checking every read against the model. Completed mutations go to its
 * log for a replay elsewhere. About one operation in eight goes to the contended area
 * ({@link #RACE}), where all actors race on the same few names and only the errnos such races
 * may produce (ENOENT, EEXIST, ENOTEMPTY, per operation) are accepted.
 *
 * <p>In the contended area a name holds one kind of node only (f*: files and symlinks, d*:
 * directories, d*&#47;g*: files), so every outcome is defined and a two-call java.nio operation
 * (delete is lstat then unlink or rmdir) cannot see a kind change in between.
 */
public final class Actor implements Runnable {
  /** Directories every actor writes into; made before the actors start, never removed. */
  public static final List<String> SHARED = List.of("s0", "s1", "s2", "s3", "s0/deep", "s2/deep");

  /** The contended area, left out of the replay comparison. */
  public static final String RACE = "race";

  private static final int MAX_FILE = 96 << 10;
  private static final int MAX_OWN = 60;
  private static final int[] MODES = {0600, 0640, 0644, 0700, 0755};
  private static final String[] TARGETS = {"nowhere", "../s1", "s2/deep/x", "."};

  /** The model of a node: a directory (own entries only), a file, or a symlink. */
  private static final class Node {
    final boolean dir;
    final boolean shared;
    final Map<String, Node> kids = new TreeMap<>();
    byte[] data = new byte[0];
    String target = "";

    Node(boolean dir, boolean shared) {
      this.dir = dir;
      this.shared = shared;
    }

    boolean file() {
      return !dir && target.isEmpty();
    }
  }

  private record Entry(Node parent, String name, Node node, String path) {}

  private record DirRef(Node node, String path, int depth) {}

  @FunctionalInterface
  private interface Call {
    void run() throws AgentFsException;
  }

  private final int id;
  private final String who;
  private final Ops ops;
  private final Random rnd;
  private final long deadlineNs;
  private final Tally tally;
  private final List<Rec> log = new ArrayList<>();
  private final Node root = new Node(true, true);
  private int seq;

  public Actor(int id, String who, Ops ops, long seed, long deadlineNs, Tally tally) {
    this.id = id;
    this.who = who;
    this.ops = ops;
    this.rnd = new Random(seed);
    this.deadlineNs = deadlineNs;
    this.tally = tally;
    for (String s : SHARED) {
      Node d = root;
      for (String part : s.split("/")) {
        d = d.kids.computeIfAbsent(part, k -> new Node(true, true));
      }
    }
  }

  /** The mutations this actor completed, in order. */
  public List<Rec> log() {
    return log;
  }

  public String who() {
    return who;
  }

  @Override
  public void run() {
    try {
      while (System.nanoTime() < deadlineNs) {
        seq++;
        if (rnd.nextInt(8) == 0) {
          race();
        } else if (!step()) {
          return;
        }
      }
    } catch (RuntimeException | AssertionError e) {
      tally.failure(who + ": " + e);
    }
  }

  // ------------------------------------------------------------------ own names

  private static String join(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }

  private void walk(Node d, String path, int depth, List<Entry> own, List<DirRef> dirs) {
    dirs.add(new DirRef(d, path, depth));
    for (Map.Entry<String, Node> e : d.kids.entrySet()) {
      String p = join(path, e.getKey());
      Node n = e.getValue();
      if (!n.shared) {
        own.add(new Entry(d, e.getKey(), n, p));
      }
      if (n.dir) {
        walk(n, p, depth + 1, own, dirs);
      }
    }
  }

  private <T> T pick(List<T> l) {
    return l.get(rnd.nextInt(l.size()));
  }

  private boolean step() {
    List<Entry> own = new ArrayList<>();
    List<DirRef> dirs = new ArrayList<>();
    walk(root, "", 0, own, dirs);
    List<Entry> files = own.stream().filter(e -> e.node.file()).toList();
    List<Entry> nonDirs = own.stream().filter(e -> !e.node.dir).toList();
    List<Entry> emptyDirs = own.stream().filter(e -> e.node.dir && e.node.kids.isEmpty())
        .toList();
    int r = rnd.nextInt(100);
    String kind = r < 14 ? "create" : r < 28 ? "write" : r < 40 ? "read" : r < 48 ? "truncate"
        : r < 60 ? "rename" : r < 68 ? "unlink" : r < 76 ? "link" : r < 82 ? "mkdir"
        : r < 88 ? "rmdir" : r < 94 ? "symlink" : "chmod";
    if (own.size() >= MAX_OWN && Set.of("create", "link", "mkdir", "symlink").contains(kind)) {
      kind = emptyDirs.isEmpty() || r % 2 == 0 ? "unlink" : "rmdir";
    }
    if ((files.isEmpty() && Set.of("write", "read", "truncate", "link", "chmod").contains(kind))
        || (nonDirs.isEmpty() && kind.equals("unlink"))
        || (emptyDirs.isEmpty() && kind.equals("rmdir"))
        || (own.isEmpty() && kind.equals("rename"))) {
      kind = "create";
    }
    try {
      switch (kind) {
        case "create" -> create(dirs);
        case "write" -> write(pick(files));
        case "read" -> {
          if (!read(pick(files))) {
            return false;
          }
        }
        case "truncate" -> truncate(pick(files));
        case "rename" -> rename(pick(own), dirs, nonDirs);
        case "unlink" -> unlink(pick(nonDirs));
        case "link" -> link(pick(files), dirs);
        case "mkdir" -> mkdir(dirs);
        case "rmdir" -> rmdir(pick(emptyDirs));
        case "symlink" -> symlink(dirs);
        case "chmod" -> chmod(pick(files));
        default -> throw new IllegalStateException(kind);
      }
    } catch (AgentFsException e) {
      tally.failure(who + " " + kind + ": " + e.getMessage());
      return false;
    }
    tally.op(kind);
    return true;
  }

  private void done(Rec r) {
    log.add(r);
  }

  private void create(List<DirRef> dirs) throws AgentFsException {
    DirRef d = pick(dirs);
    String name = "a" + id + "f" + seq;
    String path = join(d.path, name);
    int len = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(16384);
    ops.create(path, 0644, seq, len);
    Node f = new Node(false, false);
    f.data = Data.bytes(seq, len);
    d.node.kids.put(name, f);
    done(new Rec("create", path, "", 0644, len, seq));
  }

  private void write(Entry e) throws AgentFsException {
    byte[] cur = e.node.data;
    long off = rnd.nextInt(4) == 0 ? cur.length + rnd.nextInt(4096) : rnd.nextInt(cur.length + 1);
    int len = 1 + rnd.nextInt(8192);
    if (off + len > MAX_FILE) {
      off = 0;
    }
    ops.write(e.path, off, seq, len);
    byte[] d = Arrays.copyOf(cur, (int) Math.max(cur.length, off + len));
    System.arraycopy(Data.bytes(seq, len), 0, d, (int) off, len);
    e.node.data = d;
    done(new Rec("write", e.path, "", off, len, seq));
  }

  private boolean read(Entry e) throws AgentFsException {
    String got = ops.read(e.path);
    String want = Data.sha256(e.node.data);
    if (!got.equals(want)) {
      tally.failure(who + " read " + e.path + ": content differs from what this actor wrote ("
          + e.node.data.length + " bytes expected)");
      return false;
    }
    return true;
  }

  private void truncate(Entry e) throws AgentFsException {
    int size = rnd.nextInt(Math.min(2 * e.node.data.length + 100, MAX_FILE));
    ops.truncate(e.path, size);
    e.node.data = Arrays.copyOf(e.node.data, size);
    done(new Rec("truncate", e.path, "", size, 0, 0));
  }

  private void rename(Entry src, List<DirRef> dirs, List<Entry> nonDirs)
      throws AgentFsException {
    if (!src.node.dir && nonDirs.size() > 1 && rnd.nextInt(4) == 0) {
      // Over another of our own names: it is replaced (or, if it is a hard link of the
      // same file, POSIX says nothing happens at all).
      Entry dst = pick(nonDirs);
      if (!dst.path.equals(src.path)) {
        ops.rename(src.path, dst.path);
        if (dst.node != src.node) {
          src.parent.kids.remove(src.name);
          dst.parent.kids.put(dst.name, src.node);
        }
        done(Rec.of("rename", src.path, dst.path));
        return;
      }
    }
    List<DirRef> targets = dirs.stream().filter(d -> !src.node.dir
        || !(d.path.equals(src.path) || d.path.startsWith(src.path + "/"))).toList();
    DirRef td = pick(targets);
    String name = "a" + id + "r" + seq;
    String to = join(td.path, name);
    ops.rename(src.path, to);
    src.parent.kids.remove(src.name);
    td.node.kids.put(name, src.node);
    done(Rec.of("rename", src.path, to));
  }

  private void unlink(Entry e) throws AgentFsException {
    ops.unlink(e.path);
    e.parent.kids.remove(e.name);
    done(Rec.of("unlink", e.path));
  }

  private void link(Entry e, List<DirRef> dirs) throws AgentFsException {
    DirRef d = pick(dirs);
    String name = "a" + id + "h" + seq;
    String path = join(d.path, name);
    ops.link(e.path, path);
    d.node.kids.put(name, e.node);
    done(Rec.of("link", e.path, path));
  }

  private void mkdir(List<DirRef> dirs) throws AgentFsException {
    List<DirRef> shallow = dirs.stream().filter(d -> d.depth < 4).toList();
    DirRef d = pick(shallow);
    String name = "a" + id + "d" + seq;
    String path = join(d.path, name);
    ops.mkdir(path, 0755);
    d.node.kids.put(name, new Node(true, false));
    done(new Rec("mkdir", path, "", 0755, 0, 0));
  }

  private void rmdir(Entry e) throws AgentFsException {
    ops.rmdir(e.path);
    e.parent.kids.remove(e.name);
    done(Rec.of("rmdir", e.path));
  }

  private void symlink(List<DirRef> dirs) throws AgentFsException {
    DirRef d = pick(dirs);
    String name = "a" + id + "l" + seq;
    String path = join(d.path, name);
    String target = rnd.nextBoolean() ? "t" + seq : pick(Arrays.asList(TARGETS));
    ops.symlink(target, path);
    Node l = new Node(false, false);
    l.target = target;
    d.node.kids.put(name, l);
    done(Rec.of("symlink", path, target));
  }

  private void chmod(Entry e) throws AgentFsException {
    int mode = MODES[rnd.nextInt(MODES.length)];
    ops.chmod(e.path, mode);
    done(new Rec("chmod", e.path, "", mode, 0, 0));
  }

  // ------------------------------------------------------------------ contended area

  private void race() {
    int f1 = rnd.nextInt(4);
    int f2 = (f1 + 1 + rnd.nextInt(3)) % 4;
    int d1 = rnd.nextInt(2);
    String fa = RACE + "/f" + f1;
    String fb = RACE + "/f" + f2;
    String da = RACE + "/d" + d1;
    String db = RACE + "/d" + (1 - d1);
    String g = da + "/g" + rnd.nextInt(2);
    int tag = seq;
    int len = rnd.nextInt(3000);
    Errno enoent = Errno.ENOENT;
    Errno eexist = Errno.EEXIST;
    Errno enotempty = Errno.ENOTEMPTY;
    switch (rnd.nextInt(15)) {
      case 0 -> attempt("create", () -> ops.create(fa, 0644, tag, len), eexist);
      case 1 -> attempt("write", () -> ops.write(fa, len, tag, 100), enoent);
      case 2 -> attempt("read", () -> ops.read(fa), enoent);
      case 3 -> attempt("truncate", () -> ops.truncate(fa, 0), enoent);
      case 4 -> attempt("unlink", () -> ops.unlink(fa), enoent);
      case 5 -> attempt("rename", () -> ops.rename(fa, fb), enoent);
      case 6 -> attempt("link", () -> ops.link(fa, fb), enoent, eexist);
      case 7 -> attempt("symlink", () -> ops.symlink("nowhere", fa), eexist);
      case 8 -> attempt("mkdir", () -> ops.mkdir(da, 0755), eexist);
      case 9 -> attempt("rmdir", () -> ops.rmdir(da), enoent, enotempty);
      case 10 -> attempt("renamedir", () -> ops.rename(da, db), enoent, enotempty, eexist);
      case 11 -> attempt("createin", () -> ops.create(g, 0644, tag, len), enoent, eexist);
      case 12 -> attempt("unlinkin", () -> ops.unlink(g), enoent);
      case 13 -> attempt("scan", () -> ops.scan(RACE));
      default -> attempt("scandir", () -> ops.scan(da), enoent);
    }
  }

  private void attempt(String kind, Call call, Errno... allowed) {
    try {
      call.run();
      tally.race(kind, "ok");
    } catch (AgentFsException e) {
      tally.race(kind, e.errno().name());
      if (!Arrays.asList(allowed).contains(e.errno())) {
        tally.failure(who + " race " + kind + ": " + e.getMessage() + " (allowed: "
            + Arrays.toString(allowed) + ")");
      }
    }
  }
}
