package dev.agentfs.fuse.jnr;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.MountFlag;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.session.MountTable;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.Platform;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live libfuse2 mount: a thread running {@code fuse_main} (which starts libfuse's own
 * multi-threaded loop), the mount point, and the way to end it.
 *
 * <p>{@link #mount} returns once libfuse has handled the kernel's INIT (signalled by the init
 * callback, no polling) and a stat of the mount point is answered by this file system (its
 * st_dev differs from the parent directory's). {@link #close()} unmounts (detaching lazily and
 * aborting the connection when the mount is busy), waits for the loop to end, and may be
 * called any number of times; a JVM shutdown hook closes mounts still open at exit.
 *
 * <p>Kernel caching: the high-level API cannot send invalidation notices, so the mount uses
 * {@code attr_timeout=0,entry_timeout=0,negative_timeout=0}: the kernel asks again on every
 * lookup and stat, and a change made through the Java API is seen at once. File contents
 * cached in the page cache are dropped at each open (libfuse's default without
 * {@code kernel_cache}).
 */
final class JnrMount implements MountHandle {
  private static final Logger LOG = LoggerFactory.getLogger(JnrMount.class);
  private static final boolean LINUX = Platform.getNativePlatform().getOS() == Platform.OS.LINUX;
  private static final String FUSECTL = "/sys/fs/fuse/connections";
  /** libfuse2 reads requests into 128 KiB + one page and cannot negotiate more pages. */
  static final long MAX_WRITE_LIMIT = 128 * 1024;
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
  private static final AtomicInteger SEQ = new AtomicInteger();
  /** The VFS flags libfuse2's fuse_mount turns into mount(2) flags (its mount_flags table). */
  private static final Set<MountFlag> LIBFUSE2_FLAGS = Set.of(MountFlag.RDONLY,
      MountFlag.NOSUID, MountFlag.NODEV, MountFlag.NOEXEC, MountFlag.SYNCHRONOUS,
      MountFlag.NOATIME, MountFlag.DIRSYNC);
  private static final Set<JnrMount> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (JnrMount m : List.copyOf(LIVE)) {
        m.close();
      }
    }, "agentfs-jnr-shutdown"));
  }

  private final Path mountPoint;
  private final String target;
  private final JnrFuseFs fs;
  private final Thread loop;
  private final CompletableFuture<Integer> exited = new CompletableFuture<>();
  private volatile int connectionId = -1;
  private volatile boolean closing;
  private volatile boolean closed;

  private JnrMount(Path mountPoint, JnrFuseFs fs, List<String> args) {
    this.mountPoint = mountPoint;
    this.target = mountPoint.toString();
    this.fs = fs;
    this.loop = new Thread(() -> {
      try {
        exited.complete(fs.run(args));
      } catch (Throwable t) {
        exited.completeExceptionally(t);
      }
    }, "agentfs-jnr-" + SEQ.incrementAndGet());
    this.loop.setDaemon(true);
  }

  /** Why libfuse2 cannot give what {@code config} asks for, or null when it can. */
  static @Nullable String refusal(Configuration config) {
    for (MountFlag f : config.mountFlags()) {
      if (!LIBFUSE2_FLAGS.contains(f) && f != MountFlag.RELATIME) {
        return "the jnr transport cannot mount with " + f.option() + ": libfuse2 knows only "
            + "the mount flags ro, nosuid, nodev, noexec, sync, noatime and dirsync and hands "
            + "others to the kernel, which refuses them; use transport \"kernel\"";
      }
    }
    if (config.passthrough() != Passthrough.OFF) {
      return "the jnr transport cannot honour passthrough=" + config.passthrough()
          + ": libfuse2's high-level API has no FUSE passthrough (kernel 6.9+, protocol 7.40); "
          + "use transport \"kernel\" or passthrough OFF";
    }
    if (config.has(Feature.WRITEBACK_CACHE)) {
      return "the jnr transport cannot enable WRITEBACK_CACHE: libfuse2's high-level API "
          + "cannot invalidate the kernel's cached pages, so writes through the Java API would "
          + "be lost behind cached data; use transport \"kernel\" or disable WRITEBACK_CACHE";
    }
    return null;
  }

  /** The effective max_write: the configured one, clamped to what libfuse2 can read. */
  static long maxWrite(Configuration config) {
    return Math.min(config.maxWrite(), MAX_WRITE_LIMIT);
  }

  /** The argument vector for fuse_main: foreground, options, mount point. */
  static List<String> args(Configuration config, Path mountPoint) {
    List<String> o = new ArrayList<>();
    o.add("fsname=" + config.fsName());
    o.add("subtype=" + config.subtype());
    o.add("attr_timeout=0");
    o.add("entry_timeout=0");
    o.add("negative_timeout=0");
    o.add("use_ino");
    o.add("hard_remove");
    if (LINUX) {
      o.add("big_writes");
      o.add("max_write=" + maxWrite(config));
      o.add("nonempty");
    }
    boolean suidDev = config.has(Feature.SUID_DEV);
    o.add(suidDev && !config.has(MountFlag.NOSUID) ? "suid" : "nosuid");
    o.add(suidDev && !config.has(MountFlag.NODEV) ? "dev" : "nodev");
    for (MountFlag f : config.mountFlags()) {
      if (LIBFUSE2_FLAGS.contains(f) && f != MountFlag.NOSUID && f != MountFlag.NODEV
          && f != MountFlag.RDONLY) { // relatime: the kernel's default, libfuse2 lacks it
        o.add(f.option());
      }
    }
    if (config.has(Feature.ALLOW_OTHER)) {
      o.add("allow_other");
    }
    if (config.has(Feature.DEFAULT_PERMISSIONS)) {
      o.add("default_permissions");
    }
    if (config.has(Feature.READ_ONLY) || config.has(MountFlag.RDONLY)) {
      o.add("ro");
    }
    List<String> args = new ArrayList<>(List.of("agentfs", "-f"));
    if (config.threads() == 1) {
      args.add("-s");
    }
    args.add("-o");
    args.add(String.join(",", o));
    args.add(mountPoint.toString());
    return args;
  }

  static JnrMount mount(Vfs vfs, Path mountPoint, Configuration config)
      throws AgentFsException {
    Path mp = mountPoint.toAbsolutePath().normalize();
    String why = refusal(config);
    if (why != null) {
      throw new AgentFsException(Errno.ENOTSUP, mp.toString(), null, why);
    }
    checkMountPoint(mp);
    JnrFuseFs fs;
    try {
      fs = new JnrFuseFs(vfs, config.maxBackground(), config.congestionThreshold());
    } catch (LinkageError | RuntimeException e) { // jnr-fuse loads libfuse here
      String why2 = JnrTransportProvider.probe();
      throw new AgentFsException(Errno.ENODEV, mp.toString(), null,
          why2 != null ? why2 : "cannot load libfuse: " + e);
    }
    JnrMount m = new JnrMount(mp, fs, args(config, mp));
    LIVE.add(m);
    try {
      m.start();
    } catch (AgentFsException | RuntimeException e) {
      m.close();
      throw e;
    }
    return m;
  }

  private static void checkMountPoint(Path mp) throws AgentFsException {
    String path = mp.toString();
    if (LINUX) {
      int mode = JnrSyscalls.get().statMode(path);
      if (mode == -Syscalls.ENOTCONN || mode == -Syscalls.ECONNABORTED) {
        throw new AgentFsException(Errno.ENOTCONN, path, null,
            "a dead FUSE mount is left here (transport endpoint is not connected); unmount it "
                + "with 'umount -l " + path + "'");
      }
    }
    if (!Files.exists(mp)) {
      throw new AgentFsException(Errno.ENOENT, path, null,
          "the mount point does not exist; create the directory first");
    }
    if (!Files.isDirectory(mp)) {
      throw new AgentFsException(Errno.ENOTDIR, path, null, "the mount point must be a directory");
    }
    if (LINUX && MountTable.isFuseMountPoint(mp)) {
      throw new AgentFsException(Errno.EBUSY, path, null,
          "already a FUSE mount point; unmount it first (or pick another directory)");
    }
  }

  private void start() throws AgentFsException {
    long parentDev = dev(mountPoint.getParent() == null ? mountPoint : mountPoint.getParent());
    loop.start();
    // Whichever comes first: libfuse handled INIT (mounted and serving) or fuse_main gave up.
    try {
      CompletableFuture.anyOf(fs.initialized(), exited)
          .get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AgentFsException(Errno.EIO, target, e.getCause());
    } catch (TimeoutException e) {
      throw new AgentFsException(Errno.EIO, target, null,
          "libfuse did not finish mounting within " + READY_TIMEOUT.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentFsException(Errno.EINTR, target, null, "interrupted while mounting");
    }
    if (!fs.initialized().isDone()) {
      Integer rc = exited.getNow(-1);
      throw new AgentFsException(Errno.EIO, target, null, "libfuse2 could not mount (fuse_main "
          + "returned " + rc + "; libfuse printed the reason on stderr). As non-root it needs "
          + "fusermount from the 'fuse' package");
    }
    // Ready means served: this stat travels through libfuse and back.
    long d = dev(mountPoint);
    if (d == parentDev) {
      throw new AgentFsException(Errno.EIO, target, null,
          "libfuse reported INIT but the mount point still shows the parent file system");
    }
    if (LINUX) {
      MountTable.Entry e = MountTable.at(mountPoint);
      if (e != null && e.isFuse()) {
        connectionId = e.minor();
      }
    }
    LOG.debug("{} mounted through libfuse2, granted {}", target, fs.granted());
  }

  private long dev(Path p) throws AgentFsException {
    try {
      Object d = Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      return ((Number) d).longValue();
    } catch (NoSuchFileException e) {
      throw new AgentFsException(Errno.ENOENT, p.toString(), e);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      throw new AgentFsException(Errno.EIO, p.toString(), e);
    }
  }

  @Override
  public Path mountPoint() {
    return mountPoint;
  }

  /**
   * The FUSE_CAP_* capabilities libfuse2 asked the kernel for and it offered (e.g.
   * POSIX_LOCKS, BIG_WRITES); never PASSTHROUGH or WRITEBACK_CACHE.
   */
  @Override
  public Set<String> grantedFeatures() {
    return fs.granted();
  }

  @Override
  public boolean isAlive() {
    return !closed && loop.isAlive() && !fs.destroyed();
  }

  /** Nothing to do: the kernel caches no attributes or entries (all timeouts are 0). */
  @Override
  public void invalidateInode(long ino) {
    // libfuse2's high-level API cannot reach the kernel's caches; none are kept.
  }

  /** Nothing to do: the kernel caches no attributes or entries (all timeouts are 0). */
  @Override
  public void invalidateEntry(long parent, byte[] name) {
    // see invalidateInode
  }

  /** The mounts of this JVM that are not closed yet. */
  static List<JnrMount> live() {
    return List.copyOf(LIVE);
  }

  /** Open files and directories of this mount (for tests). */
  int openHandles() {
    return fs.openHandles();
  }

  /** The thread running libfuse's main loop (for tests). */
  Thread loopThread() {
    return loop;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    try {
      if (loop.isAlive()) {
        unmount();
        if (!join()) {
          abortConnection();
          if (!join()) {
            LOG.warn("{}: libfuse's loop did not stop; leaving it as a daemon thread", target);
          }
        }
      }
    } finally {
      closed = true;
      LIVE.remove(this);
    }
  }

  private void unmount() {
    if (!LINUX) {
      fs.umount(); // jnr-fuse: fusermount -u / umount
      return;
    }
    MountTable.Entry e = MountTable.at(mountPoint);
    if (e == null || !e.isFuse() || (connectionId >= 0 && e.minor() != connectionId)) {
      return; // unmounted behind our back; the loop ends by itself
    }
    Syscalls sys = JnrSyscalls.get();
    int r = sys.umount2(target, 0);
    if (r == -Syscalls.EBUSY) {
      // In use (open files, a cwd inside): detach it now; aborting the connection makes
      // libfuse's readers fail so its loop ends instead of waiting for the last user.
      LOG.info("{} is busy; detaching it lazily", target);
      r = sys.umount2(target, Syscalls.MNT_DETACH);
      if (r == 0) {
        abortConnection();
      }
    }
    if (r < 0 && r != -Syscalls.EINVAL && r != -Syscalls.ENOENT) {
      LOG.warn("unmounting {} failed: {}", target, sys.strerror(-r));
    }
  }

  private boolean join() {
    try {
      loop.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !loop.isAlive();
  }

  /** Ends the connection through fusectl so libfuse's blocked readers return. */
  private void abortConnection() {
    if (!LINUX || connectionId < 0) {
      return;
    }
    try {
      Files.write(Path.of(FUSECTL, Integer.toString(connectionId), "abort"),
          "1".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException ex) {
      LOG.debug("cannot abort FUSE connection {}: {}", connectionId, ex.toString());
    }
  }

  @Override
  public String toString() {
    return "JnrMount{" + target + (isAlive() ? ", alive" : ", dead") + "}";
  }
}
