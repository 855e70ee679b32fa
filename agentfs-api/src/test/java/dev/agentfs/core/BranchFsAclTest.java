package dev.agentfs.core;

import static dev.agentfs.core.AclText.bytes;
import static dev.agentfs.core.AclText.text;
import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * POSIX ACLs in the core, as Linux's own filesystems behave: stored as the kernel's xattr
 * format, an access ACL equal to the mode kept as the mode alone, chmod and the mask kept in
 * step, default ACLs inherited on create, and permission checks by named users and groups.
 */
class BranchFsAclTest {
  static final String ACCESS = PosixAcl.ACCESS;
  static final String DEFAULT = PosixAcl.DEFAULT;
  /** Bob with a supplementary group 3000; Carol in group 4000; a stranger in neither. */
  static final Caller BOB3000 = new Caller(201, 2000, 2000, new int[] {3000});
  static final Caller CAROL = new Caller(300, 4000, 4000, new int[0]);
  static final Caller STRANGER = new Caller(400, 5000, 5000, new int[0]);
  static final Caller ALICE_IN_ROOT_GROUP = new Caller(101, 1000, 1000, new int[] {0});

  Fx fx;
  BranchFs v;
  long dir; // /d 0777 root
  long f;   // /d/f 0644 root

  @BeforeEach
  void setUp() throws AgentFsException {
    fx = new Fx();
    v = fx.main();
    dir = mkdir(v, ROOT, Vfs.ROOT, "d", 0777);
    f = Fx.file(v, ROOT, dir, "f", 0644, "data");
  }

  int mode(long ino) throws AgentFsException {
    return attr(v, ino).mode() & 07777;
  }

  String acl(long ino, String name) throws AgentFsException {
    return text(v.getxattr(ROOT, ino, name));
  }

  boolean may(Caller c, long ino, int mask) {
    try {
      v.access(c, ino, mask);
      return true;
    } catch (AgentFsException e) {
      assertEquals(Errno.EACCES, e.errno());
      return false;
    }
  }

  String xattrNames(long ino) throws AgentFsException {
    return new String(v.listxattr(ROOT, ino), StandardCharsets.UTF_8).replace('\0', ' ').trim();
  }

  /** Asserts the call fails with {@code want} and leaves the tree exactly as it was. */
  void fails(Errno want, Executable e) {
    Map<String, String> before = dump(v.st.table);
    fx.tick();
    assertEquals(want, errno(e));
    assertEquals(before, dump(v.st.table), "a failing call changed the tree");
  }

