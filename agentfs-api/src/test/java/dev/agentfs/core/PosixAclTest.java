package dev.agentfs.core;

import static dev.agentfs.core.AclText.bytes;
import static dev.agentfs.core.Fx.expect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Caller;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The ACL format and the kernel's algorithms over it, one rule at a time. */
class PosixAclTest {
  static final Caller OWNER = new Caller(1, 100, 100, new int[0]);
  static final Caller NAMED = new Caller(2, 200, 999, new int[0]);
  static final Caller GROUPIE = new Caller(3, 300, 999, new int[] {100});
  static final Caller NAMED_GROUP = new Caller(4, 400, 999, new int[] {500});
  static final Caller BOTH_GROUPS = new Caller(5, 401, 100, new int[] {500});
  static final Caller STRANGER = new Caller(6, 600, 600, new int[0]);

  static PosixAcl acl(String text) throws AgentFsException {
    PosixAcl a = PosixAcl.parse(bytes(text), "t");
    a.validate("t");
    return a;
  }

  @Test
  void emptyValueAndBareHeaderMeanNoAcl() throws AgentFsException {
    assertNull(PosixAcl.parse(new byte[0], "t"));
    assertNull(PosixAcl.parse(new byte[] {2, 0, 0, 0}, "t"));
  }

  @Test
  void malformedValuesAreRejectedAsTheKernelDoes() {
    expect(Errno.EINVAL, () -> PosixAcl.parse(new byte[] {2, 0, 0}, "t"));
    expect(Errno.ENOTSUP, () -> PosixAcl.parse(new byte[] {1, 0, 0, 0}, "t"));
    byte[] ok = bytes("u::rw-,g::r--,o::r--");
    expect(Errno.EINVAL, () -> PosixAcl.parse(Arrays.copyOf(ok, ok.length - 1), "t"));
    byte[] badTag = ok.clone();
    badTag[4] = 0x40;
    expect(Errno.EINVAL, () -> PosixAcl.parse(badTag, "t"));
    byte[] noId = ByteBuffer.wrap(bytes("u::rw-,u:7:r--,g::r--,m::r--,o::r--"))
        .order(ByteOrder.LITTLE_ENDIAN).putInt(4 + 8 + 4, -1).array();
    expect(Errno.EINVAL, () -> PosixAcl.parse(noId, "t"));
  }

  @Test
  void validationFollowsPosixAclValid() throws AgentFsException {
    acl("u::rw-,g::r--,o::r--");
    acl("u::rw-,g::r--,m::r--,o::r--"); // a mask without named entries is allowed
    acl("u::rw-,u:7:r--,u:8:r--,g::r--,g:9:rwx,m::r--,o::r--");
    for (String bad : new String[] {
        "u::rw-,g::r--",                       // no other
        "g::r--,u::rw-,o::r--",                // out of order
        "u::rw-,u::rw-,g::r--,o::r--",         // two owners
        "u::rw-,u:7:r--,g::r--,o::r--",        // named entry without a mask
        "u::rw-,g::r--,m::r--,m::r--,o::r--",  // two masks
        "u::rw-,g::r--,o::r--,m::r--",         // mask after other
        "u::rw-,g::r--,g:9:r--,u:7:r--,m::r--,o::r--", // user after group
        "u::rw-,g::r--,o::r--,o::r--"}) {      // two others
      PosixAcl a = PosixAcl.parse(bytes(bad), "t");
      expect(Errno.EINVAL, () -> a.validate("t"));
    }
    byte[] perm8 = bytes("u::rw-,g::r--,o::r--");
    perm8[6] = 8;
    PosixAcl p = PosixAcl.parse(perm8, "t");
    expect(Errno.EINVAL, () -> p.validate("t"));
  }

  @Test
  void encodingIsCanonical() throws AgentFsException {
    byte[] in = ByteBuffer.wrap(bytes("u::rw-,u:7:r--,g::r--,m::r--,o::r--"))
        .order(ByteOrder.LITTLE_ENDIAN).putInt(4 + 4, 12345).array(); // an id on user::
    byte[] out = PosixAcl.parse(in, "t").encode();
    assertArrayEquals(bytes("u::rw-,u:7:r--,g::r--,m::r--,o::r--"), out);
  }

  @Test
  void equivalentModeUsesTheMaskForTheGroupClass() throws AgentFsException {
    PosixAcl minimal = acl("u::rwx,g::r-x,o::---");
    assertFalse(minimal.extended());
    assertEquals(0104750, minimal.equivMode(0104000 | 0644));
    PosixAcl masked = acl("u::rw-,u:7:rwx,g::r--,m::rw-,o::---");
    assertTrue(masked.extended());
    assertEquals(0660, masked.equivMode(0));
    assertTrue(acl("u::rw-,g::r--,m::r--,o::---").extended());
  }

  @Test
  void createMasqLimitsByTheModeAndKeepsNamedEntries() throws AgentFsException {
    PosixAcl.Masked f = acl("u::rwx,u:7:rwx,g::r-x,m::rwx,o::r-x").createMasq(0100666);
    assertEquals(0100664, f.mode());
    assertEquals("user::rw-,user:7:rwx,group::r-x,mask::rw-,other::r--", f.acl().toString());
    PosixAcl.Masked d = acl("u::rwx,g::r-x,o::---").createMasq(042777);
    assertEquals(042750, d.mode(), "set-id bits survive");
    assertFalse(d.acl().extended());
    assertEquals("user::rwx,group::r-x,other::---", d.acl().toString());
  }

  @Test
  void chmodSetsOwnerMaskAndOtherOrTheGroupWithoutMask() throws AgentFsException {
    assertEquals("user::r-x,user:7:rwx,group::rw-,mask::---,other::rwx",
        acl("u::rw-,u:7:rwx,g::rw-,m::rw-,o::---").chmod(0507).toString());
    assertEquals("user::---,group::r--,other::--x", acl("u::rwx,g::rwx,o::rwx").chmod(041).toString());
  }

  @Test
  void permissionOrderIsOwnerNamedUserGroupsOther() throws AgentFsException {
    PosixAcl a = acl("u::r--,u:200:rwx,g::r--,g:500:rw-,m::rw-,o::--x");
    assertTrue(a.permits(OWNER, 100, 100, 4));
    assertFalse(a.permits(OWNER, 100, 100, 2), "the owner entry decides for the owner");
    assertTrue(a.permits(NAMED, 100, 100, 6));
    assertFalse(a.permits(NAMED, 100, 100, 1), "the mask limits a named user");
    assertTrue(a.permits(GROUPIE, 100, 100, 4));
    assertFalse(a.permits(GROUPIE, 100, 100, 2));
    assertFalse(a.permits(GROUPIE, 100, 100, 1), "a matched group never falls to other");
    assertTrue(a.permits(NAMED_GROUP, 100, 100, 6));
    assertTrue(a.permits(BOTH_GROUPS, 100, 100, 6), "any matching group entry may grant");
    assertTrue(a.permits(STRANGER, 100, 100, 1));
    assertFalse(a.permits(STRANGER, 100, 100, 4));
  }
}
