package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class BranchFsErrnoTest {
  Fx fx;
  BranchFs v;
  long dir;      // /d 0755 root
  long file;     // /d/f "hello"
  long sub;      // /d/sub (non-empty: /d/sub/x)
  long adir;     // /a 0777 owned by alice
  long afile;    // /a/af owned by alice, 0644

  @BeforeEach
  void setUp() throws AgentFsException {
    fx = new Fx();
    v = fx.main();
    dir = mkdir(v, ROOT, Vfs.ROOT, "d", 0755);
    file = Fx.file(v, ROOT, dir, "f", 0644, "hello");
    sub = mkdir(v, ROOT, dir, "sub", 0755);
    Fx.file(v, ROOT, sub, "x", 0644, "x");
    adir = mkdir(v, ROOT, Vfs.ROOT, "a", 0777);
    v.setattr(ROOT, adir, 0, SetAttr.owner(ALICE.uid(), ALICE.gid()));
    afile = Fx.file(v, ALICE, adir, "af", 0644, "alice");
  }

  /** Asserts the call fails with {@code want} and leaves the whole tree exactly as it was. */
  void fails(Errno want, Executable e) {
    Map<String, String> before = dump(v.st.table);
    fx.tick();
    assertEquals(want, errno(e));
    assertEquals(before, dump(v.st.table), "a failing call changed the tree");
  }

  static byte[] n(int len) {
    byte[] b = new byte[len];
    Arrays.fill(b, (byte) 'n');
    return b;
  }

  @Test
  void enoent() {
    fails(Errno.ENOENT, () -> v.lookup(ROOT, dir, b("nope")));
    fails(Errno.ENOENT, () -> v.unlink(ROOT, dir, b("nope")));
    fails(Errno.ENOENT, () -> v.rmdir(ROOT, dir, b("nope")));
    fails(Errno.ENOENT, () -> v.rename(ROOT, dir, b("nope"), dir, b("x"), 0));
    fails(Errno.ENOENT, () -> v.rename(ROOT, dir, b("f"), dir, b("nope"), RENAME_EXCHANGE));
    fails(Errno.ENOENT, () -> v.getattr(ROOT, 99999, 0));
    fails(Errno.ENOENT, () -> v.mkdir(ROOT, dir, new byte[0], 0755, 0));
    fails(Errno.ENOENT, () -> v.symlink(ROOT, dir, b("l"), new byte[0]));
    fails(Errno.ENOENT, () -> fx.fs.main().read("/d/nope"));
  }

  @Test
  void enoentCreatingInRemovedDirectory() throws AgentFsException {
    long gone = mkdir(v, ROOT, dir, "gone", 0755);
    v.rmdir(ROOT, dir, b("gone"));
    v.lookup(ROOT, dir, b("sub")); // keep something referenced
    // gone is referenced (mkdir added a lookup ref) so it is an orphan
    fails(Errno.ENOENT, () -> v.mkdir(ROOT, gone, b("x"), 0755, 0));
    fails(Errno.ENOENT, () -> v.create(ROOT, gone, b("x"), 0644, O_CREAT | O_WRONLY, 0));
  }

  @Test
  void eexist() {
    fails(Errno.EEXIST, () -> v.mkdir(ROOT, dir, b("f"), 0755, 0));
    fails(Errno.EEXIST, () -> v.mkdir(ROOT, dir, b("sub"), 0755, 0));
    fails(Errno.EEXIST, () -> v.mknod(ROOT, dir, b("f"), S_IFREG | 0644, 0, 0));
    fails(Errno.EEXIST, () -> v.symlink(ROOT, dir, b("f"), b("t")));
    fails(Errno.EEXIST, () -> v.link(ROOT, file, dir, b("sub")));
    fails(Errno.EEXIST, () -> v.create(ROOT, dir, b("f"), 0644, O_CREAT | O_EXCL | O_WRONLY, 0));
    fails(Errno.EEXIST, () -> v.rename(ROOT, dir, b("f"), dir, b("sub"), RENAME_NOREPLACE));
    fails(Errno.EEXIST, () -> v.mkdir(ROOT, dir, b("."), 0755, 0));
    fails(Errno.EEXIST, () -> v.mkdir(ROOT, dir, b(".."), 0755, 0));
  }

  @Test
  void enotemptyEisdirEnotdir() {
    fails(Errno.ENOTEMPTY, () -> v.rmdir(ROOT, dir, b("sub")));
    fails(Errno.ENOTEMPTY, () -> v.rename(ROOT, Vfs.ROOT, b("a"), dir, b("sub"), 0));
    fails(Errno.EISDIR, () -> v.unlink(ROOT, dir, b("sub")));
    fails(Errno.EISDIR, () -> v.rename(ROOT, dir, b("f"), dir, b("sub"), 0));
    fails(Errno.EISDIR, () -> v.open(ROOT, sub, O_WRONLY));
    fails(Errno.EISDIR, () -> v.create(ROOT, dir, b("sub"), 0644, O_CREAT | O_WRONLY, 0));
    fails(Errno.EISDIR, () -> v.setattr(ROOT, sub, 0, SetAttr.size(0)));
    fails(Errno.ENOTDIR, () -> v.rmdir(ROOT, dir, b("f")));
    fails(Errno.ENOTDIR, () -> v.lookup(ROOT, file, b("x")));
    fails(Errno.ENOTDIR, () -> v.mkdir(ROOT, file, b("x"), 0755, 0));
    fails(Errno.ENOTDIR, () -> v.rename(ROOT, dir, b("sub"), dir, b("f"), 0));
    fails(Errno.ENOTDIR, () -> v.opendir(ROOT, file, 0));
    fails(Errno.ENOTDIR, () -> fx.fs.main().read("/d/f/x"));
    fails(Errno.ENOTDIR, () -> fx.fs.main().mkdir("/d/f/x"));
  }

  @Test
  void enametoolong() throws AgentFsException {
    Map<String, String> before;
    v.mkdir(ROOT, dir, n(255), 0755, 0);
    v.lookup(ROOT, dir, n(255));
    Created c = v.create(ROOT, dir, b("y").length == 1 ? withPrefix('y', 255) : null, 0644,
        O_CREAT | O_WRONLY, 0);
    v.release(c.attr().ino(), c.fh());
    before = dump(v.st.table);
    assertEquals(before, dump(v.st.table));
    fails(Errno.ENAMETOOLONG, () -> v.mkdir(ROOT, dir, n(256), 0755, 0));
    fails(Errno.ENAMETOOLONG, () -> v.lookup(ROOT, dir, n(256)));
    fails(Errno.ENAMETOOLONG, () -> v.create(ROOT, dir, n(256), 0644, O_CREAT | O_WRONLY, 0));
    fails(Errno.ENAMETOOLONG, () -> v.symlink(ROOT, dir, n(256), b("t")));
    fails(Errno.ENAMETOOLONG, () -> v.link(ROOT, file, dir, n(256)));
    fails(Errno.ENAMETOOLONG, () -> v.rename(ROOT, dir, b("f"), dir, n(256), 0));
    fails(Errno.ENAMETOOLONG, () -> v.unlink(ROOT, dir, n(256)));
    fails(Errno.ENAMETOOLONG, () -> v.symlink(ROOT, dir, b("s"), n(4096)));
    v.symlink(ROOT, dir, b("s"), n(4095));
  }

  static byte[] withPrefix(char c, int len) {
    byte[] b = n(len);
    b[0] = (byte) c;
    return b;
  }

  @Test
  void einval() throws AgentFsException {
    fails(Errno.EINVAL, () -> v.rename(ROOT, Vfs.ROOT, b("d"), sub, b("d2"), 0));
    fails(Errno.EINVAL, () -> v.rename(ROOT, Vfs.ROOT, b("d"), dir, b("d2"), 0));
    fails(Errno.EINVAL, () -> v.rename(ROOT, dir, b("f"), dir, b("g"), 8));
    fails(Errno.EINVAL, () -> v.rename(ROOT, dir, b("f"), dir, b("g"), RENAME_WHITEOUT));
    fails(Errno.EINVAL,
        () -> v.rename(ROOT, dir, b("f"), dir, b("sub"), RENAME_EXCHANGE | RENAME_NOREPLACE));
    fails(Errno.EINVAL, () -> v.mkdir(ROOT, dir, b("a/b"), 0755, 0));
    fails(Errno.EINVAL, () -> v.create(ROOT, dir, b("a/b"), 0644, O_CREAT | O_WRONLY, 0));
    fails(Errno.EINVAL, () -> v.rename(ROOT, dir, b("f"), dir, b("a/b"), 0));
    fails(Errno.EINVAL, () -> v.rmdir(ROOT, dir, b(".")));
    fails(Errno.EINVAL, () -> v.readlink(ROOT, file));
    fails(Errno.EINVAL, () -> v.setattr(ROOT, file, 0, SetAttr.size(-1)));
    long fh = v.open(ROOT, file, O_RDWR);
    fails(Errno.EINVAL, () -> v.read(file, fh, -1, ByteBuffer.allocate(1)));
    fails(Errno.EINVAL, () -> v.lseek(file, fh, 0, SEEK_END));
    fails(Errno.EINVAL, () -> v.fallocate(ROOT, file, fh, 0, 0, 0));
    v.release(file, fh);
  }

  @Test
  void exchangeDirIntoOwnSubtreeIsEinval() throws AgentFsException {
    // exchange /d with /d/sub/x: would put d below itself
    fails(Errno.EINVAL, () -> v.rename(ROOT, Vfs.ROOT, b("d"), sub, b("x"), RENAME_EXCHANGE));
  }

  @Test
  void eperm() throws AgentFsException {
    fails(Errno.EPERM, () -> v.link(ROOT, sub, dir, b("sublink")));
    fails(Errno.EPERM, () -> v.setattr(ALICE, file, 0, SetAttr.owner(ALICE.uid(), -1)));
    fails(Errno.EPERM, () -> v.setattr(ALICE, afile, 0, SetAttr.owner(BOB.uid(), -1)));
    fails(Errno.EPERM, () -> v.setattr(ALICE, afile, 0, SetAttr.owner(-1, 4242)));
    fails(Errno.EPERM, () -> v.setattr(BOB, afile, 0, SetAttr.mode(0777)));
    fails(Errno.EPERM, () -> v.setattr(BOB, afile, 0, SetAttr.times(1, 2)));
    fails(Errno.EPERM, () -> v.mknod(ALICE, adir, b("dev"), S_IFCHR | 0600, 0x0501, 0));
    fails(Errno.EPERM, () -> v.mknod(ALICE, adir, b("blk"), S_IFBLK | 0600, 0x0801, 0));
    // sticky directory: bob may create but not remove alice's file
    v.setattr(ROOT, adir, 0, SetAttr.mode(01777));
    Fx.file(v, BOB, adir, "bf", 0644, "bob");
    fails(Errno.EPERM, () -> v.unlink(BOB, adir, b("af")));
    fails(Errno.EPERM, () -> v.rename(BOB, adir, b("af"), adir, b("stolen"), 0));
    fails(Errno.EPERM, () -> v.rename(BOB, adir, b("bf"), adir, b("af"), 0));
    // the owner of the entry may
    v.rename(BOB, adir, b("bf"), adir, b("bf2"), 0);
    // the owner of the dir may remove others' entries
    v.unlink(ALICE, adir, b("bf2"));
    // chown by owner to own uid is fine
    v.setattr(ALICE, afile, 0, SetAttr.owner(ALICE.uid(), ALICE.gid()));
    // mknod fifo as non-root is fine
    v.mknod(ALICE, adir, b("fifo"), S_IFIFO | 0600, 0, 0);
  }

  @Test
  void eaccesAsNonRoot() throws AgentFsException {
    long locked = mkdir(v, ROOT, Vfs.ROOT, "locked", 0700);
    Fx.file(v, ROOT, locked, "inner", 0644, "i");
    fails(Errno.EACCES, () -> v.lookup(ALICE, locked, b("inner")));
    fails(Errno.EACCES, () -> fx.fs.main().as(ALICE).read("/locked/inner"));
    fails(Errno.EACCES, () -> v.opendir(ALICE, locked, 0));
    // search but no write on parent
    fails(Errno.EACCES, () -> v.mkdir(ALICE, dir, b("x"), 0755, 0));
    fails(Errno.EACCES, () -> v.create(ALICE, dir, b("x"), 0644, O_CREAT | O_WRONLY, 0));
    fails(Errno.EACCES, () -> v.unlink(ALICE, dir, b("f")));
    fails(Errno.EACCES, () -> v.rmdir(ALICE, sub, b("x")));
    fails(Errno.EACCES, () -> v.rename(ALICE, dir, b("f"), adir, b("f"), 0));
    fails(Errno.EACCES, () -> v.rename(ALICE, adir, b("af"), dir, b("af"), 0));
    fails(Errno.EACCES, () -> v.link(ALICE, afile, dir, b("l")));
    fails(Errno.EACCES, () -> v.symlink(ALICE, dir, b("s"), b("t")));
    // open for write of a 0444 file
    v.setattr(ALICE, afile, 0, SetAttr.mode(0444));
    fails(Errno.EACCES, () -> v.open(ALICE, afile, O_WRONLY));
    fails(Errno.EACCES, () -> v.open(ALICE, afile, O_RDONLY | O_TRUNC));
    fails(Errno.EACCES, () -> v.setattr(ALICE, afile, 0, SetAttr.size(0)));
    fails(Errno.EACCES, () -> v.open(BOB, file, O_RDWR));
    // utimes(NOW) by a non-owner without write permission
    fails(Errno.EACCES, () -> v.setattr(BOB, file, 0,
        new SetAttr(SetAttr.ATIME | SetAttr.MTIME | SetAttr.ATIME_NOW | SetAttr.MTIME_NOW,
            0, 0, 0, 0, 0, 0, 0)));
    fails(Errno.EACCES, () -> v.access(BOB, file, W_OK));
    fails(Errno.EACCES, () -> v.access(ROOT, file, X_OK));
    // and with write permission it works
    v.setattr(ROOT, file, 0, SetAttr.mode(0666));
    v.setattr(BOB, file, 0,
        new SetAttr(SetAttr.ATIME | SetAttr.MTIME | SetAttr.ATIME_NOW | SetAttr.MTIME_NOW,
            0, 0, 0, 0, 0, 0, 0));
    // moving a directory between parents needs write on it (to update ..)
    long aSub = mkdir(v, ALICE, adir, "asub", 0555);
    long a2 = mkdir(v, ALICE, adir, "a2", 0777);
    fails(Errno.EACCES, () -> v.rename(ALICE, adir, b("asub"), a2, b("asub"), 0));
    assertEquals(aSub, v.lookupNoRef(ALICE, adir, b("asub")));
  }

  @Test
  void exdevNeverWithinABranch() throws AgentFsException {
    long other = mkdir(v, ROOT, Vfs.ROOT, "other", 0755);
    v.rename(ROOT, dir, b("f"), other, b("f"), 0);
    v.rename(ROOT, dir, b("sub"), other, b("sub"), 0);
    v.link(ROOT, file, dir, b("back"));
    assertEquals(file, v.lookupNoRef(ROOT, other, b("f")));
    assertEquals(file, v.lookupNoRef(ROOT, dir, b("back")));
    assertEquals(2, attr(v, file).nlink());
  }

  @Test
  void eloopThroughPathApi() throws AgentFsException {
    var br = fx.fs.main();
    br.symlink("/loop2", "/loop1");
    br.symlink("/loop1", "/loop2");
    br.symlink("self", "/d/self");
    fails(Errno.ELOOP, () -> br.read("/loop1"));
    fails(Errno.ELOOP, () -> br.stat("/d/self"));
    fails(Errno.ELOOP, () -> br.write("/loop1", "x"));
    fails(Errno.ELOOP, () -> br.mkdir("/loop1/x"));
    long l = v.lookupNoRef(ROOT, Vfs.ROOT, b("loop1"));
    fails(Errno.ELOOP, () -> v.open(ROOT, l, O_RDONLY));
    assertEquals("/loop2", br.readlink("/loop1"));
    br.lstat("/loop1");
  }

  @Test
  void xattrErrors() throws AgentFsException {
    fails(Errno.ENODATA, () -> v.getxattr(ROOT, file, "user.none"));
    fails(Errno.ENODATA, () -> v.removexattr(ROOT, file, "user.none"));
    fails(Errno.ENODATA, () -> v.setxattr(ROOT, file, "user.a", b("1"), XATTR_REPLACE));
    v.setxattr(ROOT, file, "user.a", b("1"), XATTR_CREATE);
    fails(Errno.EEXIST, () -> v.setxattr(ROOT, file, "user.a", b("2"), XATTR_CREATE));
    v.setxattr(ROOT, file, "user.a", b("2"), XATTR_REPLACE);
    assertArrayEquals(b("2"), v.getxattr(ROOT, file, "user.a"));
    fails(Errno.E2BIG, () -> v.setxattr(ROOT, file, "user.big", new byte[65537], 0));
    v.setxattr(ROOT, file, "user.max", new byte[65536], 0);
    fails(Errno.ERANGE, () -> v.setxattr(ROOT, file, "user." + "x".repeat(251), b("1"), 0));
    v.setxattr(ROOT, file, "user." + "x".repeat(250), b("1"), 0);
    fails(Errno.ENOTSUP, () -> v.setxattr(ROOT, file, "bogus.a", b("1"), 0));
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, file, "user.b", b("1"), 4));
    // trusted.* is invisible and untouchable for non-root
    v.setxattr(ROOT, afile, "trusted.t", b("secret"), 0);
    v.setxattr(ROOT, afile, "user.u", b("u"), 0);
    fails(Errno.ENODATA, () -> v.getxattr(ALICE, afile, "trusted.t"));
    fails(Errno.EPERM, () -> v.setxattr(ALICE, afile, "trusted.t", b("x"), 0));
    fails(Errno.EPERM, () -> v.removexattr(ALICE, afile, "trusted.t"));
    assertEquals("user.u\0", new String(v.listxattr(ALICE, afile)));
    assertEquals("trusted.t\0user.u\0", new String(v.listxattr(ROOT, afile)));
    // user.* needs write permission
    fails(Errno.EACCES, () -> v.setxattr(BOB, afile, "user.v", b("x"), 0));
    fails(Errno.EPERM, () -> v.setxattr(ALICE, afile, "security.s", b("x"), 0));
  }

  @Test
  void lseekAndBadHandles() throws AgentFsException {
    long ro = v.open(ROOT, file, O_RDONLY);
    long wo = v.open(ROOT, file, O_WRONLY);
    fails(Errno.ENXIO, () -> v.lseek(file, ro, 5, SEEK_DATA));
    fails(Errno.ENXIO, () -> v.lseek(file, ro, 6, SEEK_HOLE));
    assertEquals(5, v.lseek(file, ro, 0, SEEK_HOLE));
    assertEquals(2, v.lseek(file, ro, 2, SEEK_DATA));
    fails(Errno.EBADF, () -> v.write(ROOT, file, ro, 0, ByteBuffer.wrap(b("x"))));
    fails(Errno.EBADF, () -> v.read(file, wo, 0, ByteBuffer.allocate(4)));
    fails(Errno.EBADF, () -> v.fallocate(ROOT, file, ro, 0, 0, 10));
    fails(Errno.EBADF, () -> v.read(file, 987654, 0, ByteBuffer.allocate(4)));
    fails(Errno.EBADF, () -> v.read(sub, ro, 0, ByteBuffer.allocate(4)));
    fails(Errno.EBADF, () -> v.copyFileRange(ROOT, file, wo, 0, file, wo, 10, 1, 0));
    long ap = v.open(ROOT, afile, O_WRONLY | O_APPEND);
    fails(Errno.EBADF, () -> v.copyFileRange(ROOT, file, ro, 0, afile, ap, 0, 1, 0));
    v.release(afile, ap);
    v.release(file, ro);
    v.release(file, wo);
    fails(Errno.EBADF, () -> v.read(file, ro, 0, ByteBuffer.allocate(4)));
  }

  @Test
  void failedSetattrChangesNoAttribute() throws AgentFsException {
    Attr before = attr(v, afile);
    fx.tick();
    // mode is allowed for the owner, but the uid change in the same call is not
    expect(Errno.EPERM, () -> v.setattr(ALICE, afile, 0,
        new SetAttr(SetAttr.MODE | SetAttr.UID, 0600, BOB.uid(), 0, 0, 0, 0, 0)));
    assertEquals(before, attr(v, afile));
    expect(Errno.EACCES, () -> v.setattr(BOB, afile, 0,
        new SetAttr(SetAttr.SIZE | SetAttr.ATIME_NOW | SetAttr.ATIME, 0, 0, 0, 0, 0, 0, 0)));
    assertEquals(before, attr(v, afile));
    assertEquals("alice", readIno(v, afile));
    List<String> ls = names(v, adir);
    assertFalse(ls.isEmpty());
  }
}
