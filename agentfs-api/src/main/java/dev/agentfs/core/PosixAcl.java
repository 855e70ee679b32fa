package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Caller;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jspecify.annotations.Nullable;

/**
 * One POSIX access control list in the form Linux keeps it in the {@code
 * system.posix_acl_access} and {@code system.posix_acl_default} xattrs (a little-endian version
 * 2 header, then tag/perm/id entries), with the kernel's algorithms over it: parsing and
 * validation as {@code posix_acl_from_xattr} and {@code posix_acl_valid}, equivalence to a mode,
 * inheritance on create, chmod, and the access check of {@code posix_acl_permission}. Kept as
 * bytes on the inode, so ACLs are versioned, journaled, diffed and committed like any xattr;
 * this class is the one place that reads and writes them. Immutable.
 */
final class PosixAcl {
  static final String ACCESS = "system.posix_acl_access";
  static final String DEFAULT = "system.posix_acl_default";

  static final int VERSION = 2;
  static final int USER_OBJ = 0x01;
  static final int USER = 0x02;
  static final int GROUP_OBJ = 0x04;
  static final int GROUP = 0x08;
  static final int MASK = 0x10;
  static final int OTHER = 0x20;
  /** The id of entries that name no one (ACL_UNDEFINED_ID); invalid for USER and GROUP. */
  static final int UNDEFINED_ID = -1;

  private static final int HEADER = 4;
  private static final int ENTRY = 8;

  private final int[] tags;
  private final int[] perms;
  private final int[] ids;

  private PosixAcl(int[] tags, int[] perms, int[] ids) {
    this.tags = tags;
    this.perms = perms;
    this.ids = ids;
  }

  /** True for the two xattr names that hold ACLs. */
  static boolean isAclName(String name) {
    return name.equals(ACCESS) || name.equals(DEFAULT);
  }

  /**
   * Decodes an xattr value as setxattr(2) does before anything else: null (remove the ACL)
   * for an empty value or a bare header, ENOTSUP for another version, EINVAL for a size
   * that is not a whole number of entries, an unknown tag, or a named entry without an id.
   */
  static @Nullable PosixAcl parse(byte[] value, String what) throws AgentFsException {
    if (value.length == 0) {
      return null;
    }
    if (value.length < HEADER) {
      throw new AgentFsException(Errno.EINVAL, what);
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt(0) != VERSION) {
      throw new AgentFsException(Errno.ENOTSUP, what);
    }
    if ((value.length - HEADER) % ENTRY != 0) {
      throw new AgentFsException(Errno.EINVAL, what);
    }
    int count = (value.length - HEADER) / ENTRY;
    if (count == 0) {
      return null;
    }
    int[] tags = new int[count];
    int[] perms = new int[count];
    int[] ids = new int[count];
    for (int i = 0; i < count; i++) {
      int p = HEADER + i * ENTRY;
      tags[i] = b.getShort(p) & 0xffff;
      perms[i] = b.getShort(p + 2) & 0xffff;
      int id = b.getInt(p + 4);
      switch (tags[i]) {
        case USER_OBJ, GROUP_OBJ, MASK, OTHER -> ids[i] = UNDEFINED_ID;
        case USER, GROUP -> {
          if (id == UNDEFINED_ID) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          ids[i] = id;
        }
        default -> throw new AgentFsException(Errno.EINVAL, what);
      }
    }
    return new PosixAcl(tags, perms, ids);
  }

  /** Decodes a value this class stored (valid by construction). */
  static PosixAcl stored(byte[] value) {
    try {
      PosixAcl a = parse(value, "stored ACL");
      if (a == null) {
        throw new IllegalStateException("empty stored ACL");
      }
      return a;
    } catch (AgentFsException e) {
      throw new IllegalStateException("corrupt stored ACL", e);
    }
  }

  /** The minimal ACL that says what {@code mode}'s permission bits say. */
  static PosixAcl ofMode(int mode) {
    return new PosixAcl(new int[] {USER_OBJ, GROUP_OBJ, OTHER},
        new int[] {(mode >>> 6) & 7, (mode >>> 3) & 7, mode & 7},
        new int[] {UNDEFINED_ID, UNDEFINED_ID, UNDEFINED_ID});
  }

  /**
   * posix_acl_valid: perms only rwx; entries in the order owner, named users, owning group,
   * named groups, mask, other; exactly one owner, owning group and other; a mask exactly
   * when there are named entries. EINVAL otherwise.
   */
  void validate(String what) throws AgentFsException {
    int state = USER_OBJ;
    boolean needsMask = false;
    for (int i = 0; i < tags.length; i++) {
      if ((perms[i] & ~7) != 0) {
        throw new AgentFsException(Errno.EINVAL, what);
      }
      switch (tags[i]) {
        case USER_OBJ -> {
          if (state != USER_OBJ) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          state = USER;
        }
        case USER -> {
          if (state != USER) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          needsMask = true;
        }
        case GROUP_OBJ -> {
          if (state != USER) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          state = GROUP;
        }
        case GROUP -> {
          if (state != GROUP) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          needsMask = true;
        }
        case MASK -> {
          if (state != GROUP) {
            throw new AgentFsException(Errno.EINVAL, what);
          }
          state = OTHER;
        }
        case OTHER -> {
          if (state == OTHER || (state == GROUP && !needsMask)) {
            state = 0;
          } else {
            throw new AgentFsException(Errno.EINVAL, what);
          }
        }
        default -> throw new AgentFsException(Errno.EINVAL, what);
      }
    }
    if (state != 0) {
      throw new AgentFsException(Errno.EINVAL, what);
    }
  }

