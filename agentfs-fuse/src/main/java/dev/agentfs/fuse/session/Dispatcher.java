package dev.agentfs.fuse.session;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.protocol.Opcode;
import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.fuse.protocol.Wire.InHeader;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one FUSE request into one call on the {@link Vfs} and exactly one answer. It decodes
 * the request from the worker's buffer, builds the {@link Caller} from the header, maps an
 * {@link AgentFsException} to its errno, and answers EIO (with a warning) for any other
 * failure or for a handler that forgot to answer, so a bug in the filesystem never kills the
 * mount or leaves a process hanging. Stateless apart from the INIT result and the in-flight
 * blocking lock waits that INTERRUPT may cancel; one instance serves all workers.
 *
 * @since 0.1
 */
public final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  private static final int HDR = InHeader.SIZE;
  private static final int ERANGE = Errno.ERANGE.code();
  private static final int ENOSYS = Errno.ENOSYS.code();
  private static final long SETATTR_PASSED = Wire.FATTR_MODE | Wire.FATTR_UID | Wire.FATTR_GID
      | Wire.FATTR_SIZE | Wire.FATTR_ATIME | Wire.FATTR_MTIME | Wire.FATTR_ATIME_NOW
      | Wire.FATTR_MTIME_NOW | Wire.FATTR_CTIME | Wire.FATTR_KILL_SUIDGID;

  /** The per-worker state a request is handled with. */
  public static final class Context {
    final ByteBuffer in;
    final Reply reply;
    private @Nullable Caller caller;

    /** {@code in} holds the request; replies go to {@code reply}. */
    public Context(ByteBuffer in, Reply reply) {
      this.in = in;
      this.reply = reply;
    }

    /**
     * The caller of the current request. Reused while the same process keeps asking, which
     * spares an allocation and a /proc read per request on a busy stream.
     */
    Caller caller(int pid, int uid, int gid) {
      Caller c = caller;
      if (c == null || c.pid() != pid || c.uid() != uid || c.gid() != gid) {
        c = new Caller(pid, uid, gid, ProcGroups::load);
        caller = c;
      }
      return c;
    }
  }

  private final Vfs vfs;
  private final InitNegotiator negotiator;
  private final long entryNs;
  private final long attrNs;
  private final long negativeNs;
  private final Consumer<Negotiated> onInit;
  /** default_permissions: the kernel ran setattr_prepare's ownership checks already. */
  private final boolean kernelChecksPermissions;
  private volatile @Nullable Negotiated negotiated;
  private volatile @Nullable AgentFsException initFailure;
  private volatile boolean destroyed;
  /** Set once INIT granted FUSE_PASSTHROUGH. */
  private volatile @Nullable BackingFiles backing;

  /** SETLKW waits in progress, by request id, so INTERRUPT can wake them. */
  private final ConcurrentHashMap<Long, Thread> blocking = new ConcurrentHashMap<>();
  /** Requests received, indexed by wire opcode (codes past the table are not counted). */
  private final AtomicLongArray received = new AtomicLongArray(COUNTED_OPCODES);
  /** Opcodes below this are counted by {@link #received(int)}. */
  public static final int COUNTED_OPCODES = 64;

  public Dispatcher(Vfs vfs, Configuration config, InitNegotiator negotiator,
      Consumer<Negotiated> onInit) {
    this.vfs = vfs;
    this.negotiator = negotiator;
    this.entryNs = nanos(config.entryTimeout());
    this.attrNs = nanos(config.attrTimeout());
    this.negativeNs = nanos(config.negativeTimeout());
    this.onInit = onInit;
    this.kernelChecksPermissions = config.has(dev.agentfs.Feature.DEFAULT_PERMISSIONS);
  }

  private static long nanos(Duration d) {
    // The kernel keeps seconds in 64 bits; cap far-future timeouts instead of overflowing.
    return Math.min(d.getSeconds(), 1L << 32) * 1_000_000_000L + d.getNano();
  }

  /** Where entry invalidations for dentries a rename moved go (the session's notifier). */
  interface EntryNotices {
    void invalidateEntry(long parent, byte[] name);
  }

  private volatile @Nullable EntryNotices entryNotices;

  void setEntryNotices(EntryNotices n) {
    this.entryNotices = n;
  }

  private void movedEntry(long parent, byte[] name) {
    EntryNotices n = entryNotices;
    if (n != null) {
      n.invalidateEntry(parent, name);
    }
  }

  void enablePassthrough(BackingFiles b) {
    this.backing = b;
  }

  @Nullable BackingFiles backing() {
    return backing;
  }

  private int openFlags(long node, long fh, int flags) throws AgentFsException {
    BackingFiles b = backing;
    return b == null ? 0 : b.open(node, fh, flags);
  }

  public @Nullable Negotiated negotiated() {
    return negotiated;
  }

  /** Why FUSE_INIT was refused (the reason the kernel was answered an errno for), or null. */
  @Nullable AgentFsException initFailure() {
    return initFailure;
  }

  /**
   * How many requests with wire opcode {@code code} this dispatcher has received so far (0
   * for codes outside 0..{@link #COUNTED_OPCODES}-1). For benchmarks and diagnostics.
   */
  public long received(int code) {
    return code >= 0 && code < COUNTED_OPCODES ? received.get(code) : 0;
  }

  /** Lock waits (SETLKW, blocking flock) in progress now. */
  public int lockWaits() {
    return blocking.size();
  }

  /** True once the kernel sent DESTROY. */
  public boolean destroyed() {
    return destroyed;
  }

  /**
   * Handles the request of {@code len} bytes at the start of {@code ctx.in}; answers it
   * exactly once unless its opcode takes no answer. Never throws.
   */
  public void dispatch(Context ctx, int len) {
    ByteBuffer in = ctx.in;
    Reply reply = ctx.reply;
    if (len < HDR) {
      LOG.warn("short FUSE request of {} bytes ignored", len);
      return;
    }
    int code = InHeader.opcode(in, 0);
    long unique = InHeader.unique(in, 0);
    if (code >= 0 && code < COUNTED_OPCODES) {
      received.getAndIncrement(code);
    }
    reply.begin(unique, code);
    Opcode op = Opcode.of(code);
    try {
      if (op == null) {
        LOG.debug("unknown opcode {} unique={}: ENOSYS", code, unique);
        reply.error(ENOSYS);
        return;
      }
      if (!op.replies()) {
        reply.none();
      }
      handle(op, ctx, len);
    } catch (AgentFsException e) {
      if (reply.pending()) {
        reply.error(e.errno().code());
      } else {
        LOG.warn("{} failed after its answer was sent", op, e);
      }
    } catch (Throwable t) {
      if (reply.pending()) {
        LOG.warn("{} unique={} failed with an unexpected exception; answering EIO", op,
            unique, t);
        reply.error(Errno.EIO.code());
      } else if (op != null && op.replies()) {
        LOG.warn("{} unique={} failed after its answer was sent", op, unique, t);
      } else {
        LOG.warn("{} unique={} failed", op, unique, t);
      }
      return;
    } finally {
      Thread.interrupted(); // a cancelled lock wait must not leak into the next request
    }
    if (reply.pending()) {
      LOG.warn("{} unique={} was not answered by its handler; answering EIO", op, unique);
      reply.error(Errno.EIO.code());
    }
  }

  private void handle(Opcode op, Context ctx, int len) throws AgentFsException {
    ByteBuffer in = ctx.in;
    Reply r = ctx.reply;
    ByteBuffer out = r.buffer();
    long node = InHeader.nodeid(in, 0);
    int end = len - InHeader.extlen(in, 0);
    final int a = HDR; // start of the operation's arguments
    switch (op) {
      case INIT -> init(ctx, end);
      case LOOKUP -> {
        byte[] name = name(in, a, end);
        Attr attr;
        try {
          attr = vfs.lookup(caller(ctx), node, name);
        } catch (AgentFsException e) {
          long ttl = Math.min(negativeNs, vfs.cacheLimitNanos(node));
          if (e.errno() == Errno.ENOENT && ttl > 0 && !vfs.sharedNode(node)) {
            // A negative entry: nodeid 0 lets the kernel cache "does not exist".
            r.ok(Wire.EntryOut.encode(out, Reply.BODY, 0, 0, ttl, 0, null));
            return;
          }
          throw e;
        }
        entry(r, node, attr);
      }
      case FORGET -> vfs.forget(node, Wire.ForgetIn.decode(in, a).nlookup());
      case BATCH_FORGET -> {
        int count = Wire.BatchForgetIn.decode(in, a).count();
        int p = a + Wire.BatchForgetIn.SIZE;
        for (int i = 0; i < count && p + Wire.ForgetOne.SIZE <= end; i++) {
          vfs.forget(in.getLong(p), in.getLong(p + 8));
          p += Wire.ForgetOne.SIZE;
        }
      }
      case GETATTR -> {
        Wire.GetattrIn g = Wire.GetattrIn.decode(in, a);
        long fh = (g.getattrFlags() & Wire.FUSE_GETATTR_FH) != 0 ? g.fh() : 0;
        attr(r, node, vfs.getattr(caller(ctx), node, fh));
      }
      case SETATTR -> {
        Wire.SetattrIn s = Wire.SetattrIn.decode(in, a);
        long fh = (s.valid() & Wire.FATTR_FH) != 0 ? s.fh() : 0;
        Caller c = caller(ctx);
        int valid = (int) (s.valid() & SETATTR_PASSED);
        if (kernelTimeSentAsExplicit(c, node, fh, valid)) {
          valid |= Wire.FATTR_MTIME_NOW;
        }
        SetAttr set = new SetAttr(valid, s.mode(), s.uid(), s.gid(),
            s.size(), s.atime() * 1_000_000_000L + s.atimensec(),
            s.mtime() * 1_000_000_000L + s.mtimensec(),
            s.ctime() * 1_000_000_000L + s.ctimensec());
        attr(r, node, vfs.setattr(c, node, fh, set));
      }
      case READLINK -> bytesReply(r, vfs.readlink(caller(ctx), node));
      case SYMLINK -> {
        int n = Wire.cstrlen(in, a, end);
        byte[] name = Wire.bytes(in, a, n);
        int t = a + n + 1;
        byte[] target = Wire.bytes(in, t, Wire.cstrlen(in, t, end));
        entry(r, node, vfs.symlink(caller(ctx), node, name, target));
      }
      case MKNOD -> {
        Wire.MknodIn m = Wire.MknodIn.decode(in, a);
        byte[] name = name(in, a + Wire.MknodIn.SIZE, end);
        entry(r, node, vfs.mknod(caller(ctx), node, name, m.mode(), m.rdev() & 0xffffffffL,
            m.umask()));
      }
      case MKDIR -> {
        Wire.MkdirIn m = Wire.MkdirIn.decode(in, a);
        byte[] name = name(in, a + Wire.MkdirIn.SIZE, end);
        entry(r, node, vfs.mkdir(caller(ctx), node, name, m.mode(), m.umask()));
      }
      case UNLINK -> {
        vfs.unlink(caller(ctx), node, name(in, a, end));
        r.ok(0);
      }
      case RMDIR -> {
        vfs.rmdir(caller(ctx), node, name(in, a, end));
        r.ok(0);
      }
      case RENAME, RENAME2 -> {
        long newDir;
        int flags;
        int p;
        if (op == Opcode.RENAME) {
          newDir = Wire.RenameIn.decode(in, a).newdir();
          flags = 0;
          p = a + Wire.RenameIn.SIZE;
        } else {
          Wire.Rename2In rn = Wire.Rename2In.decode(in, a);
          newDir = rn.newdir();
          flags = rn.flags();
          p = a + Wire.Rename2In.SIZE;
        }
        int n = Wire.cstrlen(in, p, end);
        byte[] oldName = Wire.bytes(in, p, n);
        int q = p + n + 1;
        byte[] newName = Wire.bytes(in, q, Wire.cstrlen(in, q, end));
        vfs.rename(caller(ctx), node, oldName, newDir, newName, flags);
        // The kernel moves the renamed dentry with the cache time it was looked up with. Under
        // a directory whose entries depend on the caller (the root while processes are bound
        // to branches) that would let every process use one branch's entry for an hour: drop
        // it. The notice waits in the notifier for the rename's directory locks, so it lands
        // right after the kernel's d_move; until then (microseconds) another process could
        // still see the moved entry.
        if (vfs.sharedNode(newDir)) {
          movedEntry(newDir, newName);
        }
        if ((flags & dev.agentfs.vfs.Modes.RENAME_EXCHANGE) != 0 && vfs.sharedNode(node)) {
          movedEntry(node, oldName);
        }
        r.ok(0);
      }
      case LINK -> {
        long old = Wire.LinkIn.decode(in, a).oldnodeid();
        byte[] name = name(in, a + Wire.LinkIn.SIZE, end);
        entry(r, node, vfs.link(caller(ctx), old, node, name));
      }
      case OPEN -> {
        Wire.OpenIn o = Wire.OpenIn.decode(in, a);
        Caller c = caller(ctx);
        int setId = (o.openFlags() & Wire.FUSE_OPEN_KILL_SUIDGID) != 0
            ? setIdMode(c, node, 0) : 0;
        long fh = vfs.open(c, node, coreFlags(o.flags()));
        modeMayHaveChanged(r, c, node, fh, setId);
        int id = openFlags(node, fh, o.flags());
        // KEEP_CACHE: the page cache stays valid across opens; changes the kernel does not
        // make itself arrive as invalidation notices. Not for a file others may change
        // (an untouched overlay lower file): its pages are read again at each open.
        r.ok(Wire.OpenOut.encode(out, Reply.BODY, fh, id > 0 ? Wire.FOPEN_PASSTHROUGH
            : vfs.cacheLimitNanos(node) == Long.MAX_VALUE ? Wire.FOPEN_KEEP_CACHE : 0, id));
      }
      case OPENDIR -> {
        Wire.OpenIn o = Wire.OpenIn.decode(in, a);
        long fh = vfs.opendir(caller(ctx), node, o.flags());
        // Listings may be cached too, except of a node whose content depends on the caller
        // or that others may change (an untouched overlay lower directory).
        int flags = vfs.sharedNode(node) || vfs.cacheLimitNanos(node) != Long.MAX_VALUE ? 0
            : Wire.FOPEN_CACHE_DIR | Wire.FOPEN_KEEP_CACHE;
        r.ok(Wire.OpenOut.encode(out, Reply.BODY, fh, flags, 0));
      }
      case CREATE -> {
        Wire.CreateIn c = Wire.CreateIn.decode(in, a);
        byte[] name = name(in, a + Wire.CreateIn.SIZE, end);
        created(r, node, vfs.create(caller(ctx), node, name, c.mode(), coreFlags(c.flags()),
            c.umask()), c.flags());
      }
      case TMPFILE -> {
        Wire.CreateIn c = Wire.CreateIn.decode(in, a);
        created(r, node, vfs.tmpfile(caller(ctx), node, c.mode(), coreFlags(c.flags()),
            c.umask()),
            c.flags());
      }
      case READ -> read(ctx, node, a);
      case WRITE -> write(ctx, node, a, end);
      case STATFS -> r.ok(Wire.Kstatfs.encode(out, Reply.BODY, vfs.statfs(caller(ctx), node)));
      case RELEASE -> {
        Wire.ReleaseIn rel = Wire.ReleaseIn.decode(in, a);
        if ((rel.releaseFlags() & Wire.FUSE_RELEASE_FLUSH) != 0) {
          vfs.flush(caller(ctx), node, rel.fh(), rel.lockOwner());
        }
        BackingFiles b = backing;
        if (b != null) {
          b.release(node, rel.fh());
        }
        vfs.release(node, rel.fh());
        r.ok(0);
      }
      case RELEASEDIR -> {
        vfs.releasedir(node, Wire.ReleaseIn.decode(in, a).fh());
        r.ok(0);
      }
      case FLUSH -> {
        Wire.FlushIn f = Wire.FlushIn.decode(in, a);
        vfs.flush(caller(ctx), node, f.fh(), f.lockOwner());
        r.ok(0);
      }
      case FSYNC, FSYNCDIR -> {
        Wire.FsyncIn f = Wire.FsyncIn.decode(in, a);
        boolean dataSync = (f.fsyncFlags() & Wire.FUSE_FSYNC_FDATASYNC) != 0;
        if (op == Opcode.FSYNC) {
          vfs.fsync(node, f.fh(), dataSync);
        } else {
          vfs.fsyncdir(node, f.fh(), dataSync);
        }
        r.ok(0);
      }
      case SETXATTR -> {
        Negotiated n = negotiated;
        boolean ext = n != null && n.has(InitFlag.SETXATTR_EXT);
        Wire.SetxattrIn s = Wire.SetxattrIn.decode(in, a, ext);
        int p = a + (ext ? Wire.SetxattrIn.SIZE : Wire.SetxattrIn.COMPAT_SIZE);
        int nl = Wire.cstrlen(in, p, end);
        String name = new String(Wire.bytes(in, p, nl), StandardCharsets.UTF_8);
        int v = p + nl + 1;
        if (v + s.size() > end) {
          throw new AgentFsException(Errno.EINVAL, null, null, "SETXATTR value past request");
        }
        vfs.setxattr(caller(ctx), node, name, Wire.bytes(in, v, s.size()), s.flags());
        r.ok(0);
      }
      case GETXATTR -> {
        int size = Wire.GetxattrIn.decode(in, a).size();
        int p = a + Wire.GetxattrIn.SIZE;
        String name = new String(Wire.bytes(in, p, Wire.cstrlen(in, p, end)),
            StandardCharsets.UTF_8);
        sizedReply(r, size, vfs.getxattr(caller(ctx), node, name));
      }
      case LISTXATTR -> {
        int size = Wire.GetxattrIn.decode(in, a).size();
        sizedReply(r, size, vfs.listxattr(caller(ctx), node));
      }
      case REMOVEXATTR -> {
        String name = new String(name(in, a, end), StandardCharsets.UTF_8);
        vfs.removexattr(caller(ctx), node, name);
        r.ok(0);
      }
      case READDIR, READDIRPLUS -> readdir(ctx, node, a, op == Opcode.READDIRPLUS);
      case GETLK -> {
        Wire.LkIn lk = Wire.LkIn.decode(in, a);
        FileLock got = vfs.getlk(node, lk.fh(), lk.owner(), lock(lk));
        r.ok(Wire.FileLock.encode(out, Reply.BODY, got.start(), got.end(), got.type(),
            got.pid()));
      }
      case SETLK, SETLKW -> {
        Wire.LkIn lk = Wire.LkIn.decode(in, a);
        boolean flock = (lk.lkFlags() & Wire.FUSE_LK_FLOCK) != 0;
        boolean wait = op == Opcode.SETLKW;
        long unique = InHeader.unique(in, 0);
        if (wait) {
          blocking.put(unique, Thread.currentThread());
        }
        try {
          vfs.setlk(node, lk.fh(), lk.owner(), lock(lk), wait, flock);
        } finally {
          if (wait) {
            blocking.remove(unique);
          }
        }
        r.ok(0);
      }
      case ACCESS -> {
        vfs.access(caller(ctx), node, Wire.AccessIn.decode(in, a).mask());
        r.ok(0);
      }
      case INTERRUPT -> {
        Thread t = blocking.get(Wire.InterruptIn.decode(in, a).unique());
        if (t != null) {
          t.interrupt();
        }
      }
      case DESTROY -> {
        destroyed = true;
        r.ok(0);
      }
      case FALLOCATE -> {
        Wire.FallocateIn f = Wire.FallocateIn.decode(in, a);
        Caller c = caller(ctx);
        int setId = setIdMode(c, node, f.fh());
        vfs.fallocate(c, node, f.fh(), f.mode(), f.offset(), f.length());
        modeMayHaveChanged(r, c, node, f.fh(), setId);
        r.ok(0);
      }
      case LSEEK -> {
        Wire.LseekIn l = Wire.LseekIn.decode(in, a);
        out.putLong(Reply.BODY, vfs.lseek(node, l.fh(), l.offset(), l.whence()));
        r.ok(Wire.LseekOut.SIZE);
      }
      case COPY_FILE_RANGE, COPY_FILE_RANGE_64 -> {
        Wire.CopyFileRangeIn c = Wire.CopyFileRangeIn.decode(in, a);
        Caller who = caller(ctx);
        int setId = setIdMode(who, c.nodeidOut(), c.fhOut());
        long n = vfs.copyFileRange(who, node, c.fhIn(), c.offIn(), c.nodeidOut(),
            c.fhOut(), c.offOut(), c.len(), (int) c.flags());
        modeMayHaveChanged(r, who, c.nodeidOut(), c.fhOut(), setId);
        if (op == Opcode.COPY_FILE_RANGE_64) {
          out.putLong(Reply.BODY, n);
          r.ok(Wire.CopyFileRangeOut.SIZE);
        } else {
          r.ok(Wire.WriteOut.encode(out, Reply.BODY, (int) Math.min(n, 0xffff_f000L)));
        }
      }
      case IOCTL -> {
        Wire.IoctlIn io = Wire.IoctlIn.decode(in, a);
        if ((io.flags() & Wire.FUSE_IOCTL_UNRESTRICTED) != 0) {
          r.error(Errno.ENOTTY.code());
          return;
        }
        int inLen = Math.max(0, Math.min(io.inSize(), end - (a + Wire.IoctlIn.SIZE)));
        byte[] data = Wire.bytes(in, a + Wire.IoctlIn.SIZE, inLen);
        int outMax = Math.min(io.outSize(), r.maxBody() - 16);
        byte[] result;
        FuseSession.CONTROL.set(Boolean.TRUE);
        try {
          result = vfs.ioctl(caller(ctx), node, io.fh(), io.cmd(), data, outMax);
        } finally {
          FuseSession.CONTROL.remove();
        }
        if (result.length > outMax) {
          throw new AgentFsException(Errno.EOVERFLOW, null);
        }
        // struct fuse_ioctl_out {result, flags, in_iovs, out_iovs} then the out bytes.
        out.putInt(Reply.BODY, 0).putInt(Reply.BODY + 4, 0).putInt(Reply.BODY + 8, 0)
            .putInt(Reply.BODY + 12, 0);
        out.put(Reply.BODY + 16, result);
        r.ok(16 + result.length);
      }
      case NOTIFY_REPLY -> {
        // We never send NOTIFY_RETRIEVE, so there is nothing to match this with.
      }
      // Known but unsupported: ENOSYS makes the kernel stop asking (STATX falls back to
      // GETATTR, SYNCFS and POLL become no-ops, BMAP fails).
      case POLL, BMAP, STATX, SYNCFS, SETUPMAPPING, REMOVEMAPPING, CUSE_INIT -> r.error(ENOSYS);
    }
  }

  private void init(Context ctx, int end) throws AgentFsException {
    Wire.InitIn in = Wire.InitIn.decode(ctx.in, HDR, end - HDR);
    Negotiated n;
    try {
      n = negotiator.negotiate(in);
    } catch (AgentFsException e) {
      initFailure = e; // the kernel only learns an errno; the mount call wants the reason
      throw e;
    }
    Reply r = ctx.reply;
    int size = n.minor() < 23 ? Wire.InitOut.COMPAT_22_SIZE : Wire.InitOut.SIZE;
    n.out().encode(r.buffer(), Reply.BODY);
    negotiated = n;
    r.ok(size);
    onInit.accept(n);
  }

  private Caller caller(Context ctx) {
    ByteBuffer in = ctx.in;
    return ctx.caller(InHeader.pid(in, 0), InHeader.uid(in, 0), InHeader.gid(in, 0));
  }

  private static byte[] name(ByteBuffer in, int off, int end) {
    return Wire.bytes(in, off, Wire.cstrlen(in, off, end));
  }

  private static FileLock lock(Wire.LkIn lk) {
    Wire.FileLock l = lk.lk();
    return new FileLock(l.start(), l.end(), l.type(), l.pid());
  }

  /** An entry under {@code parent}: not cached by the kernel when the parent is shared. */
  private void entry(Reply r, long parent, Attr attr) {
    r.ok(Wire.EntryOut.encode(r.buffer(), Reply.BODY, attr.ino(), 0, entryTtl(parent),
        attrTtl(attr.ino()), attr));
  }

  /** How long the kernel may keep names under {@code parent}. */
  private long entryTtl(long parent) {
    return vfs.sharedNode(parent) ? 0 : Math.min(entryNs, vfs.cacheLimitNanos(parent));
  }

  /** How long the kernel may keep {@code node}'s attributes. */
  private long attrTtl(long node) {
    return Math.min(attrNs, vfs.cacheLimitNanos(node));
  }

  private void attr(Reply r, long node, Attr attr) {
    r.ok(Wire.AttrOut.encode(r.buffer(), Reply.BODY, vfs.sharedNode(node) ? 0 : attrTtl(node),
        attr));
  }

  private void created(Reply r, long parent, Created c, int flags) throws AgentFsException {
    int id = openFlags(c.attr().ino(), c.fh(), flags);
    ByteBuffer out = r.buffer();
    int n = Wire.EntryOut.encode(out, Reply.BODY, c.attr().ino(), 0, entryTtl(parent),
        attrTtl(c.attr().ino()), c.attr());
    n += Wire.OpenOut.encode(out, Reply.BODY + n, c.fh(),
        id > 0 ? Wire.FOPEN_PASSTHROUGH : Wire.FOPEN_KEEP_CACHE, id);
    r.ok(n);
  }

  private static void bytesReply(Reply r, byte[] data) throws AgentFsException {
    if (data.length > r.maxBody()) {
      throw new AgentFsException(Errno.E2BIG, null);
    }
    r.buffer().put(Reply.BODY, data);
    r.ok(data.length);
  }

  /** getxattr/listxattr: size 0 asks only for the length; a too small buffer is ERANGE. */
  private static void sizedReply(Reply r, int size, byte[] data) throws AgentFsException {
    if (size == 0) {
      r.ok(Wire.GetxattrOut.encode(r.buffer(), Reply.BODY, data.length));
    } else if (data.length > size) {
      r.error(ERANGE);
    } else {
      bytesReply(r, data);
    }
  }

  private void read(Context ctx, long node, int a) throws AgentFsException {
    ByteBuffer in = ctx.in;
    Reply r = ctx.reply;
    long fh = Wire.ReadIn.fh(in, a);
    long offset = Wire.ReadIn.offset(in, a);
    int size = Math.min(Wire.ReadIn.size(in, a), r.maxBody());
    ByteBuffer out = r.buffer();
    // The filesystem fills the reply buffer in place: no copy, no per-request buffer.
    out.limit(Reply.BODY + size).position(Reply.BODY);
    int n;
    try {
      n = vfs.read(node, fh, offset, out);
    } finally {
      out.clear();
    }
    r.ok(Math.max(0, Math.min(n, size)));
  }

  private void write(Context ctx, long node, int a, int end) throws AgentFsException {
    ByteBuffer in = ctx.in;
    long fh = Wire.WriteIn.fh(in, a);
    long offset = Wire.WriteIn.offset(in, a);
    int size = Wire.WriteIn.size(in, a);
    int data = a + Wire.WriteIn.SIZE;
    if (data + size > end) {
      throw new AgentFsException(Errno.EINVAL, null, null, "WRITE data past request end");
    }
    Caller c = caller(ctx);
    int setId = (Wire.WriteIn.writeFlags(in, a) & Wire.FUSE_WRITE_KILL_SUIDGID) != 0
        ? setIdMode(c, node, fh) : 0;
    // The filesystem reads the data straight from the request buffer.
    in.limit(data + size).position(data);
    int n;
    try {
      n = vfs.write(c, node, fh, offset, in);
    } finally {
      in.clear();
    }
    modeMayHaveChanged(ctx.reply, c, node, fh, setId);
    ctx.reply.ok(Wire.WriteOut.encode(ctx.reply.buffer(), Reply.BODY, n));
  }

  /**
   * With the writeback cache the kernel keeps mtime itself and sends it as an explicit time
   * (FATTR_MTIME without FATTR_MTIME_NOW): for utimensat's UTIME_NOW (atime keeps
   * FATTR_ATIME_NOW), with a truncate, and when it flushes the mtime of cached writes (on
   * close, fsync). An explicit time needs ownership, so the core refused all of these to a
   * non-owner with write permission (pjdfstest utimensat/06.t; truncate and close failing
   * with EPERM). With default_permissions the kernel has already refused any user-given
   * explicit time to a non-owner, so an explicit mtime (without an explicit atime) from a
   * non-owner can only be such a kernel-chosen time: it is passed on as "now", which needs
   * write permission only and is the same instant up to the flush delay.
   */
  private boolean kernelTimeSentAsExplicit(Caller c, long node, long fh, int valid)
      throws AgentFsException {
    if (!kernelChecksPermissions || c.uid() == 0
        || (valid & (Wire.FATTR_MTIME | Wire.FATTR_MTIME_NOW)) != Wire.FATTR_MTIME
        || (valid & (Wire.FATTR_ATIME | Wire.FATTR_ATIME_NOW)) == Wire.FATTR_ATIME) {
      return false;
    }
    Negotiated n = negotiated;
    return n != null && n.has(InitFlag.WRITEBACK_CACHE)
        && vfs.getattr(c, node, fh).uid() != c.uid();
  }

  /**
   * The open flags the filesystem sees. With the writeback cache the kernel owns the file's
   * size and write positions: it turns O_APPEND writes into writes at its own end of file and
   * flushes whole pages at their real offsets, so the handle must not append again (that
   * wrote pages after the end and lost data); and it fills partially written pages with READs
   * through the handle it writes with, also one opened O_WRONLY. libfuse's reference servers
   * make the same two adjustments.
   */
  private int coreFlags(int flags) {
    Negotiated n = negotiated;
    if (n == null || !n.has(InitFlag.WRITEBACK_CACHE)) {
      return flags;
    }
    return (flags & ~Modes.O_APPEND) | Modes.O_KERNEL_CACHE_READS;
  }

  /**
   * With HANDLE_KILLPRIV_V2 the kernel leaves clearing set-id bits on write, O_TRUNC open,
   * fallocate and copy_file_range to us, and afterwards invalidates only its cached size and
   * times, not the mode: a stat asking for the mode alone (statx STATX_MODE, as coreutils
   * stat does) would still see S_ISUID for up to the attribute timeout. So these requests
   * note the mode before (when it has set-id bits and the caller is not root: only then can
   * the core clear them) and, if it changed, tell the kernel to drop its cached attributes
   * before answering.
   */
  private int setIdMode(Caller c, long node, long fh) throws AgentFsException {
    if (c.uid() == 0) {
      return 0;
    }
    int m = vfs.getattr(c, node, fh).mode();
    return (m & 06000) != 0 ? m : 0;
  }

  private void modeMayHaveChanged(Reply r, Caller c, long node, long fh, int before)
      throws AgentFsException {
    if (before != 0 && vfs.getattr(c, node, fh).mode() != before) {
      // Attributes only (negative offset): the kernel takes no page or inode lock for it,
      // so it cannot wait for the request we are serving, and it lands before our answer.
      r.notice(Wire.NOTIFY_INVAL_INODE,
          new Wire.NotifyInvalInodeOut(node, -1, 0).encode(r.buffer(), Reply.BODY));
    }
  }

  private void readdir(Context ctx, long node, int a, boolean plus) throws AgentFsException {
    ByteBuffer in = ctx.in;
    Reply r = ctx.reply;
    ByteBuffer out = r.buffer();
    long fh = Wire.ReadIn.fh(in, a);
    long offset = Wire.ReadIn.offset(in, a);
    int limit = Reply.BODY + Math.min(Wire.ReadIn.size(in, a), r.maxBody());
    int[] pos = {Reply.BODY};
    long ttl = entryTtl(node);
    vfs.readdir(caller(ctx), node, fh, offset, plus, (name, ino, mode, next, attr) -> {
      int p = pos[0];
      int type = dev.agentfs.vfs.Modes.dtype(mode);
      if (plus) {
        if (p + Wire.Direntplus.size(name.length) > limit) {
          return false;
        }
        boolean dots = isDot(name);
        long nodeid = attr == null || dots ? 0 : attr.ino();
        Wire.EntryOut.encode(out, p, nodeid, 0, attr == null ? 0 : ttl,
            attr == null ? 0 : dots ? attrNs : attrTtl(nodeid), attr);
        pos[0] = p + Wire.EntryOut.SIZE + Wire.Dirent.encode(out, p + Wire.EntryOut.SIZE, ino,
            next, type, name);
      } else {
        if (p + Wire.Dirent.size(name.length) > limit) {
          return false;
        }
        pos[0] = p + Wire.Dirent.encode(out, p, ino, next, type, name);
      }
      return true;
    });
    r.ok(pos[0] - Reply.BODY);
  }

  private static boolean isDot(byte[] name) {
    return (name.length == 1 && name[0] == '.')
        || (name.length == 2 && name[0] == '.' && name[1] == '.');
  }
}
