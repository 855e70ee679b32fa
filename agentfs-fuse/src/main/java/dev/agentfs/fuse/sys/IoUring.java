package dev.agentfs.fuse.sys;

import com.kenai.jffi.MemoryIO;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * One io_uring instance with 128-byte submission entries, reduced to what FUSE-over-io_uring
 * needs: queue IORING_OP_URING_CMD entries, submit and wait in one io_uring_enter, and read
 * completions. The rings are the kernel's own shared memory (mmap of the ring fd), viewed as
 * direct buffers; the head and tail words are read with acquire and written with release
 * ordering, as the io_uring ABI requires. Submissions may come from several threads
 * ({@link #push} is synchronized); completions are consumed by one thread.
 *
 * @since 0.1
 */
public final class IoUring implements AutoCloseable {
  /** The libc calls io_uring needs beyond {@link JnrSyscalls}. */
  public interface Lib {
    @SaveError
    long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    @SaveError
    int sched_setaffinity(int pid, long size, long mask);

    int close(int fd);
  }

  public static final int OP_URING_CMD = 46;
  public static final int SQE_SIZE = 128;
  /** Where the command area of an SQE128 starts; 80 bytes long. */
  public static final int SQE_CMD = 48;

  private static final long SYS_MMAP = 9;
  private static final long SYS_MUNMAP = 11;
  private static final long SYS_SETUP = 425;
  private static final long SYS_ENTER = 426;
  private static final int SETUP_CQSIZE = 1 << 3;
  private static final int SETUP_SQE128 = 1 << 10;
  private static final int ENTER_GETEVENTS = 1;
  private static final int FEAT_SINGLE_MMAP = 1;
  private static final long OFF_SQ_RING = 0;
  private static final long OFF_CQ_RING = 0x8000000L;
  private static final long OFF_SQES = 0x10000000L;
  private static final int PROT_RW = 3;
  private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;
  private static final int CQE_SIZE = 16;

  private static final VarHandle INT =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private static volatile Lib lib;
  private static volatile Runtime runtime;

  private final MemoryIO mem = MemoryIO.getInstance();
  private final int fd;
  private final long ringAddr;
  private final long ringLen;
  private final long cqAddr;
  private final long cqLen;
  private final long sqesAddr;
  private final long sqesLen;
  private final ByteBuffer sq;
  private final ByteBuffer cq;
  private final ByteBuffer sqes;
  private final int sqHead;
  private final int sqTail;
  private final int sqMask;
  private final int sqEntries;
  private final int cqHead;
  private final int cqTail;
  private final int cqMask;
  private final int cqes;
  private int localSqTail;
  private final java.util.concurrent.atomic.LongAdder enters =
      new java.util.concurrent.atomic.LongAdder();
  private boolean closed;

  private IoUring(int fd, ByteBuffer params, Lib l) throws IllegalStateException {
    this.fd = fd;
    sqEntries = params.getInt(0);
    int cqEntries = params.getInt(4);
    int features = params.getInt(20);
    int sqOff = 40;
    int cqOff = 80;
    sqHead = params.getInt(sqOff);
    sqTail = params.getInt(sqOff + 4);
    int sqMaskAt = params.getInt(sqOff + 8);
    int sqArray = params.getInt(sqOff + 24);
    cqHead = params.getInt(cqOff);
    cqTail = params.getInt(cqOff + 4);
    int cqMaskAt = params.getInt(cqOff + 8);
    cqes = params.getInt(cqOff + 20);

    long sqSize = sqArray + 4L * sqEntries;
    long cqSize = cqes + (long) CQE_SIZE * cqEntries;
    boolean single = (features & FEAT_SINGLE_MMAP) != 0;
    ringLen = single ? Math.max(sqSize, cqSize) : sqSize;
    ringAddr = map(l, ringLen, OFF_SQ_RING);
    if (single) {
      cqAddr = ringAddr;
      cqLen = 0;
    } else {
      cqLen = cqSize;
      cqAddr = map(l, cqLen, OFF_CQ_RING);
    }
    sqesLen = (long) SQE_SIZE * sqEntries;
    sqesAddr = map(l, sqesLen, OFF_SQES);
    sq = mem.newDirectByteBuffer(ringAddr, (int) ringLen).order(ByteOrder.nativeOrder());
    cq = single ? sq
        : mem.newDirectByteBuffer(cqAddr, (int) cqLen).order(ByteOrder.nativeOrder());
    sqes = mem.newDirectByteBuffer(sqesAddr, (int) sqesLen).order(ByteOrder.nativeOrder());
    // The offsets say where the mask words live in the shared ring; the masks are read there.
    sqMask = sq.getInt(sqMaskAt);
    cqMask = cq.getInt(cqMaskAt);
    // Slot i of the indirection array always names SQE i: entries are used in ring order.
    for (int i = 0; i < sqEntries; i++) {
      sq.putInt(sqArray + 4 * i, i);
    }
    localSqTail = (int) INT.getAcquire(sq, sqTail);
  }

  private long map(Lib l, long len, long off) {
    // Straight to the kernel: the libc wrapper's view of a 64-bit offset varies by build.
    long a = l.syscall(SYS_MMAP, 0, len, PROT_RW, MAP_SHARED_POPULATE, fd, off);
    if (a == -1L) {
      int e = LastError.getLastError(runtime);
      throw new IllegalStateException("mmap of io_uring ring failed: errno " + e);
    }
    return a;
  }

  static Lib lib() {
    Lib l = lib;
    if (l == null) {
      synchronized (IoUring.class) {
        l = lib;
        if (l == null) {
          l = LibraryLoader.create(Lib.class).load("c");
          runtime = Runtime.getRuntime(l);
          lib = l;
        }
      }
    }
    return l;
  }

  /**
   * A ring with {@code entries} submission slots (128 bytes each) and {@code cqEntries}
   * completion slots.
   *
   * @return the ring, or throws with the errno when io_uring_setup refuses
   */
  public static IoUring create(int entries, int cqEntries) throws IoUringException {
    Lib l = lib();
    MemoryIO mem = MemoryIO.getInstance();
    long p = mem.allocateMemory(120, true);
    try {
      mem.putInt(p + 8, SETUP_SQE128 | SETUP_CQSIZE);
      mem.putInt(p + 4, cqEntries);
      long fd = l.syscall(SYS_SETUP, entries, p, 0, 0, 0, 0);
      if (fd < 0) {
        throw new IoUringException(LastError.getLastError(runtime), "io_uring_setup");
      }
      ByteBuffer params = mem.newDirectByteBuffer(p, 120).order(ByteOrder.nativeOrder());
      try {
        return new IoUring((int) fd, params, l);
      } catch (IllegalStateException e) {
        l.close((int) fd);
        throw new IoUringException(12, e.getMessage());
      }
    } finally {
      mem.freeMemory(p);
    }
  }

  /** Pins the calling thread to {@code cpu}; returns 0 or -errno. */
  public static int pinCurrentThread(int cpu) {
    Lib l = lib();
    MemoryIO mem = MemoryIO.getInstance();
    int bytes = 128;
    long m = mem.allocateMemory(bytes, true);
    try {
      long word = m + 8L * (cpu / 64);
      mem.putLong(word, 1L << (cpu % 64));
      int r = l.sched_setaffinity(0, bytes, m);
      return r < 0 ? -LastError.getLastError(runtime) : 0;
    } finally {
      mem.freeMemory(m);
    }
  }

  /**
   * Queues one URING_CMD entry for {@code devFd}: {@code cmdOp} with the command bytes
   * {@code cmd} (at most 80), {@code addr}/{@code len} as the command's buffer argument, and
   * {@code userData} returned in its completion. Not yet submitted; see {@link #enter}.
   *
   * @return false when the submission ring is full
   */
  public synchronized boolean push(int devFd, int cmdOp, long addr, int len, long userData,
      long cmdWord0, long cmdWord1, long cmdWord2) {
    int head = (int) INT.getAcquire(sq, sqHead);
    if (localSqTail - head >= sqEntries) {
      return false;
    }
    int base = (localSqTail & sqMask) * SQE_SIZE;
    for (int i = 0; i < SQE_SIZE; i += 8) {
      sqes.putLong(base + i, 0);
    }
    sqes.put(base, (byte) OP_URING_CMD);
    sqes.putInt(base + 4, devFd);
    sqes.putInt(base + 8, cmdOp);
    sqes.putLong(base + 16, addr);
    sqes.putInt(base + 24, len);
    sqes.putLong(base + 32, userData);
    sqes.putLong(base + SQE_CMD, cmdWord0);
    sqes.putLong(base + SQE_CMD + 8, cmdWord1);
    sqes.putLong(base + SQE_CMD + 16, cmdWord2);
    localSqTail++;
    INT.setRelease(sq, sqTail, localSqTail);
    return true;
  }

  /**
   * io_uring_enter: submits whatever is queued and, when {@code wait}, blocks until at least
   * one completion is there. Returns the number submitted or -errno.
   */
  public int enter(boolean wait) {
    enters.increment();
    // Exactly what is queued: the kernel skips the wait when it submits fewer than asked for.
    int toSubmit = unsubmitted();
    long r = lib.syscall(SYS_ENTER, fd, toSubmit, wait ? 1 : 0, wait ? ENTER_GETEVENTS : 0,
        0, 0);
    return r < 0 ? -LastError.getLastError(runtime) : (int) r;
  }

  private synchronized int unsubmitted() {
    return localSqTail - (int) INT.getAcquire(sq, sqHead);
  }

  /** io_uring_enter calls so far: a waiting loop that spins shows here. */
  public long enters() {
    return enters.sum();
  }

  /** Receives completions; one consumer thread only. */
  public interface CompletionSink {
    void completed(long userData, int res);
  }

  /** Hands every available completion to {@code sink} and frees their slots; returns the count. */
  public int drain(CompletionSink sink) {
    int head = (int) INT.getOpaque(cq, cqHead);
    int tail = (int) INT.getAcquire(cq, cqTail);
    int n = 0;
    while (head != tail) {
      int off = cqes + (head & cqMask) * CQE_SIZE;
      long data = cq.getLong(off);
      int res = cq.getInt(off + 8);
      head++;
      n++;
      // Free the slot before handling: the handler may submit, and the kernel may then post.
      INT.setRelease(cq, cqHead, head);
      sink.completed(data, res);
      tail = (int) INT.getAcquire(cq, cqTail);
    }
    return n;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Lib l = lib;
    l.syscall(SYS_MUNMAP, sqesAddr, sqesLen, 0, 0, 0, 0);
    if (cqLen > 0) {
      l.syscall(SYS_MUNMAP, cqAddr, cqLen, 0, 0, 0, 0);
    }
    l.syscall(SYS_MUNMAP, ringAddr, ringLen, 0, 0, 0, 0);
    l.close(fd);
  }

  /** io_uring refused: {@link #errno()} says why. */
  public static final class IoUringException extends Exception {
    private final int errno;

    public IoUringException(int errno, String what) {
      super(what + " failed: errno " + errno);
      this.errno = errno;
    }

    public int errno() {
      return errno;
    }
  }
}