  @Test
  void anAccessAclEqualToAModeIsStoredAsTheModeAlone() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rwx,g::r--,o::---"), 0);
    assertEquals(0740, mode(f));
    expect(Errno.ENODATA, () -> v.getxattr(ROOT, f, ACCESS));
    assertEquals("", xattrNames(f));
  }

  @Test
  void anExtendedAccessAclIsStoredAndTheGroupBitsShowTheMask() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rw-,g::r--,m::rw-,o::---"), 0);
    assertEquals(0660, mode(f));
    assertArrayEquals(bytes("u::rw-,u:2000:rw-,g::r--,m::rw-,o::---"),
        v.getxattr(ALICE, f, ACCESS), "anyone may read an ACL");
    assertEquals(ACCESS, xattrNames(f));
    // XATTR_CREATE and XATTR_REPLACE mean nothing for ACLs, as setxattr(2).
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:r--,g::r--,m::r--,o::---"), XATTR_CREATE);
    assertEquals(0640, mode(f));
  }

  @Test
  void aNamedUserIsLimitedByTheMask() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rw-,g::---,m::rw-,o::---"), 0);
    assertTrue(may(BOB, f, R_OK | W_OK));
    v.release(f, v.open(BOB, f, O_RDWR));
    assertFalse(may(ALICE, f, R_OK), "not named, not in the group: other ---");
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rw-,g::---,m::r--,o::---"), 0);
    assertTrue(may(BOB, f, R_OK));
    assertFalse(may(BOB, f, W_OK), "the mask takes w away");
    expect(Errno.EACCES, () -> v.open(BOB, f, O_WRONLY));
  }

  @Test
  void groupEntriesAreAUnionAndAMatchedGroupNeverFallsToOther() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,g::r--,g:3000:rw-,g:4000:---,m::rwx,o::r--"), 0);
    assertTrue(may(BOB3000, f, R_OK | W_OK), "a named group grants");
    assertTrue(may(ALICE_IN_ROOT_GROUP, f, R_OK), "the owning group grants r");
    assertFalse(may(ALICE_IN_ROOT_GROUP, f, W_OK));
    assertFalse(may(CAROL, f, R_OK), "group 4000 matched with ---: no fall back to other");
    assertTrue(may(STRANGER, f, R_OK), "others read");
    assertEquals(0674, mode(f), "the mask rwx shows as the group bits");
    assertTrue(may(ROOT, f, R_OK | W_OK | X_OK), "root may exec: some x bit is set");
  }

  @Test
  void withAMaskOfNothingTheAclIsSkippedAndOthersBitsApply() throws AgentFsException {
    // acl_permission_check consults the ACL only when the group class bits grant something.
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rwx,g::---,m::---,o::r--"), 0);
    assertEquals(0604, mode(f));
    assertTrue(may(BOB, f, R_OK));
    assertFalse(may(BOB, f, W_OK));
  }

  @Test
  void chmodKeepsTheAclInStep() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rwx,g::r--,m::rwx,o::---"), 0);
    assertEquals(0670, mode(f));
    v.setattr(ROOT, f, 0, SetAttr.mode(0754));
    assertEquals("user::rwx,user:2000:rwx,group::r--,mask::r-x,other::r--", acl(f, ACCESS));
    assertTrue(may(BOB, f, R_OK | X_OK));
    assertFalse(may(BOB, f, W_OK), "the mask now limits the named user");
    v.setattr(ROOT, f, 0, SetAttr.mode(0700));
    assertFalse(may(BOB, f, R_OK), "mask --- : the ACL is skipped, others have nothing");
    assertEquals("user::rwx,user:2000:rwx,group::r--,mask::---,other::---", acl(f, ACCESS));
  }

  @Test
  void newEntriesInheritTheDefaultAclAndIgnoreTheUmask() throws AgentFsException {
    long d = mkdir(v, ROOT, dir, "inherit", 0755);
    v.setxattr(ROOT, d, DEFAULT, bytes("u::rwx,u:2000:rwx,g::r-x,m::rwx,o::r-x"), 0);
    long file = v.create(ROOT, d, b("file"), 0666, O_CREAT | O_WRONLY, 022).attr().ino();
    assertEquals(0664, mode(file), "no umask: the mask follows the mode's group bits");
    assertEquals("user::rw-,user:2000:rwx,group::r-x,mask::rw-,other::r--", acl(file, ACCESS));
    expect(Errno.ENODATA, () -> v.getxattr(ROOT, file, DEFAULT));
    long sub = v.mkdir(ROOT, d, b("sub"), 0777, 077).ino();
    assertEquals(0775, mode(sub));
    assertEquals("user::rwx,user:2000:rwx,group::r-x,mask::rwx,other::r-x", acl(sub, ACCESS));
    assertEquals(acl(d, DEFAULT), acl(sub, DEFAULT), "a subdirectory inherits the default");
    long deeper = v.mkdir(ROOT, sub, b("deeper"), 0700, 0).ino();
    assertEquals(0700, mode(deeper));
    assertEquals(acl(d, DEFAULT), acl(deeper, DEFAULT));
    long fifo = v.mknod(ROOT, d, b("fifo"), S_IFIFO | 0640, 0, 0).ino();
    assertEquals(0640, mode(fifo));
    assertEquals("user::rw-,user:2000:rwx,group::r-x,mask::r--,other::---", acl(fifo, ACCESS));
    Created tmp = v.tmpfile(ROOT, d, 0600, O_RDWR, 022);
    assertEquals(0600, tmp.attr().mode() & 07777);
    assertEquals("user::rw-,user:2000:rwx,group::r-x,mask::---,other::---",
        text(v.getxattr(ROOT, tmp.attr().ino(), ACCESS)));
    long link = v.symlink(ROOT, d, b("link"), b("file")).ino();
    assertEquals(0777, mode(link));
    assertEquals("", xattrNames(link), "symlinks take no ACLs");
    assertTrue(may(BOB, file, W_OK), "the inherited named user may write");
  }

  @Test
  void aMinimalDefaultAclGivesModeBitsOnlyAndStillReplacesTheUmask() throws AgentFsException {
    long d = mkdir(v, ROOT, dir, "min", 0755);
    v.setxattr(ROOT, d, DEFAULT, bytes("u::rwx,g::rwx,o::r-x"), 0);
    long file = v.create(ROOT, d, b("file"), 0666, O_CREAT | O_WRONLY, 077).attr().ino();
    assertEquals(0664, mode(file));
    assertEquals("", xattrNames(file));
    long sub = v.mkdir(ROOT, d, b("sub"), 0777, 077).ino();
    assertEquals(0775, mode(sub));
    assertEquals(DEFAULT, xattrNames(sub));
  }

  @Test
  void withoutADefaultAclTheUmaskApplies() throws AgentFsException {
    long file = v.create(ROOT, dir, b("plain"), 0666, O_CREAT | O_WRONLY, 027).attr().ino();
    assertEquals(0640, mode(file));
    assertEquals(0750, v.mkdir(ROOT, dir, b("plaindir"), 0777, 027).mode() & 07777);
  }

  @Test
  void malformedValuesAreRefusedAndChangeNothing() {
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, f, ACCESS, new byte[] {2, 0, 0}, 0));
    fails(Errno.ENOTSUP, () -> v.setxattr(ROOT, f, ACCESS, new byte[] {1, 0, 0, 0}, 0));
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,g::r--"), 0));
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:7:r--,g::r--,o::r--"),
        0));
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, dir, DEFAULT, bytes("g::r--,u::rw-,o::r--"), 0));
    fails(Errno.EINVAL, () -> v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,g::r--,o::r--"), 8));
  }

  @Test
  void ownershipTypeAndSymlinkRules() throws AgentFsException {
    byte[] a = bytes("u::rw-,u:2000:rw-,g::r--,m::rw-,o::---");
    fails(Errno.EPERM, () -> v.setxattr(BOB, f, ACCESS, a, 0));
    fails(Errno.EPERM, () -> v.removexattr(BOB, f, ACCESS));
    fails(Errno.EACCES, () -> v.setxattr(ROOT, f, DEFAULT, bytes("u::rwx,g::r-x,o::r-x"), 0));
    long link = v.symlink(ROOT, dir, b("l"), b("f")).ino();
    fails(Errno.ENOTSUP, () -> v.setxattr(ROOT, link, ACCESS, a, 0));
    expect(Errno.ENOTSUP, () -> v.getxattr(ROOT, link, ACCESS));
    v.removexattr(ROOT, f, DEFAULT); // removing a default ACL of a file: nothing to do
    v.removexattr(ROOT, f, ACCESS);  // removing an absent ACL succeeds, as on ext4
    long af = Fx.file(v, ALICE, dir, "af", 0600, "");
    v.setxattr(ALICE, af, ACCESS, a, 0);
    assertEquals(0660, mode(af));
    v.removexattr(ALICE, af, ACCESS);
    assertEquals(0660, mode(af), "removing the ACL leaves the mode");
    assertEquals("", xattrNames(af));
    expect(Errno.EROFS, () -> {
      fx.fs.main().snapshot("s");
      fx.core.snapshotView("s").setxattr(ROOT, af, ACCESS, a, 0);
    });
  }

  @Test
  void callsThatChangeNothingTouchNothing() throws AgentFsException {
    Map<String, String> before = dump(v.st.table);
    long ctime = attr(v, f).ctimeNs();
    fx.tick();
    v.removexattr(ROOT, f, ACCESS);
    v.removexattr(ROOT, f, DEFAULT);
    v.removexattr(ROOT, dir, DEFAULT);
    assertEquals(before, dump(v.st.table), "no ctime, no new version");
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,g::r--,o::r--"), 0);
    assertEquals(0644, mode(f));
    assertTrue(attr(v, f).ctimeNs() > ctime, "setting is a change, as on ext4");
  }

  @Test
  void settingAnAclDropsSetgidForACallerOutsideTheGroup() throws AgentFsException {
    long af = Fx.file(v, ALICE, dir, "sg", 0600, "");
    v.setattr(ROOT, af, 0, SetAttr.owner(ALICE.uid(), 0));
    v.setattr(ROOT, af, 0, SetAttr.mode(02770));
    v.setxattr(ALICE, af, ACCESS, bytes("u::rwx,u:2000:r--,g::rwx,m::rwx,o::---"), 0);
    assertEquals(0770, mode(af), "alice is not in group 0: setgid goes");
    v.setattr(ROOT, af, 0, SetAttr.mode(02770));
    v.setxattr(ALICE_IN_ROOT_GROUP, af, ACCESS, bytes("u::rwx,u:2000:r--,g::rwx,m::r-x,o::---"),
        0);
    assertEquals(02750, mode(af), "a member keeps it");
    v.setattr(ALICE, af, 0, SetAttr.mode(02755));
    assertEquals(0755, mode(af), "chmod by a non-member drops it, ACL or not");
    assertEquals("user::rwx,user:2000:r--,group::rwx,mask::r-x,other::r-x", acl(af, ACCESS));
  }

  @Test
  void aclsAreSnapshotted() throws AgentFsException {
    v.setxattr(ROOT, f, ACCESS, bytes("u::rw-,u:2000:rw-,g::r--,m::rw-,o::---"), 0);
    fx.fs.main().snapshot("before");
    v.setattr(ROOT, f, 0, SetAttr.mode(0600));
    assertEquals("user::rw-,user:2000:rw-,group::r--,mask::---,other::---", acl(f, ACCESS));
    BranchFs view = fx.core.snapshotView("before");
    assertEquals("user::rw-,user:2000:rw-,group::r--,mask::rw-,other::---",
        text(view.getxattr(ROOT, f, ACCESS)));
  }
}
