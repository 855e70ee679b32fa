package dev.agentfs.hostfs;

import static dev.agentfs.hostfs.Native.LIBC;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable backstore in a host directory: each content object is one host file, and the core's
 * metadata goes to an append-only log beside them.
 *
 * <pre>
 *   dir/LOCK          flock'ed while open; holds the owner's pid, for the error message
 *   dir/meta.log      the {@link FileMetadataLog}, compacted when it grows (see the builder)
 *   dir/data/xx/ID    content files; ID is 16 hex digits, xx its first two
 * </pre>
 *
 * <p>Copies are reflinks (FICLONE) where the host filesystem can share extents (XFS, btrfs,
 * bcachefs), found by a probe at open; elsewhere (ext4, tmpfs) they are in-kernel copies of the
 * data segments only (SEEK_DATA/SEEK_HOLE, then copy_file_range), so holes stay holes.
 *
 * <p>Space: {@link #usedBytes()} is the sum of the allocated bytes of this store's live content
 * (a reflinked extent counts once per file sharing it); {@link #capacityBytes()} is that plus the
 * host filesystem's usable space, and {@link #availableBytes()} that usable space. The usable
 * space is read at most once per {@link Builder#statsInterval} (default 1 s), so a statfs that
 * asks for both within the interval sees consistent numbers. Writes reserve their blocks
 * with fallocate first, so on a full disk they fail with ENOSPC before changing anything.
 *
 * @since 0.1
 */
public final class HostFsBackstore implements Backstore {
  static final Logger LOG = LoggerFactory.getLogger(HostFsBackstore.class);

  /** How {@link dev.agentfs.spi.Content#copy()} copies bytes. */
  public enum CloneMode {
    /** Reflink when the probe at open found it works, otherwise copy. */
    AUTO,
    /** Reflink only; opening fails with ENOTSUP when the filesystem cannot. */
    REFLINK,
    /** Always copy (data segments, in the kernel). */
    COPY
  }

  public static final int DEFAULT_MAX_OPEN_FILES = 256;
  static final String LOCK_FILE = "LOCK";
  static final String LOG_FILE = "meta.log";
  static final String DATA_DIR = "data";
  private static final Pattern ID = Pattern.compile("[0-9a-f]{16}");

  private final Path dir;
  private final Path data;
  private final String name;
  private final FdCache fds;
  private final int lockFd;
  private final FileMetadataLog log;
  private final FileStore fileStore;
  private final boolean reflink;
  private final CloneMode cloneMode;
  private final long statsIntervalNanos;
  private final ConcurrentHashMap<String, HostContent> live = new ConcurrentHashMap<>();
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong clones = new AtomicLong();
  private final AtomicLong copies = new AtomicLong();
  private final AtomicLong copiedBytes = new AtomicLong();
  private volatile boolean preallocateWrites;
  private volatile boolean copyFileRange = true;
  private volatile boolean closed;
  private volatile long usableSnapshot = -1;
  private volatile long snapshotAt;

  private HostFsBackstore(Builder b, Path dir, int lockFd) throws AgentFsException {
    this.dir = dir;
    this.data = dir.resolve(DATA_DIR);
    this.name = "hostfs:" + dir;
    this.fds = new FdCache(b.maxOpenFiles);
    this.lockFd = lockFd;
    this.cloneMode = b.cloneMode;
    this.preallocateWrites = b.preallocateWrites;
    this.statsIntervalNanos = b.statsInterval.toNanos();
    createLayout();
    try {
      this.fileStore = Files.getFileStore(dir);
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, dir.toString(), e);
    }
    this.reflink = cloneMode != CloneMode.COPY && probeReflink();
    if (cloneMode == CloneMode.REFLINK && !reflink) {
      throw new AgentFsException(
          Errno.ENOTSUP,
          dir.toString(),
          null,
          "clone mode REFLINK, but this filesystem cannot reflink (FICLONE failed)");
    }
    this.log = FileMetadataLog.open(dir.resolve(LOG_FILE), b.compactLogAbove);
  }

  /** Opens (creating if missing) the backstore in {@code dir} with default options. */
  public static HostFsBackstore open(Path dir) throws AgentFsException {
    return builder().open(dir);
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---- open ---------------------------------------------------------------------------------

  private static HostFsBackstore open(Builder b, Path dir) throws AgentFsException {
    Path abs = dir.toAbsolutePath().normalize();
    try {
      Files.createDirectories(abs);
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, abs.toString(), e);
    }
    int lockFd = lock(abs.resolve(LOCK_FILE));
    try {
      return new HostFsBackstore(b, abs, lockFd);
    } catch (AgentFsException | RuntimeException e) {
      Native.closeQuietly(lockFd);
      throw e;
    }
  }

  /**
   * Takes the directory's lock: flock, not fcntl, because closing any descriptor of a file
   * drops the process's fcntl locks on it, which would let a failed second opener in the same
   * JVM unlock the first.
   */
  private static int lock(Path lockPath) throws AgentFsException {
    String p = lockPath.toString();
    int fd = LIBC.open(p, Native.O_RDWR | Native.O_CREAT | Native.O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Native.error(Native.errno(), p, "open lock file");
    }
    if (LIBC.flock(fd, Native.LOCK_EX | Native.LOCK_NB) != 0) {
      int err = Native.errno();
      String owner = "";
      try {
        String pid = Files.readString(lockPath, StandardCharsets.US_ASCII).strip();
        owner = pid.isEmpty() ? "" : " (held by pid " + pid + ")";
      } catch (IOException e) {
        // The pid is only for the message.
      }
      Native.closeQuietly(fd);
      if (err == Native.EAGAIN) {
        throw new AgentFsException(
            Errno.EBUSY,
            p,
            null,
            "the backstore directory is already open, in this or another process" + owner);
      }
      throw Native.error(err, p, "flock");
    }
    byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
    LIBC.ftruncate(fd, 0);
    try {
      Native.pwriteFully(fd, ByteBuffer.wrap(pid), 0, p);
    } catch (AgentFsException e) {
      // The pid is only for the message; the lock is what matters.
    }
    return fd;
  }

  private void createLayout() throws AgentFsException {
    try {
      boolean created = false;
      if (!Files.isDirectory(data)) {
        Files.createDirectories(data);
        created = true;
      }
      for (int i = 0; i < 256; i++) {
        Path fan = data.resolve(String.format(Locale.ROOT, "%02x", i));
        if (!Files.isDirectory(fan)) {
          Files.createDirectory(fan);
          created = true;
        }
      }
      if (created) {
        Native.syncDirectory(data);
        Native.syncDirectory(dir);
      }
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, data.toString(), e);
    }
  }

  /** Whether FICLONE works here: clones a one-block file between two scratch files. */
  private boolean probeReflink() {
    Path a = dir.resolve("probe.reflink.a");
    Path b = dir.resolve("probe.reflink.b");
    int fa = -1;
    int fb = -1;
    try {
      Files.deleteIfExists(a);
      Files.deleteIfExists(b);
      int flags = Native.O_RDWR | Native.O_CREAT | Native.O_EXCL | Native.O_CLOEXEC;
      fa = LIBC.open(a.toString(), flags, 0600);
      fb = LIBC.open(b.toString(), flags, 0600);
      if (fa < 0 || fb < 0) {
        return false;
      }
      Native.pwriteFully(fa, ByteBuffer.allocate(4096), 0, a.toString());
      return LIBC.ioctl(fb, Native.FICLONE, fa) == 0;
    } catch (IOException e) {
      return false;
    } finally {
      Native.closeQuietly(fa);
      Native.closeQuietly(fb);
      try {
        Files.deleteIfExists(a);
        Files.deleteIfExists(b);
      } catch (IOException e) {
        LOG.warn("could not delete reflink probe files in {}: {}", dir, e.toString());
      }
    }
  }

  // ---- Backstore ----------------------------------------------------------------------------

  @Override
  public String name() {
    return name;
  }

  @Override
  public Set<BackstoreFeature> features() {
    EnumSet<BackstoreFeature> f =
        EnumSet.of(BackstoreFeature.DURABLE, BackstoreFeature.HOST_FILES, BackstoreFeature.BOUNDED);
    if (reflink) {
      f.add(BackstoreFeature.NATIVE_CLONE);
    }
    return f;
  }

  @Override
  public HostContent newContent() throws AgentFsException {
    checkOpen();
    int flags = Native.O_RDWR | Native.O_CREAT | Native.O_EXCL | Native.O_CLOEXEC;
    for (int attempt = 0; ; attempt++) {
      String id = String.format(Locale.ROOT, "%016x", ThreadLocalRandom.current().nextLong());
      Path p = pathOf(id);
      int raw = LIBC.open(p.toString(), flags, 0644);
      if (raw < 0) {
        int err = Native.errno();
        if (err == Errno.EEXIST.code() && attempt < 16) {
          continue;
        }
        throw Native.error(err, p.toString(), "create content file");
      }
      HostContent c = new HostContent(this, id, p, false);
      c.adopt(raw);
      live.put(id, c);
      return c;
    }
  }

  /**
   * Copies a host file into a new content file: by FICLONE where the probe found reflinks
   * (falling back to an in-kernel copy where this pair of files cannot share, unless the clone
   * mode is {@link CloneMode#REFLINK}); with {@code reflink}, by FICLONE only, and its errno
   * (ENOTSUP on ext4 or tmpfs, EXDEV from another filesystem) names {@code file}. The source is
   * opened for the copy alone, so importing a million files holds no descriptor afterwards.
   */
  @Override
  public HostContent importFile(Path file, boolean reflink) throws AgentFsException {
    checkOpen();
    String src = file.toString();
    int srcFd = LIBC.open(src, Native.O_RDONLY | Native.O_CLOEXEC, 0);
    if (srcFd < 0) {
      throw Native.error(Native.errno(), src, "open file to import");
    }
    try {
      long size = Native.fstat(srcFd, src)[0];
      HostContent dst = newContent();
      try {
        if (reflink) {
          dst.cloneFrom(srcFd, src);
          clones.incrementAndGet();
        } else {
          dst.fillFrom(srcFd, size, false); // asked for a copy: any way will do
        }
      } catch (AgentFsException | RuntimeException e) {
        dst.release();
        throw e;
      }
      return dst;
    } finally {
      Native.closeQuietly(srcFd);
    }
  }

  @Override
  public HostContent openContent(String id) throws AgentFsException {
    checkOpen();
    if (!ID.matcher(id).matches()) {
      throw new AgentFsException(Errno.EINVAL, id, null, "not a hostfs content id");
    }
    HostContent existing = live.get(id);
    if (existing != null) {
      return existing;
    }
    Path p = pathOf(id);
    synchronized (live) {
      existing = live.get(id);
      if (existing != null) {
        return existing;
      }
      HostContent c = new HostContent(this, id, p, true);
      fds.release(c.acquire()); // opens it, or fails with ENOENT naming the path
      live.put(id, c);
      c.accountInitial();
      return c;
    }
  }

  @Override
  public void retainOnly(Set<String> keep) throws AgentFsException {
    checkOpen();
    int deleted = 0;
    for (int i = 0; i < 256; i++) {
      Path fan = data.resolve(String.format(Locale.ROOT, "%02x", i));
      try (DirectoryStream<Path> files = Files.newDirectoryStream(fan)) {
        for (Path f : files) {
          String id = f.getFileName().toString();
          if (keep.contains(id) || live.containsKey(id)) {
            continue;
          }
          Files.deleteIfExists(f);
          deleted++;
        }
      } catch (java.nio.file.NoSuchFileException e) {
        continue;
      } catch (IOException e) {
        throw new AgentFsException(Errno.EIO, fan.toString(), e);
      }
    }
    if (deleted > 0) {
      LOG.info("{}: deleted {} content files no metadata refers to", name, deleted);
    }
  }

  @Override
  public long capacityBytes() {
    return usedBytes() + usable();
  }

  @Override
  public long usedBytes() {
    return Math.max(0, used.get());
  }

  @Override
  public long availableBytes() {
    return usable();
  }

  private long usable() {
    long now = System.nanoTime();
    long snap = usableSnapshot;
    if (snap < 0 || now - snapshotAt >= statsIntervalNanos) {
      try {
        snap = fileStore.getUsableSpace();
      } catch (IOException e) {
        snap = Math.max(0, snap);
      }
      snapshotAt = now;
      usableSnapshot = snap;
    }
    return snap;
  }

  @Override
  public FileMetadataLog metadataLog() {
    return log;
  }

  /** Closes the log, every descriptor and the lock; content objects fail with EIO afterwards. */
  @Override
  public void close() {
    synchronized (live) {
      if (closed) {
        return;
      }
      closed = true;
    }
    log.close();
    for (HostContent c : live.values()) {
      c.closeDescriptor();
    }
    fds.closeAll();
    Native.closeQuietly(lockFd);
  }

  // ---- options and metrics ------------------------------------------------------------------

  public Path directory() {
    return dir;
  }

  @Override
  public Path hostDirectory() {
    return dir;
  }

  public CloneMode cloneMode() {
    return cloneMode;
  }

  /** Whether copies are reflinks (the probe at open succeeded and the mode allows it). */
  public boolean reflinks() {
    return reflink;
  }

  /** Copies made by reflink. */
  public long clones() {
    return clones.get();
  }

  /** Copies made by copying bytes (copy_file_range, or read and write). */
  public long copies() {
    return copies.get();
  }

  /** Bytes those copies moved. */
  public long copiedBytes() {
    return copiedBytes.get();
  }

  /** Raw descriptors open for content right now (at most {@link #maxOpenFiles()} when idle). */
  public int openFiles() {
    return fds.openCount();
  }

  public int maxOpenFiles() {
    return fds.max();
  }

  /** Content objects open in this backstore. */
  public int liveContents() {
    return live.size();
  }

  @Override
  public String toString() {
    return "HostFsBackstore[" + dir + ", used=" + used.get() + ", reflink=" + reflink + "]";
  }

  // ---- for HostContent ----------------------------------------------------------------------

  FdCache fds() {
    return fds;
  }

  boolean preallocateWrites() {
    return preallocateWrites;
  }

  void preallocationUnsupported() {
    if (preallocateWrites) {
      preallocateWrites = false;
      LOG.info("{}: fallocate is not supported; writes no longer reserve space first", name);
    }
  }

  void addUsed(long delta) {
    if (delta != 0) {
      used.addAndGet(delta);
    }
  }

  void forget(HostContent c) {
    live.remove(c.id(), c);
  }

  void checkOpen() throws AgentFsException {
    if (closed) {
      throw new AgentFsException(Errno.EIO, dir.toString(), null, "hostfs backstore is closed");
    }
  }

  Path pathOf(String id) {
    return data.resolve(id.substring(0, 2)).resolve(id);
  }

  HostContent copyOf(HostContent src, int srcFd) throws AgentFsException {
    long size = Native.fstat(srcFd, src.hostPath().toString())[0];
    HostContent dst = newContent();
    try {
      dst.fillFrom(srcFd, size, cloneMode == CloneMode.REFLINK);
    } catch (AgentFsException | RuntimeException e) {
      dst.release();
      throw e;
    }
    return dst;
  }

  /** Copies {@code size} bytes from {@code srcFd} to the empty file {@code dstFd}. */
  void copyData(int srcFd, int dstFd, long size, String dstPath, boolean strictClone)
      throws AgentFsException {
    if (reflink) {
      if (LIBC.ioctl(dstFd, Native.FICLONE, srcFd) == 0) {
        clones.incrementAndGet();
        return;
      }
      int err = Native.errno();
      if (strictClone) {
        throw Native.error(err, dstPath, "FICLONE");
      }
      // AUTO: e.g. an inline-data file the filesystem will not share; copy this one.
    }
    long moved = 0;
    long pos = 0;
    while (pos < size) {
      long start = LIBC.lseek(srcFd, pos, Native.SEEK_DATA);
      long end;
      if (start < 0) {
        int err = Native.errno();
        if (err == Native.ENXIO) {
          break; // only a hole is left
        }
        if (err != Native.EINVAL) {
          throw Native.error(err, dstPath, "SEEK_DATA in the copy source");
        }
        start = pos;
        end = size;
      } else {
        end = LIBC.lseek(srcFd, start, Native.SEEK_HOLE);
        if (end < 0) {
          end = size;
        }
      }
      end = Math.min(end, size);
      if (start >= end) {
        break;
      }
      copyRange(srcFd, dstFd, start, end - start, dstPath);
      moved += end - start;
      pos = end;
    }
    if (LIBC.ftruncate(dstFd, size) != 0) {
      throw Native.error(Native.errno(), dstPath, "truncate copy to " + size);
    }
    copies.incrementAndGet();
    copiedBytes.addAndGet(moved);
  }

  private void copyRange(int srcFd, int dstFd, long offset, long length, String dstPath)
      throws AgentFsException {
    long done = 0;
    if (copyFileRange) {
      Native.Scratch s = Native.scratch();
      while (done < length) {
        s.small.putLong(0, offset + done).putLong(8, offset + done);
        long n =
            LIBC.copy_file_range(
                srcFd, s.smallAddress, dstFd, s.smallAddress + 8, length - done, 0);
        if (n > 0) {
          done += n;
          continue;
        }
        if (n == 0) {
          return; // the source is shorter than it was: nothing more to copy
        }
        int err = Native.errno();
        if (err == Native.EINTR) {
          continue;
        }
        if (err == Native.ENOSYS
            || err == Native.EXDEV
            || err == Native.EOPNOTSUPP
            || err == Native.EINVAL) {
          if (err == Native.ENOSYS || err == Native.EOPNOTSUPP) {
            copyFileRange = false;
          }
          break; // fall back to read and write
        }
        throw Native.error(err, dstPath, "copy_file_range of " + length + " bytes at " + offset);
      }
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(Native.SCRATCH_BYTES);
    while (done < length) {
      buf.clear().limit((int) Math.min(buf.capacity(), length - done));
      int n = Native.preadFully(srcFd, buf, offset + done, dstPath);
      if (n == 0) {
        return;
      }
      buf.flip();
      Native.pwriteFully(dstFd, buf, offset + done, dstPath);
      done += n;
    }
  }

  // ---- builder ------------------------------------------------------------------------------

  /** Options for {@link HostFsBackstore}. */
  public static final class Builder {
    private int maxOpenFiles = DEFAULT_MAX_OPEN_FILES;
    private CloneMode cloneMode = CloneMode.AUTO;
    private boolean preallocateWrites = true;
    private Duration statsInterval = Duration.ofSeconds(1);
    private long compactLogAbove = FileMetadataLog.DEFAULT_COMPACT_ABOVE;

    private Builder() {}

    /**
     * The size below which the metadata log is never compacted (default 8 MiB). Above it, the
     * log is compacted when it has grown to {@value FileMetadataLog#GROWTH} times its size after
     * the last compaction: at open and from the core's background flusher.
     */
    public Builder compactLogAbove(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("negative compaction threshold: " + bytes);
      }
      this.compactLogAbove = bytes;
      return this;
    }

    /** The most content file descriptors held open at once (default 256). */
    public Builder maxOpenFiles(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxOpenFiles must be at least 1: " + n);
      }
      this.maxOpenFiles = n;
      return this;
    }

    public Builder cloneMode(CloneMode mode) {
      this.cloneMode = mode;
      return this;
    }

    /**
     * Whether writes reserve their range with fallocate first (default true), so a full disk
     * fails a write with ENOSPC before it changes anything. Costs one syscall per write.
     */
    public Builder preallocateWrites(boolean on) {
      this.preallocateWrites = on;
      return this;
    }

    /** How often the host filesystem's free space is read for capacity (default 1 s). */
    public Builder statsInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("negative stats interval: " + interval);
      }
      this.statsInterval = interval;
      return this;
    }

    /** Opens (creating if missing) the backstore in {@code dir}. */
    public HostFsBackstore open(Path dir) throws AgentFsException {
      return HostFsBackstore.open(this, dir);
    }
  }
}
