package dev.agentfs.fuse.session;

import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.fuse.sys.Syscalls;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends invalidation notices to the kernel from its own thread. A notice can block in the
 * kernel until locks held by an in-flight request are released (inval_entry takes the
 * directory's inode lock); written from a worker that is itself serving such a request, it
 * would deadlock. Callers therefore only enqueue, and this single thread writes.
 */
final class Notifier {
  private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);

  private sealed interface Notice permits InvalInode, InvalEntry, Marker, Stop {}

  private record InvalInode(long ino, long off, long len) implements Notice {}

  private record InvalEntry(long parent, byte[] name) implements Notice {}

  private record Marker(CountDownLatch done) implements Notice {}

  private record Stop() implements Notice {}

  private final LinkedBlockingQueue<Notice> queue = new LinkedBlockingQueue<>();
  private final Syscalls sys;
  private final int fd;
  private final ByteBuffer buf = Wire.allocate(Wire.OutHeader.SIZE + 16 + 4096);
  private final Thread thread;
  private volatile boolean stopped;

  Notifier(Syscalls sys, int fd, String name) {
    this.sys = sys;
    this.fd = fd;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void invalidateInode(long ino, long off, long len) {
    offer(new InvalInode(ino, off, len));
  }

  void invalidateEntry(long parent, byte[] name) {
    if (name.length == 0 || name.length > 4095) {
      throw new IllegalArgumentException("entry name must be 1..4095 bytes");
    }
    offer(new InvalEntry(parent, name.clone()));
  }

  private void offer(Notice n) {
    if (!stopped) {
      queue.add(n);
    }
  }

  /** Waits until every notice queued before this call has been written (or dropped). */
  boolean drain(Duration timeout) throws InterruptedException {
    if (stopped) {
      return true;
    }
    CountDownLatch done = new CountDownLatch(1);
    queue.add(new Marker(done));
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  void stop(Duration timeout) {
    stopped = true;
    queue.add(new Stop());
    try {
      thread.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isRunning() {
    return thread.isAlive();
  }

  private void run() {
    FuseSession.SERVING.set(this);
    while (true) {
      Notice n;
      try {
        n = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (n instanceof Stop) {
        drop();
        return;
      }
      if (n instanceof Marker m) {
        m.done().countDown();
        continue;
      }
      int len;
      int code;
      if (n instanceof InvalInode i) {
        code = Wire.NOTIFY_INVAL_INODE;
        len = Wire.OutHeader.SIZE
            + new Wire.NotifyInvalInodeOut(i.ino(), i.off(), i.len()).encode(buf,
                Wire.OutHeader.SIZE);
      } else {
        InvalEntry e = (InvalEntry) n;
        code = Wire.NOTIFY_INVAL_ENTRY;
        int p = Wire.OutHeader.SIZE
            + new Wire.NotifyInvalEntryOut(e.parent(), e.name().length, 0).encode(buf,
                Wire.OutHeader.SIZE);
        buf.put(p, e.name());
        buf.put(p + e.name().length, (byte) 0);
        len = p + e.name().length + 1;
      }
      // A notice is a message with unique 0 whose error field carries the notify code.
      Wire.OutHeader.encode(buf, 0, len, code, 0);
      buf.limit(len).position(0);
      int r = sys.write(fd, buf);
      buf.clear();
      if (r < 0 && r != -Syscalls.ENOENT) {
        // ENOENT only means the kernel had nothing cached for it.
        if (r == -Syscalls.ENODEV) {
          LOG.debug("connection gone; dropping notices");
        } else {
          LOG.warn("invalidation notice {} failed: errno {}", n, -r);
        }
      }
    }
  }

  private void drop() {
    Notice n;
    while ((n = queue.poll()) != null) {
      if (n instanceof Marker m) {
        m.done().countDown();
      }
    }
  }
}
