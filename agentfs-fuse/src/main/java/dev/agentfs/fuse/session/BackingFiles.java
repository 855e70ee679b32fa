package dev.agentfs.fuse.session;

import dev.agentfs.AgentFsException;
import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.vfs.Vfs;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel passthrough: registers host files with the kernel (FUSE_DEV_IOC_BACKING_OPEN) so
 * reads and writes of an open file go kernel → host file without entering the JVM. The
 * kernel allows one backing file per inode and never mixes passthrough and cached opens of
 * one inode (a wrong reply fails the user's open with EIO), so this class keeps, per node,
 * which mode its open files are in: while any open file of a node is cached, new opens are
 * cached too; while any is passthrough, new opens share its backing id; only a node with no
 * open files chooses afresh, asking the filesystem for a backing file.
 */
final class BackingFiles {
  private static final Logger LOG = LoggerFactory.getLogger(BackingFiles.class);

  private static final class Node {
    int backingId;
    int passthrough;
    int cached;
    boolean dead;
  }

  private final Syscalls sys;
  private final int devFd;
  private final Vfs vfs;
  private final ConcurrentHashMap<Long, Node> nodes = new ConcurrentHashMap<>();
  /** Open handles served by passthrough (true) or cached (false). */
  private final ConcurrentHashMap<Long, Boolean> handles = new ConcurrentHashMap<>();
  private final AtomicLong registered = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  BackingFiles(Syscalls sys, int devFd, Vfs vfs) {
    this.sys = sys;
    this.devFd = devFd;
    this.vfs = vfs;
  }

  /** The backing id to answer OPEN/CREATE of handle {@code fh} with, or 0 for cached I/O. */
  int open(long node, long fh, int openFlags) throws AgentFsException {
    boolean forWrite = (openFlags & 3) != 0;
    while (true) {
      Node n = nodes.computeIfAbsent(node, k -> new Node());
      synchronized (n) {
        if (n.dead) {
          continue;
        }
        if (n.cached > 0) {
          return cached(n, fh);
        }
        if (n.passthrough > 0) {
          n.passthrough++;
          handles.put(fh, Boolean.TRUE);
          return n.backingId;
        }
        int id = register(node, forWrite);
        if (id <= 0) {
          return cached(n, fh);
        }
        n.backingId = id;
        n.passthrough = 1;
        handles.put(fh, Boolean.TRUE);
        return id;
      }
    }
  }

  private int cached(Node n, long fh) {
    n.cached++;
    handles.put(fh, Boolean.FALSE);
    return 0;
  }

  private int register(long node, boolean forWrite) throws AgentFsException {
    @Nullable Path p = vfs.openBacking(node, forWrite);
    if (p == null) {
      return 0;
    }
    int fd = sys.open(p.toString(), Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
    if (fd < 0) {
      vfs.releaseBacking(node);
      failures.incrementAndGet();
      LOG.warn("passthrough: cannot open backing file {}: {}", p, sys.strerror(-fd));
      return 0;
    }
    int id;
    try {
      id = sys.ioctlBackingOpen(devFd, Wire.FUSE_DEV_IOC_BACKING_OPEN, fd, 0);
    } finally {
      // The kernel holds its own reference to the file; ours is not needed any more.
      sys.close(fd);
    }
    if (id <= 0) {
      vfs.releaseBacking(node);
      failures.incrementAndGet();
      LOG.warn("passthrough: BACKING_OPEN of {} failed: {}", p, sys.strerror(-id));
      return 0;
    }
    registered.incrementAndGet();
    return id;
  }

  /** RELEASE of handle {@code fh}: the last passthrough file of a node drops its backing. */
  void release(long node, long fh) {
    Boolean pt = handles.remove(fh);
    Node n = nodes.get(node);
    if (pt == null || n == null) {
      return;
    }
    synchronized (n) {
      if (pt) {
        if (--n.passthrough == 0) {
          int r = sys.ioctlInt(devFd, Wire.FUSE_DEV_IOC_BACKING_CLOSE, n.backingId);
          if (r < 0) {
            LOG.warn("passthrough: BACKING_CLOSE {} failed: {}", n.backingId, sys.strerror(-r));
          }
          registered.decrementAndGet();
          n.backingId = 0;
          vfs.releaseBacking(node);
        }
      } else {
        n.cached--;
      }
      if (n.passthrough == 0 && n.cached == 0) {
        n.dead = true;
        nodes.remove(node, n);
      }
    }
  }

  /** Backing ids currently registered with the kernel. */
  long registered() {
    return registered.get();
  }

  /** Opens that wanted passthrough but fell back to cached I/O because the kernel refused. */
  long failures() {
    return failures.get();
  }
}
