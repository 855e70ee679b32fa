package dev.agentfs.fuse.session;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.protocol.Opcode;
import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.fuse.sys.IoUring;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live FUSE mount served from this JVM: the /dev/fuse connection, its worker threads (one
 * per cloned descriptor, each with its own reused request and reply buffers), the notifier
 * thread, and the mount itself, made with mount(2) or through fusermount3 ({@link
 * MountMethod}). {@link #mount} returns only when INIT is answered and the root answers a
 * stat, so the caller can use the mount point at once; {@link #close} unmounts the way the
 * mount was made (detaching lazily if busy), makes the workers leave their blocking reads,
 * joins them and closes every descriptor. A JVM shutdown hook closes sessions still open at
 * exit.
 *
 * @since 0.1
 */
public final class FuseSession implements MountHandle {
  private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);
  private static final String DEV_FUSE = "/dev/fuse";
  private static final String FUSECTL = "/sys/fs/fuse/connections";
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final Set<FuseSession> LIVE = ConcurrentHashMap.newKeySet();
  /**
   * The session a worker or notifier thread serves: such threads never wait for a notice to be
   * written, and a change a worker makes for its own session needs no notice at all (the
   * kernel made the request, so it already knows; a notice would only throw away its caches,
   * and invalidating a directory someone has as cwd makes getcwd fail).
   */
  static final ThreadLocal<Object> SERVING = new ThreadLocal<>();

  /**
   * Set while a worker runs a control request (ioctl on the control file): the changes it
   * makes (resets, commits, branch switches) are news to the kernel, so they are announced,
   * though the worker still never waits for the notices.
   */
  static final ThreadLocal<Boolean> CONTROL = new ThreadLocal<>();
  /** How long an API thread waits for its invalidation to reach the kernel. */
  private static final Duration NOTICE_WAIT = Duration.ofSeconds(2);
  /** Request slots per io_uring queue (one queue per CPU). */
  private static final int RING_DEPTH = 8;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (FuseSession s : List.copyOf(LIVE)) {
        s.close();
      }
    }, "agentfs-fuse-shutdown"));
  }

  private final Path mountPoint;
  private final String target;
  private final Syscalls sys;
  private final MountOptions options;
  private final int masterFd;
  private final Mounter.Attached attached;
  private final List<Integer> fds = new ArrayList<>();
  private final List<Thread> workers = new ArrayList<>();
  private final Dispatcher dispatcher;
  private final int bufferSize;
  private final String name;
  private @Nullable Notifier notifier;
  private @Nullable FuseRing ring;
  private volatile @Nullable Negotiated negotiated;
  private volatile boolean mounted;
  private volatile boolean alive;
  private volatile boolean closing;
  private volatile boolean closed;
  private int connectionId = -1;

  private FuseSession(Path mountPoint, Syscalls sys, MountOptions options,
      Mounter.Attached attached, Vfs vfs, Configuration config, int maxPagesLimit) {
    this.mountPoint = mountPoint;
    this.target = mountPoint.toString();
    this.sys = sys;
    this.options = options;
    this.attached = attached;
    this.masterFd = attached.fd();
    this.name = "agentfs-fuse-" + SEQ.incrementAndGet();
    long maxWrite = Math.min(config.maxWrite(), (long) maxPagesLimit * InitNegotiator.PAGE);
    // Room for the largest WRITE plus its headers, and never less than a 64 KiB xattr value
    // (XATTR_SIZE_MAX) with its name, which the kernel would otherwise fail with EIO.
    this.bufferSize = (int) Math.max(Wire.MIN_READ_BUFFER,
        Math.max(maxWrite, 65536 + 256) + InitNegotiator.PAGE);
    this.dispatcher = new Dispatcher(vfs, config, new InitNegotiator(config, maxPagesLimit,
        options.hiddenInitFlags()),
        n -> {
          negotiated = n;
          if (n.has(dev.agentfs.fuse.protocol.InitFlag.PASSTHROUGH)) {
            dispatcher().enablePassthrough(new BackingFiles(sys, masterFd, vfs));
          }
          if (LOG.isDebugEnabled()) {
            LOG.debug("{}: FUSE 7.{} (kernel 7.{}), max_write={}, granted {}; kernel offered {}"
                + " (hidden: {})", mountPoint, n.minor(), n.kernelMinor(), n.maxWrite(),
                n.grantedNames(), InitNegotiator.describe(n.kernelFlags()),
                InitNegotiator.describe(options.hiddenInitFlags()));
          }
        });
  }

  /**
   * Mounts {@code vfs} at {@code mountPoint}. Returns when the kernel has been answered INIT
   * and the root answered a stat.
   *
   * @throws AgentFsException ENOENT/ENOTDIR for a bad mount point, EBUSY when it already is a
   *     FUSE mount, ENOTCONN for a stale mount (unless {@link MountOptions#cleanStale()}),
   *     ENODEV when /dev/fuse is missing, EPERM when neither mount(2) nor fusermount3 may
   *     mount here (see {@link MountOptions#method()}) or when the configuration needs a
   *     privilege this process lacks (passthrough REQUIRED without CAP_SYS_ADMIN in the
   *     initial user namespace, allow_other in a user namespace or for a non-root user
   *     without user_allow_other, set-id files for a non-root user), ENOENT when fusermount3 is required but missing
   */
  public static FuseSession mount(Vfs vfs, Path mountPoint, Configuration config,
      MountOptions options, Syscalls sys) throws AgentFsException {
    Path mp = mountPoint.toAbsolutePath().normalize();
    String path = mp.toString();
    checkMountPoint(mp, options, sys);
    Configuration effective = withinPrivileges(config, path);
    if (effective.has(Feature.IO_URING)) {
      enableUring();
    }

    Mounter.Attached a = new Mounter(sys, effective, options.method()).attach(path);
    FuseSession s;
    try {
      s = new FuseSession(mp, sys, options, a, vfs, effective, maxPagesLimit());
    } catch (RuntimeException e) {
      a.unmount(sys, path, true);
      sys.close(a.fd());
      throw e;
    }
    try {
      s.start(effective);
    } catch (AgentFsException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /**
   * Passthrough needs CAP_SYS_ADMIN in the initial user namespace when files are opened (the
   * kernel checks it in FUSE_DEV_IOC_BACKING_OPEN), however the mount was made: REQUIRED
   * fails now, before anything is mounted, and PREFERRED quietly becomes OFF rather than
   * failing every open. In a user namespace allow_other is refused: the kernel admits to such
   * a mount only processes inside that namespace, so the option would not do what it says.
   */
  private static Configuration withinPrivileges(Configuration config, String path)
      throws AgentFsException {
    boolean initialNs = Capabilities.initialUserNamespace();
    if (config.has(Feature.ALLOW_OTHER) && !initialNs) {
      throw new AgentFsException(Errno.EPERM, path, null, "ALLOW_OTHER: this process is in a "
          + "user namespace (/proc/self/uid_map is not the identity map), and the kernel lets "
          + "only processes inside that namespace use a FUSE mount made there, so other users "
          + "of the host could not get in; leave ALLOW_OTHER off, or mount as root outside the "
          + "namespace");
    }
    if (config.passthrough() == Passthrough.OFF || (initialNs && Capabilities.sysAdmin())) {
      return config;
    }
    if (config.passthrough() == Passthrough.REQUIRED) {
      throw new AgentFsException(Errno.EPERM, path, null, "passthrough REQUIRED: the kernel "
          + "lets only a process with CAP_SYS_ADMIN in the initial user namespace register "
          + "backing files (FUSE_DEV_IOC_BACKING_OPEN), and this one has not"
          + (initialNs ? "" : " (it is in a user namespace, where its capabilities do not "
              + "count for the host)")
          + "; run as root or use Passthrough.PREFERRED or OFF");
    }
    LOG.info("{}: no CAP_SYS_ADMIN in the initial user namespace, so no passthrough; all I/O "
        + "goes through the filesystem", path);
    return config.toBuilder().passthrough(Passthrough.OFF).build();
  }

  private static void checkMountPoint(Path mp, MountOptions options, Syscalls sys)
      throws AgentFsException {
    String path = mp.toString();
    // statfs, not stat: the kernel may answer stat from its attribute cache even when the
    // server is gone, but statfs always asks the server.
    int probe = sys.statfs(path);
    if (probe == -Syscalls.ENOTCONN || probe == -Syscalls.ECONNABORTED) {
      if (!options.cleanStale()) {
        throw new AgentFsException(Errno.ENOTCONN, path, null,
            "a dead FUSE mount is left here (transport endpoint is not connected); unmount it "
                + "with 'umount -l " + path + "' or mount with cleanStale");
      }
      LOG.info("detaching stale FUSE mount at {}", path);
      int r = Fusermount.unmountWithFallback(sys, path, true);
      if (r < 0) {
        throw new AgentFsException(Errno.of(-r), path, null,
            "cannot detach the stale mount: " + sys.strerror(-r));
      }
    }
    int mode = sys.statMode(path);
    if (mode == -Syscalls.ENOENT) {
      throw new AgentFsException(Errno.ENOENT, path, null,
          "the mount point does not exist; create the directory first");
    }
    if (mode < 0) {
      throw new AgentFsException(Errno.of(-mode), path, null,
          "cannot stat the mount point: " + sys.strerror(-mode));
    }
    if (!Modes.isDir(mode)) {
      throw new AgentFsException(Errno.ENOTDIR, path, null, "the mount point must be a directory");
    }
    if (MountTable.isFuseMountPoint(mp)) {
      throw new AgentFsException(Errno.EBUSY, path, null,
          "already a FUSE mount point; unmount it first (or pick another directory)");
    }
  }

  private void start(Configuration config) throws AgentFsException {
    mounted = true;
    alive = true;
    LIVE.add(this);
    MountTable.Entry e = MountTable.at(mountPoint);
    if (e != null && e.isFuse()) {
      connectionId = e.minor();
    }

    // INIT is the first request on a new connection; answer it on this thread, on the
    // descriptor it arrives on, before any worker exists.
    Dispatcher.Context init = newContext(masterFd);
    while (negotiated == null) {
      int n = sys.read(masterFd, init.in.clear());
      if (n == -Syscalls.EINTR || n == -Syscalls.EAGAIN) {
        continue;
      }
      if (n < 0) {
        throw new AgentFsException(Errno.of(-n), target, null,
            "reading FUSE_INIT failed: " + sys.strerror(-n));
      }
      int op = Wire.InHeader.opcode(init.in, 0);
      if (op != Opcode.INIT.code()) {
        throw new AgentFsException(Errno.EIO, target, null,
            "expected FUSE_INIT, the kernel sent " + Opcode.nameOf(op));
      }
      dispatcher.dispatch(init, n);
      if (negotiated == null) {
        AgentFsException why = dispatcher.initFailure();
        throw why != null
            ? new AgentFsException(why.errno(), target, null, "FUSE_INIT: " + why.getMessage())
            : new AgentFsException(Errno.EIO, target, null, "FUSE_INIT negotiation failed");
      }
    }

    Notifier nt = new Notifier(sys, masterFd, name + "-notify");
    notifier = nt;
    nt.start();
    // Queued, never waited for: workers call this while the kernel holds directory locks.
    dispatcher.setEntryNotices(nt::invalidateEntry);
    int classic = config.threads();
    if (negotiated.has(dev.agentfs.fuse.protocol.InitFlag.OVER_IO_URING)) {
      FuseRing fr = new FuseRing(this, sys, masterFd, dispatcher, RING_DEPTH,
          negotiated.maxWrite(), bufferSize, name);
      try {
        workers.addAll(fr.start(FuseRing.possibleCpus()));
        ring = fr;
        classic = 1; // FORGET and INTERRUPT still come through /dev/fuse
      } catch (IoUring.IoUringException ex) {
        LOG.warn("{}: FUSE over io_uring refused ({}); serving /dev/fuse with {} workers",
            target, ex.getMessage(), classic);
        fr.release();
      }
    }
    for (int i = 0; i < classic; i++) {
      int fd = cloneFd();
      Dispatcher.Context ctx = newContext(fd);
      Thread t = new Thread(() -> work(fd, ctx), name + "-worker-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }

    // Ready means served: this stat travels through a worker and back.
    try {
      BasicFileAttributes a = Files.readAttributes(mountPoint, BasicFileAttributes.class);
      if (!a.isDirectory()) {
        throw new AgentFsException(Errno.EIO, target, null, "the filesystem root is no directory");
      }
    } catch (IOException ex) {
      throw new AgentFsException(Errno.EIO, target, ex);
    }
    LOG.debug("{} mounted with {} workers", target, workers.size());
  }

  /**
   * The kernel offers FUSE-over-io_uring only while the fuse module's enable_uring parameter
   * is on; asking for {@link Feature#IO_URING} is asking for that, so root switches it on.
   */
  static void enableUring() {
    Path p = Path.of("/sys/module/fuse/parameters/enable_uring");
    try {
      if (Files.exists(p) && !new String(Files.readAllBytes(p), StandardCharsets.US_ASCII)
          .trim().equals("Y") && Files.isWritable(p)) {
        Files.write(p, "Y".getBytes(StandardCharsets.US_ASCII));
        LOG.info("switched on the fuse module's enable_uring parameter");
      }
    } catch (IOException e) {
      LOG.debug("cannot switch on enable_uring: {}", e.toString());
    }
  }

  /** A new descriptor on this connection; the master itself when cloning is unsupported. */
  private int cloneFd() throws AgentFsException {
    int fd = sys.open(DEV_FUSE, Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
    if (fd < 0) {
      throw new AgentFsException(Errno.of(-fd), DEV_FUSE, null, "open for clone failed");
    }
    int r = sys.ioctlInt(fd, Wire.FUSE_DEV_IOC_CLONE, masterFd);
    if (r < 0) {
      sys.close(fd);
      throw new AgentFsException(Errno.of(-r), DEV_FUSE, null,
          "FUSE_DEV_IOC_CLONE failed: " + sys.strerror(-r));
    }
    synchronized (fds) {
      fds.add(fd);
    }
    return fd;
  }

  private Dispatcher.Context newContext(int fd) {
    ByteBuffer in = Wire.allocate(bufferSize);
    ByteBuffer out = Wire.allocate(bufferSize);
    return new Dispatcher.Context(in, new Reply(out, msg -> sys.write(fd, msg)));
  }

  private void work(int fd, Dispatcher.Context ctx) {
    SERVING.set(this);
    ByteBuffer in = ctx.in;
    while (true) {
      in.clear();
      int n = sys.read(fd, in);
      if (n >= 0) {
        try {
          dispatcher.dispatch(ctx, n);
        } catch (Throwable t) {
          // dispatch answers every failure itself; this is a failure of that answering (an
          // Error while logging, say). A dead worker would leave its request hanging for good,
          // so answer EIO if still owed and keep serving.
          ctx.reply.abandon(Errno.EIO.code());
        }
        continue;
      }
      // EINTR/EAGAIN: retry. ENOENT: the request we were about to read was interrupted.
      if (n == -Syscalls.EINTR || n == -Syscalls.EAGAIN || n == -Syscalls.ENOENT) {
        continue;
      }
      if (n != -Syscalls.ENODEV && n != -Syscalls.ECONNABORTED) {
        LOG.warn("{}: reading /dev/fuse failed: {}; worker stops", target, sys.strerror(-n));
      }
      connectionEnded();
      return;
    }
  }

  private void connectionEnded() {
    if (alive) {
      alive = false;
      if (!closing) {
        LOG.info("{}: the FUSE connection ended (unmounted externally or aborted)", target);
      }
    }
  }

  @Override
  public Path mountPoint() {
    return mountPoint;
  }

  @Override
  public Set<String> grantedFeatures() {
    Negotiated n = negotiated;
    return n == null ? Set.of() : n.grantedNames();
  }

  /** What INIT settled, or null before INIT. */
  public @Nullable Negotiated negotiated() {
    return negotiated;
  }

  /** The request dispatcher (counters, passthrough state), for tests and the benchmark. */
  public Dispatcher dispatcher() {
    return dispatcher;
  }

  /** Requests served through FUSE-over-io_uring so far (0 when the mount does not use it). */
  public long ringRequests() {
    FuseRing r = ring;
    return r == null ? 0 : r.served();
  }

  /** io_uring_enter calls of the ring's queue threads so far (0 without the ring). */
  public long ringEnters() {
    FuseRing r = ring;
    return r == null ? 0 : r.enters();
  }

  /** Backing files currently registered with the kernel for passthrough. */
  public long passthroughBackings() {
    BackingFiles b = dispatcher.backing();
    return b == null ? 0 : b.registered();
  }

  @Override
  public boolean isAlive() {
    return alive && !closed;
  }

  /**
   * Queues a notice that the kernel drop what it cached about {@code ino} (attributes and
   * data). Called from a thread that is not serving a FUSE request (the Java API), it also
   * waits, briefly, until the notifier handed the notice to the kernel, so that a change made
   * through the API is visible through the mount when the call returns. A worker never
   * waits: the notice may need a lock its own request holds.
   */
  @Override
  public void invalidateInode(long ino) {
    Notifier n = notifier;
    if (n != null && alive && (SERVING.get() != this || CONTROL.get() != null)) {
      n.invalidateInode(ino, 0, 0);
      settle(n);
    }
  }

  /** Like {@link #invalidateInode}, for the entry {@code name} in directory {@code parent}. */
  @Override
  public void invalidateEntry(long parent, byte[] name) {
    Notifier n = notifier;
    if (n != null && alive && (SERVING.get() != this || CONTROL.get() != null)) {
      n.invalidateEntry(parent, name);
      settle(n);
    }
  }

  private static void settle(Notifier n) {
    if (SERVING.get() != null) {
      return;
    }
    try {
      if (!n.drain(NOTICE_WAIT)) {
        LOG.debug("invalidation notice still queued after {}", NOTICE_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits until notices queued so far were handed to the kernel. */
  public boolean awaitNotices(Duration timeout) throws InterruptedException {
    Notifier n = notifier;
    return n == null || n.drain(timeout);
  }

  /**
   * Requests the kernel sent this session so far, by opcode name, leaving out opcodes never
   * seen; a snapshot of live counters (the benchmark harness diffs two of them).
   */
  public Map<String, Long> requestCounts() {
    Map<String, Long> out = new TreeMap<>();
    for (int code = 0; code < Dispatcher.COUNTED_OPCODES; code++) {
      long n = dispatcher.received(code);
      if (n != 0) {
        out.put(Opcode.nameOf(code), n);
      }
    }
    return out;
  }

  /** The live session of this JVM mounted at {@code mountPoint}, or null. */
  public static @Nullable FuseSession live(Path mountPoint) {
    Path mp = mountPoint.toAbsolutePath().normalize();
    for (FuseSession s : LIVE) {
      if (s.mountPoint.equals(mp) && s.isAlive()) {
        return s;
      }
    }
    return null;
  }

  /** How this mount was made: {@link MountMethod#SYSCALL} or {@link MountMethod#FUSERMOUNT}. */
  public MountMethod mountMethod() {
    return attached.method();
  }

  /** The worker threads (for diagnostics and tests). */
  public List<Thread> workerThreads() {
    return List.copyOf(workers);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        // Another thread is closing: wait until it is done, so that a shutdown hook racing
        // the application's own close does not return (and let the JVM halt) mid-unmount. A
        // worker of this session never waits: close joins the workers.
        while (!closed && SERVING.get() != this) {
          try {
            wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        return;
      }
      closing = true;
    }
    try {
      Notifier n = notifier;
      if (n != null) {
        n.stop(options.closeTimeout());
      }
      if (mounted) {
        unmount();
      }
      boolean joined = joinWorkers();
      if (!joined) {
        abortConnection();
        joined = joinWorkers();
        if (!joined) {
          LOG.warn("{}: {} worker(s) did not stop; leaving them as daemon threads", target,
              workers.stream().filter(Thread::isAlive).count());
        }
      }
      FuseRing r = ring;
      if (r != null && joined) {
        r.release(); // unmapping rings a live thread still reads would crash the JVM
      }
    } finally {
      alive = false;
      synchronized (fds) {
        for (int fd : fds) {
          sys.close(fd);
        }
        fds.clear();
      }
      sys.close(masterFd);
      LIVE.remove(this);
      synchronized (this) {
        closed = true;
        notifyAll();
      }
    }
  }

  private void unmount() {
    if (!alive) {
      // Our connection is gone, and with it our claim on the device number: another mount
      // may now sit here with the same one. Only a dead mount (statfs ENOTCONN) is detached.
      int probe = sys.statfs(target);
      if (probe == -Syscalls.ENOTCONN || probe == -Syscalls.ECONNABORTED) {
        attached.unmount(sys, target, true);
      }
      mounted = false;
      return;
    }
    MountTable.Entry e = MountTable.at(mountPoint);
    if (e == null || !e.isFuse() || (connectionId >= 0 && e.minor() != connectionId)) {
      mounted = false; // unmounted behind our back; nothing of ours is there any more
      return;
    }
    int r = attached.unmount(sys, target, false);
    if (r == -Syscalls.EBUSY) {
      // Still in use (open files, a cwd inside): detach it from the tree now; the kernel
      // drops it when the last user goes, and aborting the connection lets workers exit.
      LOG.info("{} is busy; detaching it lazily", target);
      r = attached.unmount(sys, target, true);
      if (r == 0) {
        abortConnection();
      }
    }
    if (r < 0 && r != -Syscalls.EINVAL && r != -Syscalls.ENOENT) {
      LOG.warn("unmounting {} failed: {}", target, sys.strerror(-r));
    }
    mounted = false;
  }

  private boolean joinWorkers() {
    long deadline = System.nanoTime() + options.closeTimeout().toNanos();
    for (Thread t : workers) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        t.join(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return workers.stream().noneMatch(Thread::isAlive);
  }

  /** Ends the connection through fusectl so blocked workers return ENODEV. */
  private void abortConnection() {
    // While our workers still read, the connection (and its device number) is ours; once it
    // ended, the number may already belong to someone else's mount.
    if (connectionId < 0 || !alive) {
      return;
    }
    Path abort = Path.of(FUSECTL, Integer.toString(connectionId), "abort");
    if (!Files.exists(abort) && !MountTable.read().stream()
        .anyMatch(m -> m.fsType().equals("fusectl"))) {
      // Root may mount the control filesystem itself; it is how a FUSE server unwedges.
      int r = sys.mount("fusectl", FUSECTL, "fusectl", 0, "");
      if (r < 0) {
        LOG.debug("cannot mount fusectl: {}", sys.strerror(-r));
      }
    }
    try {
      Files.write(abort, "1".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException ex) {
      LOG.debug("cannot abort FUSE connection {}: {}", connectionId, ex.toString());
    }
  }

  /**
   * The kernel's per-request page limit (fs.fuse.max_pages_limit), 256 if unknown. Read in one
   * read(2): Files.readString sees st_size 0 and reads one byte first, and a sysctl file
   * answers a read at a non-zero offset with EOF, so it would give "2" for "256".
   */
  static int maxPagesLimit() {
    try (var in = Files.newInputStream(Path.of("/proc/sys/fs/fuse/max_pages_limit"))) {
      byte[] b = new byte[32];
      int n = in.read(b);
      return Integer.parseInt(new String(b, 0, Math.max(0, n), StandardCharsets.US_ASCII).trim());
    } catch (IOException | RuntimeException e) {
      return 256;
    }
  }

  @Override
  public String toString() {
    return "FuseSession{" + target + (alive ? ", alive" : ", dead") + "}";
  }
}
