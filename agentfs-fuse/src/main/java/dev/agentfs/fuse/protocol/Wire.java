package dev.agentfs.fuse.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The FUSE wire structs (include/uapi/linux/fuse.h, protocol 7.45) as records, one per struct,
 * each with its byte size and a decoder or encoder working at an absolute offset of a
 * little-endian buffer. Absolute access keeps the buffer's position untouched, so one reused
 * request buffer can be read field by field without slicing. The hot-path structs (read and
 * write) also expose static field readers so a worker can decode them without allocating.
 *
 * <p>All buffers passed here must be in {@link ByteOrder#LITTLE_ENDIAN} order (FUSE uses the
 * host order; every Linux platform this runs on is little-endian).
 *
 * @since 0.1
 */
public final class Wire {
  private Wire() {}

  /** FUSE_ROOT_ID. */
  public static final long ROOT_ID = 1;
  public static final int KERNEL_VERSION = 7;
  /** The highest minor version this implementation speaks. */
  public static final int KERNEL_MINOR_VERSION = 45;
  /** The kernel refuses read buffers smaller than this (FUSE_MIN_READ_BUFFER). */
  public static final int MIN_READ_BUFFER = 8192;

  // fuse_setattr_in.valid
  public static final int FATTR_MODE = 1;
  public static final int FATTR_UID = 1 << 1;
  public static final int FATTR_GID = 1 << 2;
  public static final int FATTR_SIZE = 1 << 3;
  public static final int FATTR_ATIME = 1 << 4;
  public static final int FATTR_MTIME = 1 << 5;
  public static final int FATTR_FH = 1 << 6;
  public static final int FATTR_ATIME_NOW = 1 << 7;
  public static final int FATTR_MTIME_NOW = 1 << 8;
  public static final int FATTR_LOCKOWNER = 1 << 9;
  public static final int FATTR_CTIME = 1 << 10;
  public static final int FATTR_KILL_SUIDGID = 1 << 11;

  // fuse_open_out.open_flags
  public static final int FOPEN_DIRECT_IO = 1;
  public static final int FOPEN_KEEP_CACHE = 1 << 1;
  public static final int FOPEN_NONSEEKABLE = 1 << 2;
  public static final int FOPEN_CACHE_DIR = 1 << 3;
  public static final int FOPEN_STREAM = 1 << 4;
  public static final int FOPEN_NOFLUSH = 1 << 5;
  public static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
  public static final int FOPEN_PASSTHROUGH = 1 << 7;

  // fuse_open_in.open_flags / fuse_create_in.open_flags
  public static final int FUSE_OPEN_KILL_SUIDGID = 1;

  public static final int FUSE_GETATTR_FH = 1;
  public static final int FUSE_LK_FLOCK = 1;
  public static final int FUSE_RELEASE_FLUSH = 1;
  public static final int FUSE_RELEASE_FLOCK_UNLOCK = 1 << 1;
  public static final int FUSE_WRITE_CACHE = 1;
  public static final int FUSE_WRITE_LOCKOWNER = 1 << 1;
  public static final int FUSE_WRITE_KILL_SUIDGID = 1 << 2;
  public static final int FUSE_FSYNC_FDATASYNC = 1;
  public static final int FUSE_SETXATTR_ACL_KILL_SGID = 1;
  public static final int FUSE_EXPIRE_ONLY = 1;

  // enum fuse_notify_code
  public static final int NOTIFY_POLL = 1;
  public static final int NOTIFY_INVAL_INODE = 2;
  public static final int NOTIFY_INVAL_ENTRY = 3;
  public static final int NOTIFY_STORE = 4;
  public static final int NOTIFY_RETRIEVE = 5;
  public static final int NOTIFY_DELETE = 6;

  // /dev/fuse ioctls (magic 229)
  /** {@code _IOR(229, 0, uint32_t)}: attach a new fd to the connection of the fd given. */
  public static final int FUSE_DEV_IOC_CLONE = ior(229, 0, 4);
  /** {@code _IOW(229, 1, struct fuse_backing_map)}: register a passthrough backing file. */
  public static final int FUSE_DEV_IOC_BACKING_OPEN = iow(229, 1, BackingMap.SIZE);
  /** {@code _IOW(229, 2, uint32_t)}: drop a passthrough backing id. */
  public static final int FUSE_DEV_IOC_BACKING_CLOSE = iow(229, 2, 4);
  /** {@code _IO(229, 3)}: answer INIT inside mount(2) (6.18+; ENOTTY on older kernels). */
  public static final int FUSE_DEV_IOC_SYNC_INIT = io(229, 3);

