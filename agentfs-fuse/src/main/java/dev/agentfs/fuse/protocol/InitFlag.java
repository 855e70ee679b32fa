package dev.agentfs.fuse.protocol;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The INIT capability bits as one 64-bit set: bits 0..31 travel in {@code flags}, bits 32..63
 * in {@code flags2} (only when FUSE_INIT_EXT is set by both sides). Kept as an enum so granted
 * features can be reported by name on the mount handle and in logs.
 *
 * @since 0.1
 */
public enum InitFlag {
  ASYNC_READ(0),
  POSIX_LOCKS(1),
  FILE_OPS(2),
  ATOMIC_O_TRUNC(3),
  EXPORT_SUPPORT(4),
  BIG_WRITES(5),
  DONT_MASK(6),
  SPLICE_WRITE(7),
  SPLICE_MOVE(8),
  SPLICE_READ(9),
  FLOCK_LOCKS(10),
  HAS_IOCTL_DIR(11),
  AUTO_INVAL_DATA(12),
  DO_READDIRPLUS(13),
  READDIRPLUS_AUTO(14),
  ASYNC_DIO(15),
  WRITEBACK_CACHE(16),
  NO_OPEN_SUPPORT(17),
  PARALLEL_DIROPS(18),
  HANDLE_KILLPRIV(19),
  POSIX_ACL(20),
  ABORT_ERROR(21),
  MAX_PAGES(22),
  CACHE_SYMLINKS(23),
  NO_OPENDIR_SUPPORT(24),
  EXPLICIT_INVAL_DATA(25),
  MAP_ALIGNMENT(26),
  SUBMOUNTS(27),
  HANDLE_KILLPRIV_V2(28),
  SETXATTR_EXT(29),
  INIT_EXT(30),
  INIT_RESERVED(31),
  SECURITY_CTX(32),
  HAS_INODE_DAX(33),
  CREATE_SUPP_GROUP(34),
  HAS_EXPIRE_ONLY(35),
  DIRECT_IO_ALLOW_MMAP(36),
  PASSTHROUGH(37),
  NO_EXPORT_SUPPORT(38),
  HAS_RESEND(39),
  ALLOW_IDMAP(40),
  OVER_IO_URING(41),
  REQUEST_TIMEOUT(42);

  private final int bit;

  InitFlag(int bit) {
    this.bit = bit;
  }

  public long mask() {
    return 1L << bit;
  }

  public boolean in(long flags) {
    return (flags & mask()) != 0;
  }

  /** The OR of the given flags' masks. */
  public static long maskOf(InitFlag... flags) {
    long m = 0;
    for (InitFlag f : flags) {
      m |= f.mask();
    }
    return m;
  }

  /** Names of the known bits set in {@code flags}, in bit order; unknown bits as "BIT_n". */
  public static Set<String> names(long flags) {
    Set<String> out = new LinkedHashSet<>();
    InitFlag[] all = values();
    for (int bit = 0; bit < 64; bit++) {
      if ((flags & (1L << bit)) != 0) {
        out.add(bit < all.length && all[bit].bit == bit ? all[bit].name() : "BIT_" + bit);
      }
    }
    return Collections.unmodifiableSet(out);
  }
}
