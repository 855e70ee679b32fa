package dev.agentfs.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test helper: ACLs written as setfacl's short text ({@code u::rw-,u:1000:r--,g::r--,m::rw-,
 * o::---}) turned into xattr bytes exactly in the order given, so tests can also build
 * invalid ones.
 */
final class AclText {
  private AclText() {}

  static byte[] bytes(String text) {
    String[] parts = text.split(",");
    ByteBuffer b = ByteBuffer.allocate(4 + 8 * parts.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(PosixAcl.VERSION);
    for (String p : parts) {
      String[] f = p.split(":", -1);
      boolean named = !f[1].isEmpty();
      int tag = switch (f[0]) {
        case "u" -> named ? PosixAcl.USER : PosixAcl.USER_OBJ;
        case "g" -> named ? PosixAcl.GROUP : PosixAcl.GROUP_OBJ;
        case "m" -> PosixAcl.MASK;
        case "o" -> PosixAcl.OTHER;
        default -> throw new IllegalArgumentException(p);
      };
      int perm = (f[2].charAt(0) == 'r' ? 4 : 0) | (f[2].charAt(1) == 'w' ? 2 : 0)
          | (f[2].charAt(2) == 'x' ? 1 : 0);
      b.putShort((short) tag).putShort((short) perm)
          .putInt(named ? Integer.parseInt(f[1]) : PosixAcl.UNDEFINED_ID);
    }
    return b.array();
  }

  /** The same ACL in {@link PosixAcl#toString()}'s long form, for comparing. */
  static String text(byte[] value) {
    return PosixAcl.stored(value).toString();
  }
}
