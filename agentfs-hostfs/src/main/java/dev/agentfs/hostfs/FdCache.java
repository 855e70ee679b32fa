package dev.agentfs.hostfs;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds the raw descriptors a backstore holds open, so a store of a million files keeps at most
 * {@code max} of them open. Each content keeps its current {@link Fd} in a field; using it is a
 * CAS on a reference count, with no shared lock. Eviction is the clock (second-chance)
 * approximation of LRU, run by whichever thread opens a descriptor past the bound; it closes
 * only descriptors whose count is zero and marks them closed in the same CAS, so no thread can
 * use a descriptor after it is closed. When every open descriptor is in use the bound is
 * exceeded by the number of threads doing I/O at that moment, never more.
 */
final class FdCache {
  /** One open descriptor and its users. */
  static final class Fd {
    final int fd;

    /** The number of users, or -1 once closed. */
    private final AtomicInteger state = new AtomicInteger(1);

    private volatile boolean referenced = true;
    private volatile boolean doomed;

    Fd(int fd) {
      this.fd = fd;
    }

    /** Takes a use of this descriptor, or returns false when it is closed. */
    boolean tryAcquire() {
      while (true) {
        int s = state.get();
        if (s < 0) {
          return false;
        }
        if (state.compareAndSet(s, s + 1)) {
          referenced = true;
          return true;
        }
      }
    }

    boolean closed() {
      return state.get() < 0;
    }
  }

  private final int max;
  private final ConcurrentLinkedQueue<Fd> ring = new ConcurrentLinkedQueue<>();
  private final AtomicInteger ringSize = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final ReentrantLock sweepLock = new ReentrantLock();

  FdCache(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("the descriptor limit must be at least 1: " + max);
    }
    this.max = max;
  }

  int max() {
    return max;
  }

  /** Descriptors currently open. */
  int openCount() {
    return open.get();
  }

  /** Adopts a freshly opened descriptor, already acquired once by the caller. */
  Fd register(int rawFd) {
    Fd f = new Fd(rawFd);
    open.incrementAndGet();
    ring.add(f);
    int entries = ringSize.incrementAndGet();
    if (open.get() > max || entries > 2 * max + 16) {
      sweep();
    }
    return f;
  }

  /** Ends one use; the last use of a doomed descriptor closes it. */
  void release(Fd f) {
    if (f.state.decrementAndGet() == 0 && f.doomed) {
      tryClose(f);
    }
  }

  /** The descriptor will not be used again: closes it now or when its last user is done. */
  void retire(Fd f) {
    f.doomed = true;
    tryClose(f);
  }

  private boolean tryClose(Fd f) {
    if (f.state.compareAndSet(0, -1)) {
      Native.closeQuietly(f.fd);
      open.decrementAndGet();
      return true;
    }
    return false;
  }

  /**
   * Closes idle descriptors until the bound holds, and drops closed ones from the ring so it
   * does not grow with contents that come and go. Every entry is looked at most twice per
   * sweep (once to clear its referenced bit, once to close it), so the sweep ends even when
   * all descriptors are busy.
   */
  private void sweep() {
    sweepLock.lock();
    try {
      int budget = 2 * ringSize.get() + 2;
      while (budget-- > 0 && (open.get() > max || ringSize.get() > 2 * max + 16)) {
        Fd f = ring.poll();
        if (f == null) {
          return;
        }
        ringSize.decrementAndGet();
        if (f.closed()) {
          continue;
        }
        if (open.get() > max) {
          if (f.referenced) {
            f.referenced = false;
          } else if (tryClose(f)) {
            continue;
          }
        }
        ring.add(f);
        ringSize.incrementAndGet();
      }
    } finally {
      sweepLock.unlock();
    }
  }

  /** Closes every idle descriptor and dooms the busy ones (backstore close). */
  void closeAll() {
    Fd f;
    while ((f = ring.poll()) != null) {
      ringSize.decrementAndGet();
      retire(f);
    }
  }
}