  /** The xattr value, as posix_acl_to_xattr writes it (ids only on named entries). */
  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(HEADER + tags.length * ENTRY)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(VERSION);
    for (int i = 0; i < tags.length; i++) {
      b.putShort((short) tags[i]).putShort((short) perms[i]).putInt(ids[i]);
    }
    return b.array();
  }

  /** True when the ACL holds a mask or named entries: it says more than a mode can. */
  boolean extended() {
    for (int t : tags) {
      if (t == USER || t == GROUP || t == MASK) {
        return true;
      }
    }
    return false;
  }

  /**
   * posix_acl_equiv_mode: {@code mode} with its rwx bits replaced by what this ACL grants
   * the owner, the group class (the mask when there is one) and others; other bits kept.
   */
  int equivMode(int mode) {
    int m = 0;
    int mask = -1;
    for (int i = 0; i < tags.length; i++) {
      int p = perms[i] & 7;
      switch (tags[i]) {
        case USER_OBJ -> m |= p << 6;
        case GROUP_OBJ -> m |= p << 3;
        case OTHER -> m |= p;
        case MASK -> mask = p;
        default -> { }
      }
    }
    if (mask >= 0) {
      m = (m & ~0070) | (mask << 3);
    }
    return (mode & ~0777) | m;
  }

  /** An ACL and the mode it came with, as {@link #createMasq} returns them. */
  record Masked(PosixAcl acl, int mode) {}

  /**
   * posix_acl_create_masq: a new file's ACL from its directory's default ACL and the mode
   * asked for. The owner and other entries and the group class (mask, else owning group) are
   * limited by the mode's bits, and the mode by them; bits other than rwx are kept.
   */
  Masked createMasq(int mode) {
    int[] p = perms.clone();
    int m = mode;
    int groupObj = -1;
    int maskObj = -1;
    for (int i = 0; i < tags.length; i++) {
      switch (tags[i]) {
        case USER_OBJ -> {
          p[i] &= (m >>> 6) & 7;
          m &= (p[i] << 6) | ~0700;
        }
        case GROUP_OBJ -> groupObj = i;
        case MASK -> maskObj = i;
        case OTHER -> {
          p[i] &= m & 7;
          m &= p[i] | ~0007;
        }
        default -> { }
      }
    }
    int g = maskObj >= 0 ? maskObj : groupObj;
    p[g] &= (m >>> 3) & 7;
    m &= (p[g] << 3) | ~0070;
    return new Masked(new PosixAcl(tags, p, ids), m);
  }

  /**
   * posix_acl_chmod: the owner and other entries take the new mode's bits, and so does the
   * mask, or the owning group when there is no mask. Named entries are kept.
   */
  PosixAcl chmod(int mode) {
    int[] p = perms.clone();
    int groupObj = -1;
    int maskObj = -1;
    for (int i = 0; i < tags.length; i++) {
      switch (tags[i]) {
        case USER_OBJ -> p[i] = (mode >>> 6) & 7;
        case GROUP_OBJ -> groupObj = i;
        case MASK -> maskObj = i;
        case OTHER -> p[i] = mode & 7;
        default -> { }
      }
    }
    p[maskObj >= 0 ? maskObj : groupObj] = (mode >>> 3) & 7;
    return new PosixAcl(tags, p, ids);
  }

  /**
   * posix_acl_permission: whether {@code c} may do {@code want} (rwx bits) to a node owned by
   * {@code uid}:{@code gid}. The first entry that names the caller decides: the owner entry,
   * then a named user (limited by the mask), then every group entry the caller is in (the
   * owning group and named groups, limited by the mask): one that grants all of {@code want}
   * decides, and if none does but one matched, access is denied; only a caller matched by
   * nothing gets the other entry.
   */
  boolean permits(Caller c, int uid, int gid, int want) {
    boolean found = false;
    for (int i = 0; i < tags.length; i++) {
      switch (tags[i]) {
        case USER_OBJ -> {
          if (c.uid() == uid) {
            return (perms[i] & want) == want;
          }
        }
        case USER -> {
          if (c.uid() == ids[i]) {
            return masked(i, want);
          }
        }
        case GROUP_OBJ, GROUP -> {
          if (c.inGroup(tags[i] == GROUP_OBJ ? gid : ids[i])) {
            found = true;
            if ((perms[i] & want) == want) {
              return masked(i, want);
            }
          }
        }
        case OTHER -> {
          return !found && (perms[i] & want) == want;
        }
        default -> { }
      }
    }
    return false;
  }

  private boolean masked(int i, int want) {
    for (int j = i + 1; j < tags.length; j++) {
      if (tags[j] == MASK) {
        return (perms[i] & perms[j] & want) == want;
      }
    }
    return (perms[i] & want) == want;
  }

  int size() {
    return tags.length;
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < tags.length; i++) {
      String t = switch (tags[i]) {
        case USER_OBJ -> "user::";
        case USER -> "user:" + Integer.toUnsignedString(ids[i]) + ":";
        case GROUP_OBJ -> "group::";
        case GROUP -> "group:" + Integer.toUnsignedString(ids[i]) + ":";
        case MASK -> "mask::";
        default -> "other::";
      };
      int p = perms[i];
      s.append(i == 0 ? "" : ",").append(t).append((p & 4) != 0 ? 'r' : '-')
          .append((p & 2) != 0 ? 'w' : '-').append((p & 1) != 0 ? 'x' : '-');
    }
    return s.toString();
  }
}
