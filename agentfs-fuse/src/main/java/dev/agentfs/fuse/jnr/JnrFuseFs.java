package dev.agentfs.fuse.jnr;

import com.kenai.jffi.MemoryIO;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.core.BranchFs;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.StatFs;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.NotImplemented;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Flock;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Adapts libfuse2's path-based high-level operations onto the inode-level {@link Vfs}.
 *
 * <p>Paths are resolved component by component from {@link Vfs#ROOT} as the calling process
 * (so search permission is checked as the kernel would), with {@link BranchFs#lookupNoRef}
 * when the Vfs is a branch and lookup+forget otherwise; nothing is cached between calls, so
 * changes made through the Java API are visible at once. Open files and directories are kept
 * in a handle table keyed by the {@code fh} given to libfuse, so every handle-based operation
 * (read, write, fstat, ftruncate, locks, ...) works on the inode even after its name was
 * unlinked or renamed: the mount uses {@code hard_remove} and {@code flag_nullpath_ok}, and
 * such operations never look at the path.
 *
 * <p>Every callback catches everything: an {@link AgentFsException} becomes its negated errno,
 * anything else is logged and becomes {@code -EIO}. Nothing is thrown into native code.
 *
 * @since 0.1
 */
public final class JnrFuseFs extends FuseStubFS {
  private static final Logger LOG = LoggerFactory.getLogger(JnrFuseFs.class);

  private static final boolean LINUX = Platform.getNativePlatform().getOS() == Platform.OS.LINUX;
  private static final boolean MAC = Platform.getNativePlatform().getOS() == Platform.OS.DARWIN;
  private static final int F_GETLK = constant(jnr.constants.platform.Fcntl.F_GETLK, 5);
  private static final int F_SETLKW = constant(jnr.constants.platform.Fcntl.F_SETLKW, 7);
  private static final int F_RDLCK = constant(jnr.constants.platform.Fcntl.F_RDLCK, 0);
  private static final int F_WRLCK = constant(jnr.constants.platform.Fcntl.F_WRLCK, 1);
  private static final int F_UNLCK = constant(jnr.constants.platform.Fcntl.F_UNLCK, 2);
  private static final int LOCK_EX = 2;
  private static final int LOCK_NB = 4;
  private static final int LOCK_UN = 8;
  /** utimensat's special tv_nsec values: Linux, and macOS (which uses -1 and -2). */
  private static final long UTIME_NOW = (1L << 30) - 1;
  private static final long UTIME_OMIT = (1L << 30) - 2;

  /** FUSE_CAP_* bits of libfuse2's struct fuse_conn_info, by bit number. */
  private static final String[] CAPS = {"ASYNC_READ", "POSIX_LOCKS", "BIT_2", "ATOMIC_O_TRUNC",
      "EXPORT_SUPPORT", "BIG_WRITES", "DONT_MASK", "SPLICE_WRITE", "SPLICE_MOVE", "SPLICE_READ",
      "FLOCK_LOCKS", "IOCTL_DIR"};

  /** The platform errno of each {@link Errno}, by ordinal (they differ on macOS). */
  private static final int[] ERRNO = new int[Errno.values().length];

  static {
    for (Errno e : Errno.values()) {
      int code = e.code();
      if (!LINUX) {
        try {
          jnr.constants.platform.Errno p = jnr.constants.platform.Errno.valueOf(e.name());
          if (p.defined()) {
            code = p.intValue();
          }
        } catch (IllegalArgumentException ignored) {
          // no such name on this platform; keep the Linux number
        }
      }
      ERRNO[e.ordinal()] = code;
    }
  }

  private static int constant(jnr.constants.platform.Fcntl c, int linux) {
    return LINUX || !c.defined() ? linux : c.intValue();
  }

  /** An open file or directory: the inode and the Vfs's own handle. */
  private record Open(long ino, long fh) {}

  /** A parent directory and a name in it. */
  private record Entry(long parent, byte[] name) {}

  @FunctionalInterface
  private interface Op {
    int run() throws AgentFsException;
  }

  private final Vfs vfs;
  private final @Nullable BranchFs branch;
  private final int maxBackground;
  private final int congestionThreshold;
  private final ConcurrentHashMap<Long, Open> handles = new ConcurrentHashMap<>();
  private final AtomicLong nextFh = new AtomicLong();
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final ThreadLocal<FileStat> dirStat =
      ThreadLocal.withInitial(() -> new FileStat(Runtime.getSystemRuntime()));
  private volatile Set<String> granted = Set.of();
  private volatile boolean destroyed;

  /**
   * @param maxBackground written into fuse_conn_info at INIT (libfuse2 2.9 on Linux), 0 keeps
   *     libfuse's default
   */
  public JnrFuseFs(Vfs vfs, int maxBackground, int congestionThreshold) {
    this.vfs = vfs;
    this.branch = vfs instanceof BranchFs b ? b : null;
    this.maxBackground = maxBackground;
    this.congestionThreshold = congestionThreshold;
    // Handle-based operations may see a null path (unlinked while open): let libfuse call us
    // anyway instead of failing them, and pass UTIME_NOW/UTIME_OMIT through to utimens.
    Pointer ops = Struct.getMemory(fuseOperations);
    // The bit field follows the 38 function pointers getattr..bmap of struct fuse_operations
    // (libfuse 2.9); little-endian, so its low byte holds bits 0..7.
    long flags = 38L * Runtime.getSystemRuntime().addressSize();
    ops.putByte(flags, (byte) (ops.getByte(flags) | 0b101));
  }

  // ------------------------------------------------------------------ lifecycle (package)

  /** Runs libfuse's main loop with {@code args} until the file system is unmounted. */
  int run(List<String> args) {
    String[] argv = args.toArray(new String[0]);
    return libFuse.fuse_main_real(argv.length, argv, fuseOperations,
        Struct.size(fuseOperations), null);
  }

  /** Completes when libfuse handled the kernel's INIT: the mount exists and is being served. */
  CompletableFuture<Void> initialized() {
    return initialized;
  }

  Set<String> granted() {
    return granted;
  }

  boolean destroyed() {
    return destroyed;
  }

  /** Open files and directories (for diagnostics and tests). */
  int openHandles() {
    return handles.size();
  }

  @Override
  public @Nullable Pointer init(Pointer conn) {
    try {
      if (LINUX && conn != null) {
        // struct fuse_conn_info (libfuse 2.9): proto_major, proto_minor, async_read,
        // max_write, max_readahead, capable, want, max_background, congestion_threshold.
        int minor = conn.getInt(4);
        if (minor >= 13 && maxBackground > 0) {
          conn.putInt(28, maxBackground);
          conn.putInt(32, Math.min(congestionThreshold, maxBackground));
        }
        int caps = conn.getInt(20) & conn.getInt(24);
        Set<String> names = new LinkedHashSet<>();
        if (conn.getInt(8) != 0) {
          names.add("ASYNC_READ");
        }
        for (int bit = 0; bit < CAPS.length; bit++) {
          if ((caps & (1 << bit)) != 0) {
            names.add(CAPS[bit]);
          }
        }
        granted = Set.copyOf(names);
      }
    } catch (RuntimeException | Error e) {
      LOG.error("init failed", e);
    } finally {
      initialized.complete(null);
    }
    return null;
  }

  @Override
  public void destroy(Pointer initResult) {
    destroyed = true;
  }

  // ------------------------------------------------------------------ plumbing

  private static int neg(Errno e) {
    return -ERRNO[e.ordinal()];
  }

  private int call(String what, @Nullable String path, Op op) {
    try {
      return op.run();
    } catch (AgentFsException e) {
      if (LOG.isTraceEnabled()) {
        LOG.trace("{} {}: {}", what, path, e.getMessage());
      }
      return neg(e.errno());
    } catch (Throwable t) { // never let anything unwind into libfuse
      try {
        LOG.error("{} {} failed", what, path, t);
      } catch (Throwable ignored) {
        // logging itself failed; still answer
      }
      return neg(Errno.EIO);
    }
  }

  private Caller caller() {
    FuseContext ctx = getContext();
    int pid = ctx.pid.intValue();
    return new Caller(pid, ctx.uid.intValue(), ctx.gid.intValue(), JnrFuseFs::groups);
  }

  /** Supplementary groups of {@code pid} from /proc (empty where there is no /proc). */
  static int[] groups(int pid) {
    if (pid <= 0 || !LINUX) {
      return new int[0];
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"),
          StandardCharsets.ISO_8859_1)) {
        if (line.startsWith("Groups:")) {
          String t = line.substring(7).trim();
          return t.isEmpty() ? new int[0]
              : Arrays.stream(t.split("\\s+")).mapToInt(s -> (int) Long.parseLong(s)).toArray();
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process is gone: no groups
    }
    return new int[0];
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The inode at {@code path}, walked from the root as {@code c}; holds no reference. */
  private long resolve(Caller c, @Nullable String path) throws AgentFsException {
    if (path == null) {
      throw new AgentFsException(Errno.ENOENT, null, null, "no path: unlinked while open");
    }
    long ino = Vfs.ROOT;
    int n = path.length();
    int i = 0;
    while (i < n) {
      int j = path.indexOf('/', i);
      if (j < 0) {
        j = n;
      }
      if (j > i) {
        ino = child(c, ino, bytes(path.substring(i, j)));
      }
      i = j + 1;
    }
    return ino;
  }

  private long child(Caller c, long parent, byte[] name) throws AgentFsException {
    BranchFs b = branch;
    if (b != null) {
      return b.lookupNoRef(c, parent, name);
    }
    Attr a = vfs.lookup(c, parent, name);
    vfs.forget(a.ino(), 1);
    return a.ino();
  }

  private Entry entry(Caller c, @Nullable String path) throws AgentFsException {
    if (path == null) {
      throw new AgentFsException(Errno.ENOENT, null);
    }
    int k = path.lastIndexOf('/');
    long parent = resolve(c, path.substring(0, Math.max(k, 0)));
    return new Entry(parent, bytes(path.substring(k + 1)));
  }

  private long register(long ino, long fh) {
    long key = nextFh.incrementAndGet();
    handles.put(key, new Open(ino, fh));
    return key;
  }

  private Open handle(FuseFileInfo fi) throws AgentFsException {
    Open o = handles.get(fi.fh.get());
    if (o == null) {
      throw new AgentFsException(Errno.EBADF, null, null, "unknown file handle " + fi.fh.get());
    }
    return o;
  }

  private static void fill(FileStat st, Attr a) {
    st.st_ino.set(a.ino());
    st.st_mode.set(a.mode());
    st.st_nlink.set(a.nlink());
    st.st_uid.set(a.uid());
    st.st_gid.set(a.gid());
    st.st_rdev.set(a.rdev());
    st.st_size.set(a.size());
    st.st_blksize.set(Attr.BLKSIZE);
    st.st_blocks.set(a.blocks());
    time(st.st_atim, a.atimeNs());
    time(st.st_mtim, a.mtimeNs());
    time(st.st_ctim, a.ctimeNs());
  }

  private static void time(Timespec t, long ns) {
    t.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
    t.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
  }

  /** A native buffer seen as a ByteBuffer, without copying. */
  private static ByteBuffer view(Pointer p, long size) {
    return MemoryIO.getInstance().newDirectByteBuffer(p.address(), (int) Math.min(size,
        Integer.MAX_VALUE));
  }

  /** Copies {@code value} out as getxattr/listxattr do: size probe, ERANGE, or the bytes. */
  private static int copyOut(byte[] value, Pointer dst, long size) {
    if (size == 0) {
      return value.length;
    }
    if (value.length > size) {
      return neg(Errno.ERANGE);
    }
    dst.put(0, value, 0, value.length);
    return value.length;
  }

  private Attr setattr(Caller c, @Nullable String path, SetAttr s) throws AgentFsException {
    return vfs.setattr(c, resolve(c, path), 0, s);
  }

  // ------------------------------------------------------------------ attributes

  @Override
  public int getattr(String path, FileStat stat) {
    return call("getattr", path, () -> {
      Caller c = caller();
      fill(stat, vfs.getattr(c, resolve(c, path), 0));
      return 0;
    });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return call("fgetattr", path, () -> {
      Caller c = caller();
      Open o = handles.get(fi.fh.get());
      if (o == null) {
        fill(stat, vfs.getattr(c, resolve(c, path), 0));
      } else {
        fill(stat, vfs.getattr(c, o.ino(), o.fh()));
      }
      return 0;
    });
  }

  @Override
  public int chmod(String path, long mode) {
    return call("chmod", path, () -> {
      setattr(caller(), path, SetAttr.mode((int) mode & 07777));
      return 0;
    });
  }

  @Override
  public int chown(String path, long uid, long gid) {
    // libfuse passes (uid_t) -1 for "unchanged"; SetAttr.owner leaves negative ids alone.
    return call("chown", path, () -> {
      setattr(caller(), path, SetAttr.owner((int) uid, (int) gid));
      return 0;
    });
  }

  @Override
  public int truncate(String path, long size) {
    return call("truncate", path, () -> {
      setattr(caller(), path, SetAttr.size(size));
      return 0;
    });
  }

  @Override
  public int ftruncate(String path, long size, FuseFileInfo fi) {
    return call("ftruncate", path, () -> {
      Caller c = caller();
      Open o = handles.get(fi.fh.get());
      if (o == null) {
        setattr(c, path, SetAttr.size(size));
      } else {
        vfs.setattr(c, o.ino(), o.fh(), SetAttr.size(size));
      }
      return 0;
    });
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    return call("utimens", path, () -> {
      int valid = 0;
      long[] ns = new long[2];
      int[] set = {SetAttr.ATIME, SetAttr.MTIME};
      int[] now = {SetAttr.ATIME_NOW, SetAttr.MTIME_NOW};
      for (int i = 0; i < 2; i++) {
        long sec = timespec[i].tv_sec.longValue();
        long nsec = timespec[i].tv_nsec.longValue();
        if (nsec == UTIME_NOW || (MAC && nsec == -1)) {
          valid |= set[i] | now[i];
        } else if (!(nsec == UTIME_OMIT || (MAC && nsec == -2))) {
          valid |= set[i];
          ns[i] = sec * 1_000_000_000L + nsec;
        }
      }
      setattr(caller(), path, new SetAttr(valid, 0, 0, 0, 0, ns[0], ns[1], 0));
      return 0;
    });
  }

  @Override
  public int access(String path, int mask) {
    return call("access", path, () -> {
      Caller c = caller();
      vfs.access(c, resolve(c, path), mask);
      return 0;
    });
  }

  @Override
  public int readlink(String path, Pointer buf, long size) {
    return call("readlink", path, () -> {
      Caller c = caller();
      byte[] target = vfs.readlink(c, resolve(c, path));
      if (size <= 0) {
        return neg(Errno.EINVAL);
      }
      int n = (int) Math.min(target.length, size - 1);
      buf.put(0, target, 0, n);
      buf.putByte(n, (byte) 0);
      return 0;
    });
  }

  @Override
  public int statfs(String path, Statvfs st) {
    return call("statfs", path, () -> {
      Caller c = caller();
      StatFs s = vfs.statfs(c, Vfs.ROOT);
      st.f_bsize.set(s.bsize());
      st.f_frsize.set(s.frsize());
      st.f_blocks.set(s.blocks());
      st.f_bfree.set(s.bfree());
      st.f_bavail.set(s.bavail());
      st.f_files.set(s.files());
      st.f_ffree.set(s.ffree());
      st.f_favail.set(s.ffree());
      st.f_namemax.set(s.namelen());
      return 0;
    });
  }

  // ------------------------------------------------------------------ names

  @Override
  public int mknod(String path, long mode, long rdev) {
    return call("mknod", path, () -> {
      Caller c = caller();
      Entry e = entry(c, path);
      Attr a = vfs.mknod(c, e.parent(), e.name(), (int) mode, rdev, 0);
      vfs.forget(a.ino(), 1);
      return 0;
    });
  }

  @Override
  public int mkdir(String path, long mode) {
    return call("mkdir", path, () -> {
      Caller c = caller();
      Entry e = entry(c, path);
      Attr a = vfs.mkdir(c, e.parent(), e.name(), (int) mode & 07777, 0);
      vfs.forget(a.ino(), 1);
      return 0;
    });
  }

  @Override
  public int symlink(String target, String linkPath) {
    return call("symlink", linkPath, () -> {
      Caller c = caller();
      Entry e = entry(c, linkPath);
      Attr a = vfs.symlink(c, e.parent(), e.name(), bytes(target));
      vfs.forget(a.ino(), 1);
      return 0;
    });
  }

  @Override
  public int link(String from, String to) {
    return call("link", to, () -> {
      Caller c = caller();
      long ino = resolve(c, from);
      Entry e = entry(c, to);
      Attr a = vfs.link(c, ino, e.parent(), e.name());
      vfs.forget(a.ino(), 1);
      return 0;
    });
  }

  @Override
  public int unlink(String path) {
    return call("unlink", path, () -> {
      Caller c = caller();
      Entry e = entry(c, path);
      vfs.unlink(c, e.parent(), e.name());
      return 0;
    });
  }

  @Override
  public int rmdir(String path) {
    return call("rmdir", path, () -> {
      Caller c = caller();
      Entry e = entry(c, path);
      vfs.rmdir(c, e.parent(), e.name());
      return 0;
    });
  }

  /** libfuse2 has no renameat2 flags: the kernel answers RENAME_NOREPLACE/EXCHANGE itself. */
  @Override
  public int rename(String from, String to) {
    return call("rename", from, () -> {
      Caller c = caller();
      Entry a = entry(c, from);
      Entry b = entry(c, to);
      vfs.rename(c, a.parent(), a.name(), b.parent(), b.name(), 0);
      return 0;
    });
  }

  // ------------------------------------------------------------------ files

  @Override
  public int open(String path, FuseFileInfo fi) {
    return call("open", path, () -> {
      Caller c = caller();
      long ino = resolve(c, path);
      long fh = vfs.open(c, ino, fi.flags.get());
      fi.fh.set(register(ino, fh));
      return 0;
    });
  }

  @Override
  public int create(String path, long mode, FuseFileInfo fi) {
    return call("create", path, () -> {
      Caller c = caller();
      Entry e = entry(c, path);
      Created cr = vfs.create(c, e.parent(), e.name(), (int) mode, fi.flags.get(), 0);
      long ino = cr.attr().ino();
      vfs.forget(ino, 1); // the open handle keeps the node alive from here on
      fi.fh.set(register(ino, cr.fh()));
      return 0;
    });
  }

  @Override
  public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
    return call("read", path, () -> {
      Open o = handle(fi);
      ByteBuffer dst = view(buf, size);
      // A short reply means end of file to the kernel: fill the buffer unless at EOF.
      while (dst.hasRemaining()) {
        int n = vfs.read(o.ino(), o.fh(), offset + dst.position(), dst);
        if (n <= 0) {
          break;
        }
      }
      return dst.position();
    });
  }

  @Override
  public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
    return call("write", path, () -> {
      Caller c = caller();
      Open o = handle(fi);
      ByteBuffer src = view(buf, size);
      int total = 0;
      while (src.hasRemaining()) {
        int n = vfs.write(c, o.ino(), o.fh(), offset + total, src.slice());
        if (n <= 0) {
          break;
        }
        total += n;
        src.position(src.position() + n);
      }
      return total;
    });
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return call("flush", path, () -> {
      Open o = handle(fi);
      vfs.flush(caller(), o.ino(), o.fh(), fi.lock_owner.get());
      return 0;
    });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return call("release", path, () -> {
      Open o = handles.remove(fi.fh.get());
      if (o != null) {
        vfs.release(o.ino(), o.fh());
      }
      return 0;
    });
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    return call("fsync", path, () -> {
      Open o = handle(fi);
      vfs.fsync(o.ino(), o.fh(), isdatasync != 0);
      return 0;
    });
  }

  @Override
  public int fallocate(String path, int mode, long off, long length, FuseFileInfo fi) {
    return call("fallocate", path, () -> {
      Open o = handle(fi);
      vfs.fallocate(caller(), o.ino(), o.fh(), mode, off, length);
      return 0;
    });
  }

  @Override
  public int lock(String path, FuseFileInfo fi, int cmd, Flock flock) {
    return call("lock", path, () -> {
      Open o = handle(fi);
      long owner = fi.lock_owner.get();
      long start = flock.l_start.get();
      long len = flock.l_len.get();
      long end = len == 0 ? Long.MAX_VALUE : start + len - 1;
      int type = fromFlockType(flock.l_type.get());
      FileLock req = new FileLock(start, end, type, flock.l_pid.intValue());
      if (cmd == F_GETLK) {
        FileLock r = vfs.getlk(o.ino(), o.fh(), owner, req);
        flock.l_type.set((short) toFlockType(r.type()));
        if (r.type() != Modes.F_UNLCK) {
          flock.l_whence.set((short) 0);
          flock.l_start.set(r.start());
          flock.l_len.set(r.end() == Long.MAX_VALUE ? 0 : r.end() - r.start() + 1);
          flock.l_pid.set(r.pid());
        }
        return 0;
      }
      vfs.setlk(o.ino(), o.fh(), owner, req, cmd == F_SETLKW, false);
      return 0;
    });
  }

  /** flock(2) locks: whole-file, owned by the open file, shared with the Java API's locks. */
  @Override
  public int flock(String path, FuseFileInfo fi, int op) {
    return call("flock", path, () -> {
      Open o = handle(fi);
      int type = (op & LOCK_UN) != 0 ? Modes.F_UNLCK
          : (op & LOCK_EX) != 0 ? Modes.F_WRLCK : Modes.F_RDLCK;
      FileLock req = new FileLock(0, Long.MAX_VALUE, type, caller().pid());
      vfs.setlk(o.ino(), o.fh(), fi.lock_owner.get(), req, (op & LOCK_NB) == 0, true);
      return 0;
    });
  }

  private static int fromFlockType(int t) {
    return t == F_RDLCK ? Modes.F_RDLCK : t == F_WRLCK ? Modes.F_WRLCK : Modes.F_UNLCK;
  }

  private static int toFlockType(int t) {
    return t == Modes.F_RDLCK ? F_RDLCK : t == Modes.F_WRLCK ? F_WRLCK : F_UNLCK;
  }

  // ------------------------------------------------------------------ extended attributes

  /** macOS numbers XATTR_CREATE/XATTR_REPLACE 2 and 4 (1 is XATTR_NOFOLLOW). */
  private static int xattrFlags(int flags) {
    if (!MAC) {
      return flags;
    }
    return ((flags & 2) != 0 ? Modes.XATTR_CREATE : 0) | ((flags & 4) != 0 ? Modes.XATTR_REPLACE
        : 0);
  }

  /**
   * libfuse2 cannot negotiate FUSE_POSIX_ACL, so the kernel would store ACLs here without
   * enforcing them (its default_permissions checks read the mode only). This transport
   * therefore behaves as a filesystem without ACL support: setting or removing one is
   * EOPNOTSUPP, as on a mount with noacl.
   */
  private static void refuseAcl(String name) throws AgentFsException {
    if (name.equals("system.posix_acl_access") || name.equals("system.posix_acl_default")) {
      throw new AgentFsException(Errno.ENOTSUP, name, null,
          "POSIX ACLs need the kernel transport (libfuse2 has no FUSE_POSIX_ACL)");
    }
  }

  @Override
  public int setxattr(String path, String name, Pointer value, long size, int flags) {
    return call("setxattr", path, () -> {
      refuseAcl(name);
      Caller c = caller();
      byte[] v = new byte[(int) size];
      if (size > 0) {
        value.get(0, v, 0, v.length);
      }
      vfs.setxattr(c, resolve(c, path), name, v, xattrFlags(flags));
      return 0;
    });
  }

  @Override
  public int getxattr(String path, String name, Pointer value, long size) {
    return call("getxattr", path, () -> {
      Caller c = caller();
      return copyOut(vfs.getxattr(c, resolve(c, path), name), value, size);
    });
  }

  @Override
  public int listxattr(String path, Pointer list, long size) {
    return call("listxattr", path, () -> {
      Caller c = caller();
      return copyOut(vfs.listxattr(c, resolve(c, path)), list, size);
    });
  }

  @Override
  public int removexattr(String path, String name) {
    return call("removexattr", path, () -> {
      refuseAcl(name);
      Caller c = caller();
      vfs.removexattr(c, resolve(c, path), name);
      return 0;
    });
  }

  // ------------------------------------------------------------------ directories

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return call("opendir", path, () -> {
      Caller c = caller();
      long ino = resolve(c, path);
      long fh = vfs.opendir(c, ino, fi.flags.get());
      fi.fh.set(register(ino, fh));
      return 0;
    });
  }

  /**
   * Streams entries with the Vfs's stable offsets (libfuse's "offset mode"), so a listing
   * continues where the kernel's buffer filled up instead of being built whole in memory.
   */
  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, long offset,
      FuseFileInfo fi) {
    return call("readdir", path, () -> {
      Caller c = caller();
      Open o = handle(fi);
      FileStat st = dirStat.get();
      Pointer stp = Struct.getMemory(st);
      vfs.readdir(c, o.ino(), o.fh(), offset, false, (name, ino, mode, next, attr) -> {
        st.st_ino.set(ino);
        st.st_mode.set(mode & Modes.S_IFMT);
        ByteBuffer n = ByteBuffer.wrap(Arrays.copyOf(name, name.length + 1)); // NUL-terminated
        return filler.apply(buf, n, stp, next) == 0;
      });
      return 0;
    });
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return call("releasedir", path, () -> {
      Open o = handles.remove(fi.fh.get());
      if (o != null) {
        vfs.releasedir(o.ino(), o.fh());
      }
      return 0;
    });
  }

  /**
   * Not registered with libfuse: jnr-fuse 0.5.8 declares the callback without its
   * {@code int datasync} argument, so the file-info pointer it hands over would be that int
   * (a crash for fdatasync). Unregistered, libfuse answers ENOSYS once and the kernel then
   * treats directory fsync as done, which is what {@link Vfs#fsyncdir} does anyway.
   */
  @NotImplemented
  @Override
  public int fsyncdir(String path, FuseFileInfo fi) {
    return 0;
  }

}
