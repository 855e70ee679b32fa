package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.Modes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.function.Executable;

/** Shared fixture: an AgentFs with a fake clock, raw Vfs helpers and tree dumps. */
final class Fx {
  static final Caller ROOT = Caller.ROOT;
  static final Caller ALICE = new Caller(100, 1000, 1000, new int[0]);
  static final Caller BOB = new Caller(200, 2000, 2000, new int[0]);

  final AtomicLong clock = new AtomicLong(1_000_000_000L);
  final MemoryBackstore store;
  final AgentFs fs;
  final FsCore core;

  Fx() {
    this(MemoryBackstore.builder().build());
  }

  Fx(MemoryBackstore store) {
    this.store = store;
    this.fs = AgentFs.builder().backstore(store).clock(clock::get).build();
    this.core = fs.core();
  }

  BranchFs main() {
    try {
      return core.branch("main");
    } catch (AgentFsException e) {
      throw new AssertionError(e);
    }
  }

  long tick() {
    return clock.addAndGet(1000);
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Errno errno(Executable e) {
    AgentFsException x = assertThrows(AgentFsException.class, e);
    return x.errno();
  }

  static void expect(Errno want, Executable e) {
    assertEquals(want, errno(e));
  }

  // ------------------------------------------------------------- vfs helpers (root unless given)

  static long mkdir(BranchFs v, Caller c, long parent, String name, int mode)
      throws AgentFsException {
    long ino = v.mkdir(c, parent, b(name), mode, 0).ino();
    v.forget(ino, 1);
    return ino;
  }

  static long file(BranchFs v, Caller c, long parent, String name, int mode, String data)
      throws AgentFsException {
    Created cr = v.create(c, parent, b(name), mode, Modes.O_WRONLY | Modes.O_CREAT | Modes.O_EXCL, 0);
    if (!data.isEmpty()) {
      v.write(c, cr.attr().ino(), cr.fh(), 0, ByteBuffer.wrap(b(data)));
    }
    v.release(cr.attr().ino(), cr.fh());
    v.forget(cr.attr().ino(), 1);
    return cr.attr().ino();
  }

  static byte[] readAll(BranchFs v, long ino, long fh) throws AgentFsException {
    long size = v.getattr(ROOT, ino, 0).size();
    ByteBuffer buf = ByteBuffer.allocate((int) size);
    while (buf.hasRemaining()) {
      int n = v.read(ino, fh, buf.position(), buf);
      if (n <= 0) {
        break;
      }
    }
    byte[] out = new byte[buf.position()];
    buf.flip().get(out);
    return out;
  }

  static String readIno(BranchFs v, long ino) throws AgentFsException {
    long fh = v.open(ROOT, ino, Modes.O_RDONLY);
    try {
      return new String(readAll(v, ino, fh), StandardCharsets.UTF_8);
    } finally {
      v.release(ino, fh);
    }
  }

  static Attr attr(BranchFs v, long ino) throws AgentFsException {
    return v.getattr(ROOT, ino, 0);
  }

  static List<String> names(BranchFs v, long dir) throws AgentFsException {
    List<String> out = new ArrayList<>();
    v.readdir(ROOT, dir, 0, 0, false, (n, ino, mode, off, a) -> {
      out.add(new String(n, StandardCharsets.UTF_8));
      return true;
    });
    return out;
  }

  // ------------------------------------------------------------- table dumps and consistency

  static String content(Inode n) {
    if (n.content == null) {
      return "";
    }
    try {
      ByteBuffer buf = ByteBuffer.allocate((int) n.content.size());
      while (buf.hasRemaining()) {
        int r = n.content.read(buf.position(), buf);
        if (r <= 0) {
          break;
        }
      }
      return new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
    } catch (AgentFsException e) {
      throw new AssertionError(e);
    }
  }

  /** Path -> full description of every node reachable from the root of {@code t}. */
  static Map<String, String> dump(LongTrie<Inode> t) {
    Map<String, String> out = new TreeMap<>();
    dumpDir(t, t.get(BranchFs.ROOT), "", out);
    return out;
  }

  private static void dumpDir(LongTrie<Inode> t, Inode d, String path,
      Map<String, String> out) {
    out.put(path.isEmpty() ? "/" : path, describe(d));
    d.entries.forEach((name, e) -> {
      Inode c = t.get(e.ino());
      String p = path + "/" + name;
      if (c == null) {
        out.put(p, "MISSING " + e.ino());
      } else if (c.isDir()) {
        dumpDir(t, c, p, out);
      } else {
        out.put(p, describe(c));
      }
    });
  }

  static String describe(Inode n) {
    StringBuilder sb = new StringBuilder();
    synchronized (n) {
      sb.append("ino=").append(n.ino).append(" mode=").append(Integer.toOctalString(n.mode))
          .append(" uid=").append(n.uid).append(" gid=").append(n.gid).append(" nlink=")
          .append(n.nlink).append(" size=").append(n.size()).append(" mtime=").append(n.mtime)
          .append(" ctime=").append(n.ctime).append(" atime=").append(n.atime).append(" rdev=").append(n.rdev);
      if (n.target != null) {
        sb.append(" target=").append(new String(n.target, StandardCharsets.UTF_8));
      }
      if (n.isReg()) {
        sb.append(" data=").append(content(n));
      }
      for (Map.Entry<String, byte[]> x : new TreeMap<>(n.xattrs).entrySet()) {
        sb.append(" x:").append(x.getKey()).append('=')
            .append(new String(x.getValue(), StandardCharsets.ISO_8859_1));
      }
      if (n.isDir()) {
        sb.append(" entries=").append(n.entries.size());
      }
    }
    return sb.toString();
  }

  /** Checks link counts, entry targets, cookie index and reachability; returns problems. */
  static List<String> check(LongTrie<Inode> t) {
    List<String> bad = new ArrayList<>();
    Map<Long, Integer> names = new HashMap<>();
    Map<Long, Long> seenIn = new HashMap<>();
    t.forEach((ino, n) -> {
      if (n.ino != ino) {
        bad.add("key " + ino + " holds inode " + n.ino);
      }
      if (!n.isDir()) {
        return;
      }
      int[] subdirs = {0};
      int[] count = {0};
      n.entries.forEach((name, e) -> {
        count[0]++;
        Inode c = t.get(e.ino());
        if (c == null) {
          bad.add("dir " + ino + " entry " + name + " -> missing inode " + e.ino());
          return;
        }
        if (c.type() != e.type()) {
          bad.add("dir " + ino + " entry " + name + " type mismatch");
        }
        if (n.byCookie.get(e.cookie()) != e) {
          bad.add("dir " + ino + " entry " + name + " not in cookie index");
        }
        if (c.isDir()) {
          subdirs[0]++;
          Long prev = seenIn.put(c.ino, ino);
          if (prev != null) {
            bad.add("dir " + c.ino + " linked twice");
          }
          if (c.parent != ino) {
            bad.add("dir " + c.ino + " parent " + c.parent + " but listed in " + ino);
          }
        }
        names.merge(e.ino(), 1, Integer::sum);
      });
      if (n.byCookie.size() != count[0]) {
        bad.add("dir " + ino + " cookie index size " + n.byCookie.size() + " != " + count[0]);
      }
      if (n.nlink != 2 + subdirs[0]) {
        bad.add("dir " + ino + " nlink " + n.nlink + " != 2+" + subdirs[0]);
      }
    });
    // every inode in the table is reachable from the root (no cycles, no leaks)
    java.util.Set<Long> reached = new java.util.HashSet<>();
    java.util.ArrayDeque<Long> todo = new java.util.ArrayDeque<>(List.of(BranchFs.ROOT));
    while (!todo.isEmpty()) {
      Inode n = t.get(todo.poll());
      if (n == null || !reached.add(n.ino)) {
        continue;
      }
      if (n.isDir()) {
        n.entries.forEach((name, e) -> todo.add(e.ino()));
      }
    }
    if (reached.size() != t.size()) {
      bad.add("table holds " + t.size() + " inodes, " + reached.size() + " reachable");
    }
    t.forEach((ino, n) -> {
      if (n.isDir() || ino == BranchFs.ROOT) {
        if (ino != BranchFs.ROOT && !names.containsKey(ino)) {
          bad.add("dir " + ino + " unreachable");
        }
        return;
      }
      int want = names.getOrDefault(ino, 0);
      if (n.nlink != want) {
        bad.add("inode " + ino + " nlink " + n.nlink + " but " + want + " names");
      }
    });
    return bad;
  }
}
