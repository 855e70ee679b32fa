package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SemanticsTest {
  Fx fx;
  BranchFs v;

  @BeforeEach
  void setUp() {
    fx = new Fx();
    v = fx.main();
  }

  void consistent() {
    assertEquals(List.of(), check(v.st.table));
  }

  int nlink(long ino) throws AgentFsException {
    return attr(v, ino).nlink();
  }

  long write(long ino, long fh, long off, String s) throws AgentFsException {
    return v.write(ROOT, ino, fh, off, ByteBuffer.wrap(b(s)));
  }

  @Test
  void nlinkForDirsAndFiles() throws AgentFsException {
    assertEquals(2, nlink(Vfs.ROOT));
    long a = mkdir(v, ROOT, Vfs.ROOT, "a", 0755);
    long b = mkdir(v, ROOT, Vfs.ROOT, "b", 0755);
    assertEquals(4, nlink(Vfs.ROOT));
    long c = mkdir(v, ROOT, a, "c", 0755);
    assertEquals(3, nlink(a));
    v.rename(ROOT, a, b("c"), b, b("c"), 0);
    assertEquals(2, nlink(a));
    assertEquals(3, nlink(b));
    assertEquals(2, nlink(c));
    v.rename(ROOT, b, b("c"), b, b("c2"), 0);
    assertEquals(3, nlink(b));
    v.rmdir(ROOT, b, b("c2"));
    assertEquals(2, nlink(b));
    long f = Fx.file(v, ROOT, a, "f", 0644, "x");
    assertEquals(1, nlink(f));
    v.link(ROOT, f, b, b("g"));
    v.link(ROOT, f, a, b("h"));
    assertEquals(3, nlink(f));
    assertEquals(f, v.lookup(ROOT, b, b("g")).ino());
    v.unlink(ROOT, a, b("f"));
    assertEquals(2, nlink(f));
    assertEquals("x", readIno(v, f));
    // rename over an existing empty directory and over a file
    long d1 = mkdir(v, ROOT, a, "d1", 0755);
    mkdir(v, ROOT, b, "d2", 0755);
    assertEquals(3, nlink(a));
    assertEquals(3, nlink(b));
    v.rename(ROOT, a, b("d1"), b, b("d2"), 0);
    assertEquals(2, nlink(a));
    assertEquals(3, nlink(b));
    assertEquals(d1, v.lookupNoRef(ROOT, b, b("d2")));
    long other = Fx.file(v, ROOT, a, "other", 0644, "other");
    v.rename(ROOT, a, b("other"), b, b("g"), 0);
    assertEquals(1, nlink(f));
    assertEquals(other, v.lookupNoRef(ROOT, b, b("g")));
    consistent();
  }

  @Test
  void renameHardLinkOntoSiblingIsNoOp() throws AgentFsException {
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "x");
    v.link(ROOT, f, Vfs.ROOT, b("g"));
    var before = dump(v.st.table);
    fx.tick();
    v.rename(ROOT, Vfs.ROOT, b("f"), Vfs.ROOT, b("g"), 0);
    assertEquals(before, dump(v.st.table));
    assertEquals(2, nlink(f));
    consistent();
  }

  @Test
  void exchangeFileAndDirAcrossParents() throws AgentFsException {
    long a = mkdir(v, ROOT, Vfs.ROOT, "a", 0755);
    long b = mkdir(v, ROOT, Vfs.ROOT, "b", 0755);
    long d = mkdir(v, ROOT, a, "d", 0755);
    long f = Fx.file(v, ROOT, b, "f", 0644, "ff");
    v.rename(ROOT, a, b("d"), b, b("f"), RENAME_EXCHANGE);
    assertEquals(f, v.lookupNoRef(ROOT, a, b("d")));
    assertEquals(d, v.lookupNoRef(ROOT, b, b("f")));
    assertEquals(2, nlink(a));
    assertEquals(3, nlink(b));
    assertEquals(b, v.lookupNoRef(ROOT, d, b("..")));
    // exchange two files in one dir
    long g = Fx.file(v, ROOT, a, "g", 0644, "gg");
    v.rename(ROOT, a, b("g"), a, b("d"), RENAME_EXCHANGE);
    assertEquals("gg", readIno(v, v.lookupNoRef(ROOT, a, b("d"))));
    assertEquals(g, v.lookupNoRef(ROOT, a, b("d")));
    v.rename(ROOT, a, b("g"), a, b("new"), RENAME_NOREPLACE);
    assertEquals(f, v.lookupNoRef(ROOT, a, b("new")));
    consistent();
    assertEquals("/b/f", TreeDiff.path(v.st.table, v.node(d)));
  }

  @Test
  void unlinkedButOpenFileLivesUntilRelease() throws AgentFsException {
    int base = fx.core.liveContents();
    Created c = v.create(ROOT, Vfs.ROOT, b("f"), 0644, O_CREAT | O_RDWR, 0);
    long ino = c.attr().ino();
    write(ino, c.fh(), 0, "data");
    v.unlink(ROOT, Vfs.ROOT, b("f"));
    v.forget(ino, 1);
    assertEquals(0, nlink(ino));
    write(ino, c.fh(), 4, "more");
    assertEquals("datamore", new String(readAll(v, ino, c.fh()), StandardCharsets.UTF_8));
    assertEquals(base + 1, fx.core.liveContents());
    v.release(ino, c.fh());
    assertEquals(base, fx.core.liveContents());
    expect(Errno.ENOENT, () -> v.getattr(ROOT, ino, 0));
    consistent();
  }

  @Test
  void unlinkedOpenFileAcrossASnapshotIsFreedOnRelease() throws AgentFsException {
    int base = fx.core.liveContents();
    Created c = v.create(ROOT, Vfs.ROOT, b("f"), 0644, O_CREAT | O_RDWR, 0);
    long ino = c.attr().ino();
    write(ino, c.fh(), 0, "data");
    v.forget(ino, 1);
    v.unlink(ROOT, Vfs.ROOT, b("f"));
    fx.core.snapshot("main", "s1");
    write(ino, c.fh(), 4, "more");
    fx.core.snapshot("main", "s2");
    assertEquals("datamore", new String(readAll(v, ino, c.fh()), StandardCharsets.UTF_8));
    v.release(ino, c.fh());
    assertEquals(base, fx.core.liveContents(), "orphan content leaked after release");
  }

  @Test
  void tmpfileThenLink() throws AgentFsException {
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0755);
    Created t = v.tmpfile(ROOT, d, 0600, O_RDWR, 0);
    long ino = t.attr().ino();
    assertEquals(0, t.attr().nlink());
    assertEquals(List.of(".", ".."), names(v, d));
    write(ino, t.fh(), 0, "tmp");
    v.link(ROOT, ino, d, b("named"));
    assertEquals(1, nlink(ino));
    v.release(ino, t.fh());
    assertEquals("tmp", readIno(v, v.lookupNoRef(ROOT, d, b("named"))));
    consistent();
    // O_EXCL tmpfiles may not be linked
    Created x = v.tmpfile(ROOT, d, 0600, O_RDWR | O_EXCL, 0);
    expect(Errno.ENOENT, () -> v.link(ROOT, x.attr().ino(), d, b("x")));
    int live = fx.core.liveContents();
    write(x.attr().ino(), x.fh(), 0, "y");
    assertEquals(live + 1, fx.core.liveContents());
    v.release(x.attr().ino(), x.fh());
    v.forget(x.attr().ino(), 1);
    assertEquals(live, fx.core.liveContents());
  }

  @Test
  void timestamps() throws AgentFsException {
    long t0 = fx.tick();
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0755);
    Attr da = attr(v, d);
    assertEquals(t0, da.mtimeNs());
    assertEquals(t0, attr(v, Vfs.ROOT).mtimeNs());
    long t1 = fx.tick();
    long f = Fx.file(v, ROOT, d, "f", 0644, "");
    assertEquals(t1, attr(v, d).mtimeNs());
    assertEquals(t1, attr(v, d).ctimeNs());
    assertEquals(t1, attr(v, f).ctimeNs());
    long t2 = fx.tick();
    long fh = v.open(ROOT, f, O_WRONLY);
    write(f, fh, 0, "abc");
    assertEquals(t2, attr(v, f).mtimeNs());
    assertEquals(t2, attr(v, f).ctimeNs());
    assertEquals(t1, attr(v, d).mtimeNs(), "writing a file does not touch its directory");
    long t3 = fx.tick();
    v.setattr(ROOT, f, 0, SetAttr.size(1));
    assertEquals(t3, attr(v, f).mtimeNs());
    assertEquals(t3, attr(v, f).ctimeNs());
    long t4 = fx.tick();
    v.setattr(ROOT, f, 0, SetAttr.mode(0600));
    assertEquals(t3, attr(v, f).mtimeNs());
    assertEquals(t4, attr(v, f).ctimeNs());
    long t5 = fx.tick();
    v.link(ROOT, f, Vfs.ROOT, b("l"));
    assertEquals(t5, attr(v, f).ctimeNs());
    assertEquals(t3, attr(v, f).mtimeNs());
    assertEquals(t5, attr(v, Vfs.ROOT).mtimeNs());
    assertEquals(t1, attr(v, d).mtimeNs());
    long t6 = fx.tick();
    v.setxattr(ROOT, f, "user.k", b("v"), 0);
    assertEquals(t6, attr(v, f).ctimeNs());
    assertEquals(t3, attr(v, f).mtimeNs());
    long t7 = fx.tick();
    v.rename(ROOT, d, b("f"), Vfs.ROOT, b("moved"), 0);
    assertEquals(t7, attr(v, f).ctimeNs());
    assertEquals(t3, attr(v, f).mtimeNs());
    assertEquals(t7, attr(v, d).mtimeNs());
    assertEquals(t7, attr(v, Vfs.ROOT).mtimeNs());
    long t8 = fx.tick();
    v.unlink(ROOT, Vfs.ROOT, b("l"));
    assertEquals(t8, attr(v, f).ctimeNs());
    assertEquals(t8, attr(v, Vfs.ROOT).mtimeNs());
    long t9 = fx.tick();
    v.setattr(ROOT, f, 0, SetAttr.times(5, 6));
    assertEquals(5, attr(v, f).atimeNs());
    assertEquals(6, attr(v, f).mtimeNs());
    assertEquals(t9, attr(v, f).ctimeNs());
    long t10 = fx.tick();
    v.fallocate(ROOT, f, fh, 0, 0, 100);
    assertEquals(t10, attr(v, f).mtimeNs());
    v.release(f, fh);
    // a failed op changes no time
    fx.tick();
    Attr before = attr(v, Vfs.ROOT);
    expect(Errno.EEXIST, () -> v.mkdir(ROOT, Vfs.ROOT, b("d"), 0755, 0));
    assertEquals(before, attr(v, Vfs.ROOT));
  }

  @Test
  void setuidClearedOnWriteTruncateChown() throws AgentFsException {
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0777);
    long f = Fx.file(v, ALICE, d, "f", 0777, "x");
    v.setattr(ALICE, f, 0, SetAttr.mode(06777));
    long fh = v.open(ALICE, f, O_WRONLY);
    v.write(ALICE, f, fh, 0, ByteBuffer.wrap(b("y")));
    assertEquals(0777, attr(v, f).permissions());
    v.setattr(ALICE, f, 0, SetAttr.mode(06777));
    v.setattr(ALICE, f, 0, SetAttr.size(0));
    assertEquals(0777, attr(v, f).permissions());
    v.setattr(ALICE, f, 0, SetAttr.mode(06777));
    v.setattr(ALICE, f, 0, SetAttr.owner(-1, ALICE.gid()));
    assertEquals(0777, attr(v, f).permissions());
    // setgid without group exec is not a privilege bit and stays
    v.setattr(ALICE, f, 0, SetAttr.mode(02767));
    v.write(ALICE, f, fh, 0, ByteBuffer.wrap(b("z")));
    assertEquals(02767, attr(v, f).permissions());
    // root writing keeps the bits
    v.setattr(ALICE, f, 0, SetAttr.mode(06777));
    v.write(ROOT, f, fh, 0, ByteBuffer.wrap(b("r")));
    assertEquals(06777, attr(v, f).permissions());
    v.release(f, fh);
    // a non-member may not set setgid via chmod
    long g = Fx.file(v, ALICE, d, "g", 0644, "");
    v.setattr(ROOT, g, 0, SetAttr.owner(-1, 4242));
    v.setattr(ALICE, g, 0, SetAttr.mode(02755));
    assertEquals(0755, attr(v, g).permissions());
  }

  @Test
  void setgidDirectoryInheritance() throws AgentFsException {
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0777);
    v.setattr(ROOT, d, 0, new SetAttr(SetAttr.MODE | SetAttr.GID, 02777, 0, 555, 0, 0, 0, 0));
    long f = Fx.file(v, ALICE, d, "f", 0644, "");
    long s = mkdir(v, ALICE, d, "s", 0755);
    assertEquals(555, attr(v, f).gid());
    assertEquals(555, attr(v, s).gid());
    assertEquals(02755, attr(v, s).permissions());
    assertEquals(0644, attr(v, f).permissions());
    long ss = mkdir(v, ALICE, s, "ss", 0777);
    assertEquals(555, attr(v, ss).gid());
  }

  @Test
  void permissionCheckedAtOpenNotAtWrite() throws AgentFsException {
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0777);
    long f = Fx.file(v, ALICE, d, "f", 0644, "");
    long fh = v.open(ALICE, f, O_WRONLY);
    v.setattr(ALICE, f, 0, SetAttr.mode(0444));
    assertEquals(2, v.write(ALICE, f, fh, 0, ByteBuffer.wrap(b("ok"))));
    // ftruncate through a writable handle also works
    v.setattr(ALICE, f, fh, SetAttr.size(1));
    assertEquals(1, attr(v, f).size());
    expect(Errno.EACCES, () -> v.open(ALICE, f, O_WRONLY));
    v.release(f, fh);
  }

  @Test
  void readdirOffsetsStableUnderChurn() throws AgentFsException {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0755);
    Set<String> stable = new HashSet<>();
    List<String> transient_ = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String n = "s" + i;
      Fx.file(v, ROOT, d, n, 0644, "");
      stable.add(n);
      if (r.nextBoolean()) {
        String t = "t" + i;
        Fx.file(v, ROOT, d, t, 0644, "");
        transient_.add(t);
      }
    }
    Map<String, Integer> seen = new HashMap<>();
    long off = 0;
    int added = 0;
    while (true) {
      List<long[]> offs = new ArrayList<>();
      int[] count = {0};
      int batch = 1 + r.nextInt(7);
      v.readdir(ROOT, d, 0, off, false, (name, ino, mode, next, a) -> {
        if (count[0] == batch) {
          return false;
        }
        count[0]++;
        seen.merge(new String(name, StandardCharsets.UTF_8), 1, Integer::sum);
        offs.add(new long[] {next});
        return true;
      });
      if (offs.isEmpty()) {
        break;
      }
      off = offs.get(offs.size() - 1)[0];
      // churn: delete some transients, add new ones
      for (int k = 0; k < 3 && !transient_.isEmpty(); k++) {
        String t = transient_.remove(r.nextInt(transient_.size()));
        v.unlink(ROOT, d, b(t));
      }
      if (added < 40) {
        Fx.file(v, ROOT, d, "n" + added++, 0644, "");
      }
    }
    for (String s : stable) {
      assertEquals(1, seen.getOrDefault(s, 0), "seed=" + seed + " entry " + s);
    }
    for (Map.Entry<String, Integer> e : seen.entrySet()) {
      assertEquals(1, e.getValue(), "seed=" + seed + " seen twice " + e.getKey());
    }
    assertEquals(1, seen.get("."));
    assertEquals(1, seen.get(".."));
  }

  @Test
  void fallocateModesAndSeek() throws AgentFsException {
    Created c = v.create(ROOT, Vfs.ROOT, b("f"), 0644, O_CREAT | O_RDWR, 0);
    long f = c.attr().ino();
    long fh = c.fh();
    v.fallocate(ROOT, f, fh, FALLOC_FL_KEEP_SIZE, 0, 1 << 20);
    assertEquals(0, attr(v, f).size());
    v.fallocate(ROOT, f, fh, 0, 0, 1000);
    assertEquals(1000, attr(v, f).size());
    byte[] ones = new byte[300_000];
    java.util.Arrays.fill(ones, (byte) 1);
    v.write(ROOT, f, fh, 0, ByteBuffer.wrap(ones));
    v.fallocate(ROOT, f, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 50);
    byte[] all = readAll(v, f, fh);
    assertEquals(300_000, all.length);
    assertEquals(1, all[99]);
    assertEquals(0, all[100]);
    assertEquals(0, all[149]);
    assertEquals(1, all[150]);
    v.fallocate(ROOT, f, fh, FALLOC_FL_ZERO_RANGE, 200, 10);
    all = readAll(v, f, fh);
    assertEquals(0, all[205]);
    assertEquals(1, all[210]);
    v.fallocate(ROOT, f, fh, FALLOC_FL_ZERO_RANGE, 299_990, 20);
    assertEquals(300_010, attr(v, f).size());
    v.fallocate(ROOT, f, fh, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 300_000, 100);
    assertEquals(300_010, attr(v, f).size());
    expect(Errno.ENOTSUP, () -> v.fallocate(ROOT, f, fh, FALLOC_FL_PUNCH_HOLE, 0, 10));
    // punch a whole chunk-aligned region and seek around it
    int chunk = fx.store.chunkSize();
    v.fallocate(ROOT, f, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, chunk, chunk);
    long hole = v.lseek(f, fh, 0, SEEK_HOLE);
    assertTrue(hole <= chunk, "hole at " + hole);
    assertEquals(2L * chunk, v.lseek(f, fh, chunk, SEEK_DATA));
    assertEquals(chunk, v.lseek(f, fh, chunk, SEEK_HOLE));
    assertEquals(0, readAll(v, f, fh)[chunk + 5]);
    v.release(f, fh);
  }

  @Test
  void copyFileRange() throws AgentFsException {
    long a = Fx.file(v, ROOT, Vfs.ROOT, "a", 0644, "0123456789");
    long b = Fx.file(v, ROOT, Vfs.ROOT, "b", 0644, "abcdefghij");
    long fa = v.open(ROOT, a, O_RDONLY);
    long fb = v.open(ROOT, b, O_RDWR);
    assertEquals(4, v.copyFileRange(ROOT, a, fa, 2, b, fb, 3, 4, 0));
    assertEquals("abc2345hij", readIno(v, b));
    assertEquals(2, v.copyFileRange(ROOT, a, fa, 8, b, fb, 12, 100, 0));
    assertEquals("abc2345hij\0\089", readIno(v, b));
    assertEquals(0, v.copyFileRange(ROOT, a, fa, 50, b, fb, 0, 10, 0));
    expect(Errno.EINVAL, () -> v.copyFileRange(ROOT, b, fb, 0, b, fb, 2, 4, 0));
    assertEquals(2, v.copyFileRange(ROOT, b, fb, 0, b, fb, 4, 2, 0));
    assertEquals("abc2abhij\0".length(), 10);
    v.release(a, fa);
    v.release(b, fb);
  }

  @Test
  void posixLocks() throws AgentFsException {
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "x");
    long h1 = v.open(ROOT, f, O_RDWR);
    long h2 = v.open(ROOT, f, O_RDWR);
    long o1 = 11;
    long o2 = 22;
    v.setlk(f, h1, o1, new FileLock(0, 99, F_WRLCK, 1), false, false);
    FileLock c = v.getlk(f, h2, o2, new FileLock(50, 60, F_RDLCK, 2));
    assertEquals(new FileLock(0, 99, F_WRLCK, 1), c);
    assertEquals(F_UNLCK, v.getlk(f, h2, o2, new FileLock(100, 200, F_WRLCK, 2)).type());
    assertEquals(F_UNLCK, v.getlk(f, h1, o1, new FileLock(0, 10, F_WRLCK, 1)).type());
    expect(Errno.EAGAIN, () -> v.setlk(f, h2, o2, new FileLock(10, 10, F_RDLCK, 2), false, false));
    // split: unlock the middle
    v.setlk(f, h1, o1, new FileLock(40, 59, F_UNLCK, 1), false, false);
    assertEquals(F_UNLCK, v.getlk(f, h2, o2, new FileLock(40, 59, F_WRLCK, 2)).type());
    assertEquals(new FileLock(0, 39, F_WRLCK, 1),
        v.getlk(f, h2, o2, new FileLock(0, 45, F_WRLCK, 2)));
    assertEquals(new FileLock(60, 99, F_WRLCK, 1),
        v.getlk(f, h2, o2, new FileLock(45, 70, F_WRLCK, 2)));
    // merge: relock the middle, one lock again
    v.setlk(f, h1, o1, new FileLock(40, 59, F_WRLCK, 1), false, false);
    assertEquals(new FileLock(0, 99, F_WRLCK, 1),
        v.getlk(f, h2, o2, new FileLock(45, 45, F_WRLCK, 2)));
    // read locks share
    v.setlk(f, h2, o2, new FileLock(200, Long.MAX_VALUE, F_RDLCK, 2), false, false);
    v.setlk(f, h1, o1, new FileLock(300, 400, F_RDLCK, 1), false, false);
    // flush by the owner through any handle releases its POSIX locks
    v.flush(ROOT, f, h2, o1);
    assertEquals(F_UNLCK, v.getlk(f, h2, o2, new FileLock(0, 99, F_WRLCK, 2)).type());
    assertEquals(new FileLock(200, Long.MAX_VALUE, F_RDLCK, 2),
        v.getlk(f, h1, o1, new FileLock(0, Long.MAX_VALUE, F_WRLCK, 1)));
    // flock: per open file, independent of POSIX locks
    v.setlk(f, h1, 0, new FileLock(0, 0, F_WRLCK, 1), false, true);
    expect(Errno.EAGAIN, () -> v.setlk(f, h2, 0, new FileLock(0, 0, F_RDLCK, 2), false, true));
    v.release(f, h1);
    v.setlk(f, h2, 0, new FileLock(0, 0, F_RDLCK, 2), false, true);
    v.release(f, h2);
  }

  @Test
  void blockedLockWaitsAndIsInterruptible() throws Exception {
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "x");
    long h1 = v.open(ROOT, f, O_RDWR);
    long h2 = v.open(ROOT, f, O_RDWR);
    v.setlk(f, h1, 1, new FileLock(0, 10, F_WRLCK, 1), false, false);
    Errno[] got = new Errno[1];
    Thread t = new Thread(() -> {
      try {
        v.setlk(f, h2, 2, new FileLock(5, 5, F_WRLCK, 2), true, false);
      } catch (AgentFsException e) {
        got[0] = e.errno();
      }
    });
    t.start();
    while (t.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }
    t.interrupt();
    t.join(10_000);
    assertEquals(Errno.EINTR, got[0]);
    Thread t2 = new Thread(() -> {
      try {
        v.setlk(f, h2, 2, new FileLock(5, 5, F_WRLCK, 2), true, false);
      } catch (AgentFsException e) {
        got[0] = e.errno();
      }
    });
    got[0] = null;
    t2.start();
    while (t2.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }
    v.setlk(f, h1, 1, new FileLock(0, 10, F_UNLCK, 1), false, false);
    t2.join(10_000);
    assertEquals(null, got[0]);
    assertNotEquals(F_UNLCK, v.getlk(f, h1, 1, new FileLock(0, 10, F_WRLCK, 1)).type());
  }

  @Test
  void nonRootCallerViaBranchApi() throws AgentFsException {
    var br = fx.fs.main();
    br.mkdir("/pub", 0777);
    Caller alice = ALICE;
    var ab = br.as(alice);
    ab.write("/pub/a", "hi");
    assertEquals(alice.uid(), br.stat("/pub/a").uid());
    assertEquals("hi", br.readString("/pub/a"));
  }
}
