package dev.agentfs.fuse.protocol;

import org.jspecify.annotations.Nullable;

/**
 * The FUSE request opcodes (enum fuse_opcode of include/uapi/linux/fuse.h, protocol 7.45): the
 * single source of truth for dispatch, naming and whether the kernel waits for a reply. Codes
 * the table does not know are answered with ENOSYS by the dispatcher so the kernel never
 * waits forever and remembers the operation as unsupported.
 *
 * @since 0.1
 */
public enum Opcode {
  LOOKUP(1, true),
  /** Drops lookup references; the kernel expects no reply. */
  FORGET(2, false),
  GETATTR(3, true),
  SETATTR(4, true),
  READLINK(5, true),
  SYMLINK(6, true),
  MKNOD(8, true),
  MKDIR(9, true),
  UNLINK(10, true),
  RMDIR(11, true),
  RENAME(12, true),
  LINK(13, true),
  OPEN(14, true),
  READ(15, true),
  WRITE(16, true),
  STATFS(17, true),
  RELEASE(18, true),
  FSYNC(20, true),
  SETXATTR(21, true),
  GETXATTR(22, true),
  LISTXATTR(23, true),
  REMOVEXATTR(24, true),
  FLUSH(25, true),
  INIT(26, true),
  OPENDIR(27, true),
  READDIR(28, true),
  RELEASEDIR(29, true),
  FSYNCDIR(30, true),
  GETLK(31, true),
  SETLK(32, true),
  SETLKW(33, true),
  ACCESS(34, true),
  CREATE(35, true),
  /** Asks to abort an earlier request; never answered itself. */
  INTERRUPT(36, false),
  BMAP(37, true),
  DESTROY(38, true),
  IOCTL(39, true),
  POLL(40, true),
  /** The answer to a NOTIFY_RETRIEVE we sent; not a request, so no reply. */
  NOTIFY_REPLY(41, false),
  BATCH_FORGET(42, false),
  FALLOCATE(43, true),
  READDIRPLUS(44, true),
  RENAME2(45, true),
  LSEEK(46, true),
  COPY_FILE_RANGE(47, true),
  SETUPMAPPING(48, true),
  REMOVEMAPPING(49, true),
  SYNCFS(50, true),
  TMPFILE(51, true),
  STATX(52, true),
  /** Like COPY_FILE_RANGE but the byte count is answered in 64 bits (7.45). */
  COPY_FILE_RANGE_64(53, true),
  CUSE_INIT(4096, true);

  private static final Opcode[] BY_CODE = new Opcode[64];

  static {
    for (Opcode o : values()) {
      if (o.code < BY_CODE.length) {
        if (BY_CODE[o.code] != null) {
          throw new ExceptionInInitializerError("duplicate opcode " + o.code);
        }
        BY_CODE[o.code] = o;
      }
    }
  }

  private final int code;
  private final boolean replies;

  Opcode(int code, boolean replies) {
    this.code = code;
    this.replies = replies;
  }

  public int code() {
    return code;
  }

  /** Whether the kernel waits for an answer to this request. */
  public boolean replies() {
    return replies;
  }

  /** The opcode for a wire code, or null for a code this table does not know. */
  public static @Nullable Opcode of(int code) {
    if (code >= 0 && code < BY_CODE.length) {
      return BY_CODE[code];
    }
    return code == CUSE_INIT.code ? CUSE_INIT : null;
  }

  /** A printable name for any wire code, known or not. */
  public static String nameOf(int code) {
    Opcode o = of(code);
    return o == null ? "UNKNOWN(" + code + ")" : o.name();
  }
}