  static int io(int type, int nr) {
    return (type << 8) | nr;
  }

  static int ior(int type, int nr, int size) {
    return (2 << 30) | (size << 16) | (type << 8) | nr;
  }

  static int iow(int type, int nr, int size) {
    return (1 << 30) | (size << 16) | (type << 8) | nr;
  }

  /** Rounds up to the 8-byte alignment of dirents (FUSE_DIRENT_ALIGN). */
  public static int align8(int n) {
    return (n + 7) & ~7;
  }

  /** Length of the NUL-terminated string at {@code off}, not past {@code end}. */
  public static int cstrlen(ByteBuffer b, int off, int end) {
    int i = off;
    while (i < end && b.get(i) != 0) {
      i++;
    }
    return i - off;
  }

  /** Copies {@code len} bytes at {@code off} into a new array. */
  public static byte[] bytes(ByteBuffer b, int off, int len) {
    byte[] out = new byte[len];
    b.get(off, out, 0, len);
    return out;
  }

  /** A new direct buffer in the byte order the wire uses. */
  public static ByteBuffer allocate(int size) {
    return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  static int u16(ByteBuffer b, int off) {
    return b.getShort(off) & 0xffff;
  }

  // ---------------------------------------------------------------- headers

  /** struct fuse_in_header: 40 bytes in front of every request. */
  public record InHeader(int len, int opcode, long unique, long nodeid, int uid, int gid, int pid,
      int totalExtlen) {
    public static final int SIZE = 40;

    public static InHeader decode(ByteBuffer b, int off) {
      return new InHeader(len(b, off), opcode(b, off), unique(b, off), nodeid(b, off),
          uid(b, off), gid(b, off), pid(b, off), u16(b, off + 36));
    }

    public static int len(ByteBuffer b, int off) {
      return b.getInt(off);
    }

    public static int opcode(ByteBuffer b, int off) {
      return b.getInt(off + 4);
    }

    public static long unique(ByteBuffer b, int off) {
      return b.getLong(off + 8);
    }

    public static long nodeid(ByteBuffer b, int off) {
      return b.getLong(off + 16);
    }

    public static int uid(ByteBuffer b, int off) {
      return b.getInt(off + 24);
    }

    public static int gid(ByteBuffer b, int off) {
      return b.getInt(off + 28);
    }

    public static int pid(ByteBuffer b, int off) {
      return b.getInt(off + 32);
    }

    /** Length of request extensions (security context, supplementary group) in bytes. */
    public static int extlen(ByteBuffer b, int off) {
      return u16(b, off + 36) * 8;
    }

    public int encode(ByteBuffer b, int off) {
      b.putInt(off, len).putInt(off + 4, opcode).putLong(off + 8, unique)
          .putLong(off + 16, nodeid).putInt(off + 24, uid).putInt(off + 28, gid)
          .putInt(off + 32, pid).putShort(off + 36, (short) totalExtlen).putShort(off + 38,
              (short) 0);
      return SIZE;
    }
  }

  /** struct fuse_out_header: 16 bytes in front of every reply and notification. */
  public record OutHeader(int len, int error, long unique) {
    public static final int SIZE = 16;

    public static void encode(ByteBuffer b, int off, int len, int error, long unique) {
      b.putInt(off, len).putInt(off + 4, error).putLong(off + 8, unique);
    }

    public static OutHeader decode(ByteBuffer b, int off) {
      return new OutHeader(b.getInt(off), b.getInt(off + 4), b.getLong(off + 8));
    }
  }

  // ---------------------------------------------------------------- INIT

  /** struct fuse_init_in; {@code flags2} is meaningful only when INIT_EXT is in flags. */
  public record InitIn(int major, int minor, int maxReadahead, long flags) {
    /** The size sent by kernels before 7.36; later ones send {@link #SIZE}. */
    public static final int COMPAT_SIZE = 16;
    public static final int SIZE = 64;

    /** Decodes {@code len} bytes of init_in (16 or 64), joining flags and flags2. */
    public static InitIn decode(ByteBuffer b, int off, int len) {
      long flags = b.getInt(off + 12) & 0xffffffffL;
      if (len >= 20 && InitFlag.INIT_EXT.in(flags)) {
        flags |= (b.getInt(off + 16) & 0xffffffffL) << 32;
      }
      return new InitIn(b.getInt(off), b.getInt(off + 4), b.getInt(off + 8), flags);
    }

    public int encode(ByteBuffer b, int off) {
      for (int i = 0; i < SIZE; i += 4) {
        b.putInt(off + i, 0);
      }
      b.putInt(off, major).putInt(off + 4, minor).putInt(off + 8, maxReadahead)
          .putInt(off + 12, (int) flags).putInt(off + 16, (int) (flags >>> 32));
      return SIZE;
    }
  }

  /** struct fuse_init_out (64 bytes since 7.23; 24 bytes for kernels before that). */
  public record InitOut(int major, int minor, int maxReadahead, long flags, int maxBackground,
      int congestionThreshold, int maxWrite, int timeGran, int maxPages, int mapAlignment,
      int maxStackDepth, int requestTimeout) {
    public static final int SIZE = 64;
    public static final int COMPAT_22_SIZE = 24;

    public int encode(ByteBuffer b, int off) {
      for (int i = 0; i < SIZE; i += 4) {
        b.putInt(off + i, 0);
      }
      b.putInt(off, major).putInt(off + 4, minor).putInt(off + 8, maxReadahead)
          .putInt(off + 12, (int) flags).putShort(off + 16, (short) maxBackground)
          .putShort(off + 18, (short) congestionThreshold).putInt(off + 20, maxWrite)
          .putInt(off + 24, timeGran).putShort(off + 28, (short) maxPages)
          .putShort(off + 30, (short) mapAlignment).putInt(off + 32, (int) (flags >>> 32))
          .putInt(off + 36, maxStackDepth).putShort(off + 40, (short) requestTimeout);
      return SIZE;
    }

    public static InitOut decode(ByteBuffer b, int off) {
      long flags = (b.getInt(off + 12) & 0xffffffffL) | ((long) b.getInt(off + 32) << 32);
      return new InitOut(b.getInt(off), b.getInt(off + 4), b.getInt(off + 8), flags,
          u16(b, off + 16), u16(b, off + 18), b.getInt(off + 20), b.getInt(off + 24),
          u16(b, off + 28), u16(b, off + 30), b.getInt(off + 36), u16(b, off + 40));
    }
  }

  // ---------------------------------------------------------------- attributes and entries

  /** struct fuse_attr: 88 bytes; times are split into seconds and nanoseconds. */
  public record Attr(long ino, long size, long blocks, long atime, long mtime, long ctime,
      int atimensec, int mtimensec, int ctimensec, int mode, int nlink, int uid, int gid,
      int rdev, int blksize, int flags) {
    public static final int SIZE = 88;

    /** Encodes a filesystem attribute record straight into the buffer. */
    public static int encode(ByteBuffer b, int off, dev.agentfs.vfs.Attr a) {
      b.putLong(off, a.ino()).putLong(off + 8, a.size()).putLong(off + 16, a.blocks())
          .putLong(off + 24, Math.floorDiv(a.atimeNs(), 1_000_000_000L))
          .putLong(off + 32, Math.floorDiv(a.mtimeNs(), 1_000_000_000L))
          .putLong(off + 40, Math.floorDiv(a.ctimeNs(), 1_000_000_000L))
          .putInt(off + 48, (int) Math.floorMod(a.atimeNs(), 1_000_000_000L))
          .putInt(off + 52, (int) Math.floorMod(a.mtimeNs(), 1_000_000_000L))
          .putInt(off + 56, (int) Math.floorMod(a.ctimeNs(), 1_000_000_000L))
          .putInt(off + 60, a.mode()).putInt(off + 64, a.nlink()).putInt(off + 68, a.uid())
          .putInt(off + 72, a.gid()).putInt(off + 76, (int) a.rdev())
          .putInt(off + 80, dev.agentfs.vfs.Attr.BLKSIZE).putInt(off + 84, 0);
      return SIZE;
    }

    public static Attr decode(ByteBuffer b, int off) {
      return new Attr(b.getLong(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getLong(off + 24), b.getLong(off + 32), b.getLong(off + 40), b.getInt(off + 48),
          b.getInt(off + 52), b.getInt(off + 56), b.getInt(off + 60), b.getInt(off + 64),
          b.getInt(off + 68), b.getInt(off + 72), b.getInt(off + 76), b.getInt(off + 80),
          b.getInt(off + 84));
    }
  }

  /** struct fuse_entry_out: 128 bytes, the answer to anything that names a new node. */
  public record EntryOut(long nodeid, long generation, long entryValid, long attrValid,
      int entryValidNsec, int attrValidNsec, Attr attr) {
    public static final int SIZE = 40 + Attr.SIZE;

    /**
     * Encodes an entry; {@code attr} null means a negative entry (nodeid 0, zeroed attributes)
     * cached for the entry timeout.
     */
    public static int encode(ByteBuffer b, int off, long nodeid, long generation,
        long entryValidNs, long attrValidNs, dev.agentfs.vfs.@org.jspecify.annotations.Nullable
        Attr attr) {
      b.putLong(off, nodeid).putLong(off + 8, generation)
          .putLong(off + 16, entryValidNs / 1_000_000_000L)
          .putLong(off + 24, attrValidNs / 1_000_000_000L)
          .putInt(off + 32, (int) (entryValidNs % 1_000_000_000L))
          .putInt(off + 36, (int) (attrValidNs % 1_000_000_000L));
      if (attr == null) {
        for (int i = 0; i < Attr.SIZE; i += 8) {
          b.putLong(off + 40 + i, 0);
        }
      } else {
        Attr.encode(b, off + 40, attr);
      }
      return SIZE;
    }

    public static EntryOut decode(ByteBuffer b, int off) {
      return new EntryOut(b.getLong(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getLong(off + 24), b.getInt(off + 32), b.getInt(off + 36), Attr.decode(b, off + 40));
    }
  }

  /** struct fuse_attr_out: 104 bytes. */
  public record AttrOut(long attrValid, int attrValidNsec, Attr attr) {
    public static final int SIZE = 16 + Attr.SIZE;

    public static int encode(ByteBuffer b, int off, long attrValidNs, dev.agentfs.vfs.Attr a) {
      b.putLong(off, attrValidNs / 1_000_000_000L)
          .putInt(off + 8, (int) (attrValidNs % 1_000_000_000L)).putInt(off + 12, 0);
      Attr.encode(b, off + 16, a);
      return SIZE;
    }

    public static AttrOut decode(ByteBuffer b, int off) {
      return new AttrOut(b.getLong(off), b.getInt(off + 8), Attr.decode(b, off + 16));
    }
  }

  /** struct fuse_getattr_in. */
  public record GetattrIn(int getattrFlags, long fh) {
    public static final int SIZE = 16;

    public static GetattrIn decode(ByteBuffer b, int off) {
      return new GetattrIn(b.getInt(off), b.getLong(off + 8));
    }
  }

  /** struct fuse_setattr_in: 88 bytes; which fields count is said by {@code valid}. */
  public record SetattrIn(int valid, long fh, long size, long lockOwner, long atime, long mtime,
      long ctime, int atimensec, int mtimensec, int ctimensec, int mode, int uid, int gid) {
    public static final int SIZE = 88;

    public static SetattrIn decode(ByteBuffer b, int off) {
      return new SetattrIn(b.getInt(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getLong(off + 24), b.getLong(off + 32), b.getLong(off + 40), b.getLong(off + 48),
          b.getInt(off + 56), b.getInt(off + 60), b.getInt(off + 64), b.getInt(off + 68),
          b.getInt(off + 76), b.getInt(off + 80));
    }

    public int encode(ByteBuffer b, int off) {
      for (int i = 0; i < SIZE; i += 8) {
        b.putLong(off + i, 0);
      }
      b.putInt(off, valid).putLong(off + 8, fh).putLong(off + 16, size)
          .putLong(off + 24, lockOwner).putLong(off + 32, atime).putLong(off + 40, mtime)
          .putLong(off + 48, ctime).putInt(off + 56, atimensec).putInt(off + 60, mtimensec)
          .putInt(off + 64, ctimensec).putInt(off + 68, mode).putInt(off + 76, uid)
          .putInt(off + 80, gid);
      return SIZE;
    }
  }

  // ---------------------------------------------------------------- naming operations

  /** struct fuse_mknod_in (followed by the name). */
  public record MknodIn(int mode, int rdev, int umask) {
    public static final int SIZE = 16;

    public static MknodIn decode(ByteBuffer b, int off) {
      return new MknodIn(b.getInt(off), b.getInt(off + 4), b.getInt(off + 8));
    }
  }

  /** struct fuse_mkdir_in (followed by the name). */
  public record MkdirIn(int mode, int umask) {
    public static final int SIZE = 8;

    public static MkdirIn decode(ByteBuffer b, int off) {
      return new MkdirIn(b.getInt(off), b.getInt(off + 4));
    }
  }

  /** struct fuse_rename_in (old name and new name follow). */
  public record RenameIn(long newdir) {
    public static final int SIZE = 8;

    public static RenameIn decode(ByteBuffer b, int off) {
      return new RenameIn(b.getLong(off));
    }
  }

  /** struct fuse_rename2_in (old name and new name follow). */
  public record Rename2In(long newdir, int flags) {
    public static final int SIZE = 16;

    public static Rename2In decode(ByteBuffer b, int off) {
      return new Rename2In(b.getLong(off), b.getInt(off + 8));
    }
  }

  /** struct fuse_link_in (new name follows; the header's nodeid is the new parent). */
  public record LinkIn(long oldnodeid) {
    public static final int SIZE = 8;

    public static LinkIn decode(ByteBuffer b, int off) {
      return new LinkIn(b.getLong(off));
    }
  }

  // ---------------------------------------------------------------- open files

  /** struct fuse_open_in, for OPEN and OPENDIR. */
  public record OpenIn(int flags, int openFlags) {
    public static final int SIZE = 8;

    public static OpenIn decode(ByteBuffer b, int off) {
      return new OpenIn(b.getInt(off), b.getInt(off + 4));
    }
  }

  /** struct fuse_create_in, for CREATE and TMPFILE (name follows for CREATE). */
  public record CreateIn(int flags, int mode, int umask, int openFlags) {
    public static final int SIZE = 16;

    public static CreateIn decode(ByteBuffer b, int off) {
      return new CreateIn(b.getInt(off), b.getInt(off + 4), b.getInt(off + 8),
          b.getInt(off + 12));
    }
  }

  /** struct fuse_open_out; {@code backingId} names a passthrough file (7.40), else 0. */
  public record OpenOut(long fh, int openFlags, int backingId) {
    public static final int SIZE = 16;

    public static int encode(ByteBuffer b, int off, long fh, int openFlags, int backingId) {
      b.putLong(off, fh).putInt(off + 8, openFlags).putInt(off + 12, backingId);
      return SIZE;
    }

    public static OpenOut decode(ByteBuffer b, int off) {
      return new OpenOut(b.getLong(off), b.getInt(off + 8), b.getInt(off + 12));
    }
  }

  /** struct fuse_release_in, for RELEASE and RELEASEDIR. */
  public record ReleaseIn(long fh, int flags, int releaseFlags, long lockOwner) {
    public static final int SIZE = 24;

    public static ReleaseIn decode(ByteBuffer b, int off) {
      return new ReleaseIn(b.getLong(off), b.getInt(off + 8), b.getInt(off + 12),
          b.getLong(off + 16));
    }
  }

  /** struct fuse_flush_in. */
  public record FlushIn(long fh, long lockOwner) {
    public static final int SIZE = 24;

    public static FlushIn decode(ByteBuffer b, int off) {
      return new FlushIn(b.getLong(off), b.getLong(off + 16));
    }
  }

  /** struct fuse_fsync_in, for FSYNC and FSYNCDIR. */
  public record FsyncIn(long fh, int fsyncFlags) {
    public static final int SIZE = 16;

    public static FsyncIn decode(ByteBuffer b, int off) {
      return new FsyncIn(b.getLong(off), b.getInt(off + 8));
    }
  }

  /** struct fuse_read_in, for READ, READDIR and READDIRPLUS. */
  public record ReadIn(long fh, long offset, int size, int readFlags, long lockOwner,
      int flags) {
    public static final int SIZE = 40;

    public static ReadIn decode(ByteBuffer b, int off) {
      return new ReadIn(fh(b, off), offset(b, off), size(b, off), b.getInt(off + 20),
          b.getLong(off + 24), b.getInt(off + 32));
    }

    public static long fh(ByteBuffer b, int off) {
      return b.getLong(off);
    }

    public static long offset(ByteBuffer b, int off) {
      return b.getLong(off + 8);
    }

    public static int size(ByteBuffer b, int off) {
      return b.getInt(off + 16);
    }

    public int encode(ByteBuffer b, int off) {
      b.putLong(off, fh).putLong(off + 8, offset).putInt(off + 16, size)
          .putInt(off + 20, readFlags).putLong(off + 24, lockOwner).putInt(off + 32, flags)
          .putInt(off + 36, 0);
      return SIZE;
    }
  }

  /** struct fuse_write_in: the data follows it. */
  public record WriteIn(long fh, long offset, int size, int writeFlags, long lockOwner,
      int flags) {
    public static final int SIZE = 40;

    public static WriteIn decode(ByteBuffer b, int off) {
      return new WriteIn(fh(b, off), offset(b, off), size(b, off), writeFlags(b, off),
          b.getLong(off + 24), b.getInt(off + 32));
    }

    public static long fh(ByteBuffer b, int off) {
      return b.getLong(off);
    }

    public static long offset(ByteBuffer b, int off) {
      return b.getLong(off + 8);
    }

    public static int size(ByteBuffer b, int off) {
      return b.getInt(off + 16);
    }

    public static int writeFlags(ByteBuffer b, int off) {
      return b.getInt(off + 20);
    }

    public int encode(ByteBuffer b, int off) {
      b.putLong(off, fh).putLong(off + 8, offset).putInt(off + 16, size)
          .putInt(off + 20, writeFlags).putLong(off + 24, lockOwner).putInt(off + 32, flags)
          .putInt(off + 36, 0);
      return SIZE;
    }
  }

  /** struct fuse_write_out. */
  public record WriteOut(int size) {
    public static final int SIZE = 8;

    public static int encode(ByteBuffer b, int off, int size) {
      b.putInt(off, size).putInt(off + 4, 0);
      return SIZE;
    }
  }

  // ---------------------------------------------------------------- xattrs

  /**
   * struct fuse_setxattr_in: 8 bytes, or 16 when SETXATTR_EXT was granted (adds
   * {@code setxattrFlags}); the name and the value follow.
   */
  public record SetxattrIn(int size, int flags, int setxattrFlags) {
    public static final int COMPAT_SIZE = 8;
    public static final int SIZE = 16;

    public static SetxattrIn decode(ByteBuffer b, int off, boolean ext) {
      return new SetxattrIn(b.getInt(off), b.getInt(off + 4), ext ? b.getInt(off + 8) : 0);
    }
  }

  /** struct fuse_getxattr_in, for GETXATTR (name follows) and LISTXATTR. */
  public record GetxattrIn(int size) {
    public static final int SIZE = 8;

    public static GetxattrIn decode(ByteBuffer b, int off) {
      return new GetxattrIn(b.getInt(off));
    }
  }

  /** struct fuse_getxattr_out: the answer to a size probe (requested size 0). */
  public record GetxattrOut(int size) {
    public static final int SIZE = 8;

    public static int encode(ByteBuffer b, int off, int size) {
      b.putInt(off, size).putInt(off + 4, 0);
      return SIZE;
    }
  }

  // ---------------------------------------------------------------- locks

  /** struct fuse_file_lock; {@code end} is inclusive, OFFSET_MAX means "to end of file". */
  public record FileLock(long start, long end, int type, int pid) {
    public static final int SIZE = 24;

    public static FileLock decode(ByteBuffer b, int off) {
      return new FileLock(b.getLong(off), b.getLong(off + 8), b.getInt(off + 16),
          b.getInt(off + 20));
    }

    public static int encode(ByteBuffer b, int off, long start, long end, int type, int pid) {
      b.putLong(off, start).putLong(off + 8, end).putInt(off + 16, type).putInt(off + 20, pid);
      return SIZE;
    }
  }

  /** struct fuse_lk_in, for GETLK, SETLK and SETLKW. */
  public record LkIn(long fh, long owner, FileLock lk, int lkFlags) {
    public static final int SIZE = 48;

    public static LkIn decode(ByteBuffer b, int off) {
      return new LkIn(b.getLong(off), b.getLong(off + 8), FileLock.decode(b, off + 16),
          b.getInt(off + 40));
    }
  }

  /** struct fuse_lk_out. */
  public record LkOut(FileLock lk) {
    public static final int SIZE = FileLock.SIZE;
  }

  // ---------------------------------------------------------------- misc operations

  /** struct fuse_access_in. */
  public record AccessIn(int mask) {
    public static final int SIZE = 8;

    public static AccessIn decode(ByteBuffer b, int off) {
      return new AccessIn(b.getInt(off));
    }
  }

  /** struct fuse_interrupt_in: the unique id of the request to abort. */
  public record InterruptIn(long unique) {
    public static final int SIZE = 8;

    public static InterruptIn decode(ByteBuffer b, int off) {
      return new InterruptIn(b.getLong(off));
    }
  }

  /** struct fuse_forget_in. */
  public record ForgetIn(long nlookup) {
    public static final int SIZE = 8;

    public static ForgetIn decode(ByteBuffer b, int off) {
      return new ForgetIn(b.getLong(off));
    }
  }

  /** struct fuse_batch_forget_in: {@code count} {@link ForgetOne}s follow. */
  public record BatchForgetIn(int count) {
    public static final int SIZE = 8;

    public static BatchForgetIn decode(ByteBuffer b, int off) {
      return new BatchForgetIn(b.getInt(off));
    }
  }

  /** struct fuse_forget_one. */
  public record ForgetOne(long nodeid, long nlookup) {
    public static final int SIZE = 16;

    public static ForgetOne decode(ByteBuffer b, int off) {
      return new ForgetOne(b.getLong(off), b.getLong(off + 8));
    }
  }

  /** struct fuse_fallocate_in. */
  public record FallocateIn(long fh, long offset, long length, int mode) {
    public static final int SIZE = 32;

    public static FallocateIn decode(ByteBuffer b, int off) {
      return new FallocateIn(b.getLong(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getInt(off + 24));
    }
  }

  /** struct fuse_lseek_in. */
  public record LseekIn(long fh, long offset, int whence) {
    public static final int SIZE = 24;

    public static LseekIn decode(ByteBuffer b, int off) {
      return new LseekIn(b.getLong(off), b.getLong(off + 8), b.getInt(off + 16));
    }
  }

  /** struct fuse_lseek_out. */
  public record LseekOut(long offset) {
    public static final int SIZE = 8;
  }

  /** struct fuse_copy_file_range_in (the header's nodeid is the source inode). */
  public record CopyFileRangeIn(long fhIn, long offIn, long nodeidOut, long fhOut, long offOut,
      long len, long flags) {
    public static final int SIZE = 56;

    public static CopyFileRangeIn decode(ByteBuffer b, int off) {
      return new CopyFileRangeIn(b.getLong(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getLong(off + 24), b.getLong(off + 32), b.getLong(off + 40), b.getLong(off + 48));
    }
  }

  /** struct fuse_copy_file_range_out, the 64-bit answer of COPY_FILE_RANGE_64. */
  public record CopyFileRangeOut(long bytesCopied) {
    public static final int SIZE = 8;
  }

  /** struct fuse_kstatfs (the whole of fuse_statfs_out): 80 bytes. */
  public record Kstatfs(long blocks, long bfree, long bavail, long files, long ffree, int bsize,
      int namelen, int frsize) {
    public static final int SIZE = 80;

    public static int encode(ByteBuffer b, int off, dev.agentfs.vfs.StatFs s) {
      for (int i = 0; i < SIZE; i += 8) {
        b.putLong(off + i, 0);
      }
      b.putLong(off, s.blocks()).putLong(off + 8, s.bfree()).putLong(off + 16, s.bavail())
          .putLong(off + 24, s.files()).putLong(off + 32, s.ffree()).putInt(off + 40, s.bsize())
          .putInt(off + 44, s.namelen()).putInt(off + 48, s.frsize());
      return SIZE;
    }

    public static Kstatfs decode(ByteBuffer b, int off) {
      return new Kstatfs(b.getLong(off), b.getLong(off + 8), b.getLong(off + 16),
          b.getLong(off + 24), b.getLong(off + 32), b.getInt(off + 40), b.getInt(off + 44),
          b.getInt(off + 48));
    }
  }

  /** fuse_ioctl_in.flags: the command's sizes are not encoded in it (CUSE only). */
  public static final int FUSE_IOCTL_UNRESTRICTED = 1 << 1;

  /** struct fuse_ioctl_in. */
  public record IoctlIn(long fh, int flags, int cmd, long arg, int inSize, int outSize) {
    public static final int SIZE = 32;

    public static IoctlIn decode(ByteBuffer b, int off) {
      return new IoctlIn(b.getLong(off), b.getInt(off + 8), b.getInt(off + 12),
          b.getLong(off + 16), b.getInt(off + 24), b.getInt(off + 28));
    }
  }

  /** struct fuse_poll_in. */
  public record PollIn(long fh, long kh, int flags, int events) {
    public static final int SIZE = 24;

    public static PollIn decode(ByteBuffer b, int off) {
      return new PollIn(b.getLong(off), b.getLong(off + 8), b.getInt(off + 16),
          b.getInt(off + 20));
    }
  }

  /** struct fuse_statx_in (7.39); answered with ENOSYS so the kernel falls back to GETATTR. */
  public record StatxIn(int getattrFlags, long fh, int sxFlags, int sxMask) {
    public static final int SIZE = 24;

    public static StatxIn decode(ByteBuffer b, int off) {
      return new StatxIn(b.getInt(off), b.getLong(off + 8), b.getInt(off + 16),
          b.getInt(off + 20));
    }
  }

  /** struct fuse_backing_map, the argument of FUSE_DEV_IOC_BACKING_OPEN (passthrough). */
  public record BackingMap(int fd, int flags) {
    public static final int SIZE = 16;

    public int encode(ByteBuffer b, int off) {
      b.putInt(off, fd).putInt(off + 4, flags).putLong(off + 8, 0);
      return SIZE;
    }
  }

  // ---------------------------------------------------------------- directory entries

  /** struct fuse_dirent: 24 bytes plus the name, padded to 8 bytes. */
  public record Dirent(long ino, long off, int type, byte[] name) {
    public static final int NAME_OFFSET = 24;

    /** Bytes one entry with a name of {@code nameLen} takes, padding included. */
    public static int size(int nameLen) {
      return align8(NAME_OFFSET + nameLen);
    }

    public static int encode(ByteBuffer b, int at, long ino, long nextOff, int type,
        byte[] name) {
      b.putLong(at, ino).putLong(at + 8, nextOff).putInt(at + 16, name.length)
          .putInt(at + 20, type);
      b.put(at + NAME_OFFSET, name);
      int end = at + size(name.length);
      for (int i = at + NAME_OFFSET + name.length; i < end; i++) {
        b.put(i, (byte) 0);
      }
      return end - at;
    }

    public static Dirent decode(ByteBuffer b, int at) {
      int n = b.getInt(at + 16);
      return new Dirent(b.getLong(at), b.getLong(at + 8), b.getInt(at + 20),
          bytes(b, at + NAME_OFFSET, n));
    }
  }

  /** struct fuse_direntplus: an entry_out followed by a dirent. */
  public record Direntplus(EntryOut entry, Dirent dirent) {
    public static int size(int nameLen) {
      return align8(EntryOut.SIZE + Dirent.NAME_OFFSET + nameLen);
    }

    public static Direntplus decode(ByteBuffer b, int at) {
      return new Direntplus(EntryOut.decode(b, at), Dirent.decode(b, at + EntryOut.SIZE));
    }
  }

  // ---------------------------------------------------------------- notifications

  /** struct fuse_notify_inval_inode_out: offset -1 drops attributes only, len 0 to the end. */
  public record NotifyInvalInodeOut(long ino, long off, long len) {
    public static final int SIZE = 24;

    public int encode(ByteBuffer b, int at) {
      b.putLong(at, ino).putLong(at + 8, off).putLong(at + 16, len);
      return SIZE;
    }

    public static NotifyInvalInodeOut decode(ByteBuffer b, int at) {
      return new NotifyInvalInodeOut(b.getLong(at), b.getLong(at + 8), b.getLong(at + 16));
    }
  }

  /** struct fuse_notify_inval_entry_out: the name and a NUL byte follow. */
  public record NotifyInvalEntryOut(long parent, int namelen, int flags) {
    public static final int SIZE = 16;

    public int encode(ByteBuffer b, int at) {
      b.putLong(at, parent).putInt(at + 8, namelen).putInt(at + 12, flags);
      return SIZE;
    }

    public static NotifyInvalEntryOut decode(ByteBuffer b, int at) {
      return new NotifyInvalEntryOut(b.getLong(at), b.getInt(at + 8), b.getInt(at + 12));
    }
  }
}
