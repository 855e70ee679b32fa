package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random operation sequences run against the core (Branch path API and Vfs) and against a real
 * directory on the host through java.nio; results (errno classes) and final trees must agree.
 */
class ModelBasedTest {
  static final String[] NAMES = {"a", "b", "c", "d"};
  static final String[] TARGETS = {"a", "b", "c", "a/b", "b/c", "zz", "d", "c/a/b"};
  static final int[] MODES = {0755, 0644, 0700, 0600, 0444, 0555, 0777};
  static final LinkOption NF = LinkOption.NOFOLLOW_LINKS;

  @TempDir
  Path tmp;

  /** Outcome of one op: "ok", "ok <value>", or the errno name. */
  interface CoreOp {
    String run() throws AgentFsException;
  }

  interface HostOp {
    String run() throws IOException;
  }

  static String core(CoreOp op) {
    try {
      return op.run();
    } catch (AgentFsException e) {
      return e.errno().name();
    }
  }

  static String host(HostOp op) {
    try {
      return op.run();
    } catch (IOException e) {
      return errnoOf(e);
    }
  }

  static String errnoOf(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "ENOENT";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "EEXIST";
    }
    if (e instanceof DirectoryNotEmptyException) {
      return "ENOTEMPTY";
    }
    if (e instanceof NotDirectoryException) {
      return "ENOTDIR";
    }
    if (e instanceof NotLinkException) {
      return "EINVAL";
    }
    if (e instanceof AccessDeniedException) {
      return "EACCES";
    }
    String r = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
        : String.valueOf(e.getMessage());
    if (r.contains("Not a directory")) {
      return "ENOTDIR";
    }
    if (r.contains("Is a directory")) {
      return "EISDIR";
    }
    if (r.contains("Invalid argument")) {
      return "EINVAL";
    }
    if (r.contains("Operation not permitted")) {
      return "EPERM";
    }
    if (r.contains("symbolic links")) {
      return "ELOOP";
    }
    if (r.contains("Directory not empty")) {
      return "ENOTEMPTY";
    }
    if (r.contains("File exists")) {
      return "EEXIST";
    }
    if (r.contains("No such file")) {
      return "ENOENT";
    }
    if (r.contains("Permission denied")) {
      return "EACCES";
    }
    return "HOST:" + e;
  }

  static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] all = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ};
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << i)) != 0) {
        s.add(all[i]);
      }
    }
    return s;
  }

  static String randomPath(Random r) {
    int depth = 1 + r.nextInt(3);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < depth; i++) {
      sb.append('/').append(NAMES[r.nextInt(NAMES.length)]);
    }
    return sb.toString();
  }

  static byte[] data(Random r) {
    byte[] b = new byte[r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(3000)];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) ('a' + r.nextInt(26));
    }
    return b;
  }

  @Test
  void randomSequencesAgreeWithTheHost() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"));
    Path probe = Files.createFile(tmp.resolve("probe"));
    assumeTrue((int) Files.getAttribute(probe, "unix:mode") == (Modes.S_IFREG | 0644),
        "needs umask 022");
    Files.delete(probe);
    long seed0 = Long.getLong("model.seed", System.nanoTime());
    int sequences = Integer.getInteger("model.sequences", 1500);
    long deadline = System.nanoTime() + 45_000_000_000L;
    int ran = 0;
    for (int s = 0; s < sequences && System.nanoTime() < deadline; s++) {
      runSequence(seed0 + s);
      ran++;
    }
    assertEquals(true, ran > 100, "ran only " + ran + " sequences");
  }

  void runSequence(long seed) throws Exception {
    Random r = new Random(seed);
    Path root = Files.createTempDirectory(tmp, "m");
    List<String> log = new ArrayList<>();
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch br = fs.main();
      Vfs vfs = br.vfs();
      Map<String, String> snapshotTree = null;
      int snapAt = r.nextInt(3) == 0 ? -1 : r.nextInt(40);
      int ops = 10 + r.nextInt(40);
      for (int i = 0; i < ops; i++) {
        if (i == snapAt) {
          // snapshot here; continue either in main or in a new branch from the snapshot,
          // and check at the end that the snapshot still shows this moment's tree
          Snapshot snap = br.snapshot("s");
          snapshotTree = hostTree(root, root);
          log.add("snapshot");
          if (r.nextBoolean()) {
            br = fs.createBranch("b", snap);
            vfs = br.vfs();
            log.add("switch to branch b");
          }
        }
        final Branch fbr = br;
        final Vfs fvfs = vfs;
        String p = randomPath(r);
        String q = randomPath(r);
        Path hp = root.resolve(p.substring(1));
        Path hq = root.resolve(q.substring(1));
        String what;
        String c;
        String h;
        switch (r.nextInt(15)) {
          case 0 -> {
            what = "mkdir " + p;
            c = core(() -> {
              fbr.mkdir(p);
              return "ok";
            });
            h = host(() -> {
              Files.createDirectory(hp);
              return "ok";
            });
          }
          case 1, 2 -> {
            byte[] d = data(r);
            what = "write " + p + " " + d.length;
            c = core(() -> {
              fbr.write(p, d);
              return "ok";
            });
            h = host(() -> {
              Files.write(hp, d);
              return "ok";
            });
          }
          case 3 -> {
            byte[] d = data(r);
            what = "append " + p + " " + d.length;
            c = core(() -> {
              fbr.append(p, d);
              return "ok";
            });
            h = host(() -> {
              Files.write(hp, d, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                  StandardOpenOption.WRITE);
              return "ok";
            });
          }
          case 4 -> {
            what = "read " + p;
            c = core(() -> "ok " + new String(fbr.read(p), StandardCharsets.ISO_8859_1));
            h = host(() -> "ok " + new String(Files.readAllBytes(hp), StandardCharsets.ISO_8859_1));
          }
          case 5 -> {
            what = "delete " + p;
            c = core(() -> {
              fbr.delete(p);
              return "ok";
            });
            h = host(() -> {
              Files.delete(hp);
              return "ok";
            });
          }
          case 6, 7 -> {
            what = "rename " + p + " " + q;
            c = core(() -> {
              fbr.rename(p, q);
              return "ok";
            });
            h = host(() -> {
              Files.move(hp, hq, StandardCopyOption.ATOMIC_MOVE);
              return "ok";
            });
          }
          case 8 -> {
            what = "link " + p + " " + q;
            c = core(() -> {
              fbr.link(p, q);
              return "ok";
            });
            h = host(() -> {
              Files.createLink(hq, hp);
              return "ok";
            });
          }
          case 9 -> {
            String t = TARGETS[r.nextInt(TARGETS.length)];
            what = "symlink " + t + " " + p;
            c = core(() -> {
              fbr.symlink(t, p);
              return "ok";
            });
            h = host(() -> {
              Files.createSymbolicLink(hp, Path.of(t));
              return "ok";
            });
          }
          case 10 -> {
            int m = MODES[r.nextInt(MODES.length)];
            what = "chmod " + p + " " + Integer.toOctalString(m);
            c = core(() -> {
              fbr.chmod(p, m);
              return "ok";
            });
            h = host(() -> {
              Files.setPosixFilePermissions(hp, perms(m));
              return "ok";
            });
          }
          case 12 -> {
            what = "stat " + p;
            c = core(() -> {
              Attr a = fbr.stat(p);
              return "ok " + describe(a.mode(), a.nlink(), a.size(), "");
            });
            h = host(() -> {
              Map<String, Object> a = Files.readAttributes(hp, "unix:mode,nlink,size");
              return "ok " + describe((int) a.get("mode"), (int) a.get("nlink"),
                  (long) a.get("size"), "");
            });
          }
          case 13 -> {
            what = "list " + p;
            c = core(() -> "ok " + new java.util.TreeSet<>(fbr.list(p)));
            h = host(() -> {
              try (Stream<Path> st = Files.list(hp)) {
                return "ok " + new java.util.TreeSet<>(
                    st.map(x -> x.getFileName().toString()).toList());
              }
            });
          }
          case 14 -> {
            long size = r.nextInt(4000);
            what = "truncate " + p + " " + size;
            c = core(() -> {
              fbr.truncate(p, size);
              return "ok";
            });
            h = host(() -> {
              try (FileChannel ch = FileChannel.open(hp, StandardOpenOption.WRITE)) {
                if (size < ch.size()) {
                  ch.truncate(size);
                } else if (size > ch.size()) {
                  ch.write(ByteBuffer.allocate(1), size - 1);
                }
              }
              return "ok";
            });
          }
          default -> {
            byte[] d = data(r);
            long off = r.nextInt(5000);
            what = "pwrite " + p + " @" + off + " " + d.length;
            c = core(() -> {
              long ino = fbr.stat(p).ino();
              long fh = fvfs.open(Caller.ROOT, ino, Modes.O_WRONLY);
              try {
                return "ok " + fvfs.write(Caller.ROOT, ino, fh, off, ByteBuffer.wrap(d));
              } finally {
                fvfs.release(ino, fh);
              }
            });
            h = host(() -> {
              try (FileChannel ch = FileChannel.open(hp, StandardOpenOption.WRITE)) {
                return "ok " + ch.write(ByteBuffer.wrap(d), off);
              }
            });
          }
        }
        log.add(what + " -> " + c);
        if (!c.equals(h)) {
          throw new AssertionError("seed=" + seed + " op " + i + ": " + what + "\n core: "
              + abbrev(c) + "\n host: " + abbrev(h) + "\n history:\n  " + String.join("\n  ", log));
        }
      }
      if (snapshotTree != null) {
        Branch check = fs.createBranch("check", fs.getSnapshot("s"));
        Map<String, String> st = coreTree(check, "/");
        if (!st.equals(snapshotTree)) {
          throw new AssertionError("seed=" + seed + " snapshot changed\n snap: " + st
              + "\n then: " + snapshotTree + "\n history:\n  " + String.join("\n  ", log));
        }
      }
      Map<String, String> ct = coreTree(br, "/");
      Map<String, String> ht = hostTree(root, root);
      if (!ct.equals(ht)) {
        throw new AssertionError("seed=" + seed + " trees differ\n core: " + ct + "\n host: "
            + ht + "\n history:\n  " + String.join("\n  ", log));
      }
    } finally {
      try (Stream<Path> w = Files.walk(root)) {
        for (Path x : w.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(x);
        }
      }
    }
  }

  static String abbrev(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "...(" + s.length() + ")" : s;
  }

  static String describe(int mode, int nlink, long size, String extra) {
    int type = mode & Modes.S_IFMT;
    String t = type == Modes.S_IFDIR ? "d" : type == Modes.S_IFLNK ? "l" : type == Modes.S_IFREG ? "f" : "?";
    String perm = type == Modes.S_IFLNK ? "" : " " + Integer.toOctalString(mode & 07777);
    String sz = type == Modes.S_IFDIR ? "" : " size=" + size;
    return t + perm + " nlink=" + nlink + sz + " " + extra;
  }

  static Map<String, String> coreTree(Branch br, String dir) throws AgentFsException {
    Map<String, String> out = new TreeMap<>();
    for (String n : br.list(dir)) {
      String p = dir.equals("/") ? "/" + n : dir + "/" + n;
      Attr a = br.lstat(p);
      String extra = "";
      if (a.isRegular()) {
        extra = new String(br.read(p), StandardCharsets.ISO_8859_1).hashCode() + "";
      } else if (a.isSymlink()) {
        extra = "-> " + br.readlink(p);
      }
      out.put(p, describe(a.mode(), a.nlink(), a.size(), extra));
      if (a.isDirectory()) {
        out.putAll(coreTree(br, p));
      }
    }
    return out;
  }

  static Map<String, String> hostTree(Path root, Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    List<Path> kids;
    try (Stream<Path> s = Files.list(dir)) {
      kids = s.toList();
    }
    for (Path k : kids) {
      String p = "/" + root.relativize(k).toString();
      Map<String, Object> a = Files.readAttributes(k, "unix:mode,nlink,size", NF);
      int mode = (int) a.get("mode");
      String extra = "";
      if ((mode & Modes.S_IFMT) == Modes.S_IFREG) {
        extra = new String(Files.readAllBytes(k), StandardCharsets.ISO_8859_1).hashCode() + "";
      } else if ((mode & Modes.S_IFMT) == Modes.S_IFLNK) {
        extra = "-> " + Files.readSymbolicLink(k);
      }
      out.put(p, describe(mode, (int) a.get("nlink"), (long) a.get("size"), extra));
      if ((mode & Modes.S_IFMT) == Modes.S_IFDIR) {
        out.putAll(hostTree(root, k));
      }
    }
    return out;
  }
}
