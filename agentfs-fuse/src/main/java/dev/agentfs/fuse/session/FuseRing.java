package dev.agentfs.fuse.session;

import dev.agentfs.Errno;
import dev.agentfs.fuse.protocol.Opcode;
import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.fuse.sys.IoUring;
import dev.agentfs.fuse.sys.Syscalls;
import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FUSE-over-io_uring (Linux 6.14+): one queue per possible CPU, each an io_uring with a fixed
 * set of request slots and one thread pinned to that CPU. The kernel puts a request on the
 * queue of the CPU its caller runs on, so request and answer stay on one core: no
 * cross-CPU wakeup per request, which on small virtual machines is most of a round trip.
 *
 * <p>A slot is a header page (request header, per-opcode struct, then the ring's own in/out
 * words) and a payload buffer of max_write bytes. The thread copies a completed slot into one
 * contiguous request, as /dev/fuse would deliver it, lets the {@link Dispatcher} answer it,
 * and commits the answer with COMMIT_AND_FETCH, which also re-arms the slot. A request that
 * may block for long (SETLKW) is answered from another thread, so that the lock's holder,
 * whose unlock may arrive on the same queue, is never stuck behind it. FORGET and INTERRUPT
 * still come through /dev/fuse, so the session keeps one classic worker.
 */
final class FuseRing {
  private static final Logger LOG = LoggerFactory.getLogger(FuseRing.class);

  private static final int CMD_REGISTER = 1;
  private static final int CMD_COMMIT_AND_FETCH = 2;
  private static final int HEADER_PAGE = 4096;
  private static final int IN_OUT = 0;
  private static final int OP_IN = 128;
  private static final int ENT_IN_OUT = 256;
  private static final int ENT_COMMIT_ID = ENT_IN_OUT + 8;
  private static final int ENT_PAYLOAD_SZ = ENT_IN_OUT + 16;
  private static final int IN_HEADER = 40;
  private static final int ECANCELED = Errno.ECANCELED.code();
  private static final int EIO = Errno.EIO.code();

  private final FuseSession session;
  private final Syscalls sys;
  private final int devFd;
  private final Dispatcher dispatcher;
  private final int depth;
  private final int payloadSize;
  private final int bufferSize;
  private final String name;
  private final List<Queue> queues = new ArrayList<>();
  private final ExecutorService slow;
  private volatile boolean stopping;
  private final java.util.concurrent.atomic.LongAdder served =
      new java.util.concurrent.atomic.LongAdder();

  FuseRing(FuseSession session, Syscalls sys, int devFd, Dispatcher dispatcher, int depth,
      int maxWrite, int bufferSize, String name) {
    this.session = session;
    this.sys = sys;
    this.devFd = devFd;
    this.dispatcher = dispatcher;
    this.depth = depth;
    this.payloadSize = roundUp(Math.max(Wire.MIN_READ_BUFFER, maxWrite), HEADER_PAGE);
    this.bufferSize = bufferSize;
    this.name = name;
    this.slow = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, name + "-ring-slow");
      t.setDaemon(true);
      return t;
    });
  }

  private static int roundUp(int n, int to) {
    return (n + to - 1) / to * to;
  }

  /** The number of queues the kernel expects: one per possible CPU (nr_cpu_ids). */
  static int possibleCpus() {
    try {
      String s = new String(Files.readAllBytes(Path.of("/sys/devices/system/cpu/possible")),
          StandardCharsets.US_ASCII).trim();
      int max = 0;
      for (String part : s.split(",")) {
        String[] r = part.split("-");
        max = Math.max(max, Integer.parseInt(r[r.length - 1].trim()));
      }
      return max + 1;
    } catch (Exception e) {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  /**
   * Creates every queue and registers its slots; the kernel switches to the ring once every
   * queue has one. Throws when io_uring or the FUSE ring refuses, after undoing what it did.
   */
  List<Thread> start(int cpus) throws IoUring.IoUringException {
    List<Thread> threads = new ArrayList<>();
    try {
      for (int q = 0; q < cpus; q++) {
        queues.add(new Queue(q));
      }
    } catch (IoUring.IoUringException | RuntimeException e) {
      for (Queue q : queues) {
        q.ring.close();
      }
      queues.clear();
      throw e;
    }
    for (Queue q : queues) {
      Thread t = new Thread(q::run, name + "-ring-" + q.qid);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    return threads;
  }

  /** Requests that arrived through the ring so far. */
  long served() {
    return served.sum();
  }

  /** io_uring_enter calls of all queues so far. */
  long enters() {
    long n = 0;
    for (Queue q : queues) {
      n += q.ring.enters();
    }
    return n;
  }

  /** Call after the threads ended: frees the rings (never while a thread may touch them). */
  void release() {
    stopping = true;
    slow.shutdownNow();
    for (Queue q : queues) {
      q.ring.close();
    }
  }

  /** One request slot: its header page and payload, and the commit id of what it holds. */
  private static final class Slot {
    final int index;
    final ByteBuffer header;
    final ByteBuffer payload;
    final long iov;
    long commitId;
    boolean answered;

    Slot(int index, int payloadSize) {
      this.index = index;
      MemoryIO mem = MemoryIO.getInstance();
      this.header = ByteBuffer.allocateDirect(HEADER_PAGE * 2).alignedSlice(HEADER_PAGE)
          .order(ByteOrder.nativeOrder());
      this.payload = ByteBuffer.allocateDirect(payloadSize + HEADER_PAGE)
          .alignedSlice(HEADER_PAGE).order(ByteOrder.nativeOrder());
      // struct iovec[2] for REGISTER; the kernel copies it, so it may stay here.
      ByteBuffer v = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder());
      v.putLong(0, mem.getDirectBufferAddress(header));
      v.putLong(8, HEADER_PAGE);
      v.putLong(16, mem.getDirectBufferAddress(payload));
      v.putLong(24, payloadSize);
      this.iov = mem.getDirectBufferAddress(v);
      this.keep = v;
    }

    @SuppressWarnings("unused") // keeps the iovec memory reachable
    private final ByteBuffer keep;
  }

  private final class Queue {
    final int qid;
    final IoUring ring;
    final Slot[] slots;
    final Dispatcher.Context ctx;
    private @Nullable Slot current;

    Queue(int qid) throws IoUring.IoUringException {
      this.qid = qid;
      this.ring = IoUring.create(depth, depth * 2);
      this.slots = new Slot[depth];
      for (int i = 0; i < depth; i++) {
        slots[i] = new Slot(i, payloadSize);
      }
      ByteBuffer out = Wire.allocate(bufferSize);
      this.ctx = new Dispatcher.Context(Wire.allocate(bufferSize), new Reply(out, msg -> {
        Slot s = current;
        return s == null ? -Syscalls.EINVAL : commit(s, msg, false);
      }));
      for (Slot s : slots) {
        push(CMD_REGISTER, s, s.iov, 2, 0);
      }
    }

    private void push(int cmd, Slot s, long addr, int len, long commitId) {
      if (!ring.push(devFd, cmd, addr, len, s.index, 0, commitId, qid)) {
        // Cannot happen: each slot owns one submission entry at most.
        throw new IllegalStateException("io_uring submission ring full on queue " + qid);
      }
    }

    /** Sends {@code msg} (out header + body) as the answer held by slot {@code s}. */
    int commit(Slot s, ByteBuffer msg, boolean submitNow) {
      int len = msg.remaining();
      long unique = msg.getLong(msg.position() + 8);
      if (unique == 0) {
        return sys.write(devFd, msg); // a notice: those still travel on /dev/fuse
      }
      int body = len - Wire.OutHeader.SIZE;
      if (body > payloadSize) {
        msg.putInt(msg.position() + 4, -Errno.ERANGE.code()); // the answer cannot fit the slot
        body = 0;
      }
      s.header.put(IN_OUT, msg, msg.position(), Wire.OutHeader.SIZE);
      s.payload.put(0, msg, msg.position() + Wire.OutHeader.SIZE, Math.max(0, body));
      s.header.putInt(ENT_PAYLOAD_SZ, Math.max(0, body));
      s.answered = true;
      push(CMD_COMMIT_AND_FETCH, s, 0, 0, s.commitId);
      if (submitNow) {
        int r = ring.enter(false);
        if (r < 0) {
          LOG.warn("queue {}: submitting an answer failed: errno {}", qid, -r);
        }
      }
      return len;
    }

    void run() {
      FuseSession.SERVING.set(session);
      int pin = IoUring.pinCurrentThread(qid);
      if (pin < 0) {
        LOG.debug("queue {}: cannot pin to its CPU: errno {}", qid, -pin);
      }
      while (true) {
        int r = ring.enter(true);
        if (r < 0 && r != -Syscalls.EINTR && r != -Syscalls.EAGAIN) {
          LOG.warn("queue {}: io_uring_enter failed: errno {}; the queue stops", qid, -r);
          return;
        }
        boolean[] ended = {false};
        ring.drain((data, res) -> {
          Slot s = slots[(int) data];
          if (res < 0) {
            if (res == -Syscalls.ENOTCONN || res == -ECANCELED || res == -Syscalls.ENODEV
                || stopping) {
              ended[0] = true;
            } else if (res == -Syscalls.EINTR || res == -Syscalls.EAGAIN) {
              push(CMD_REGISTER, s, s.iov, 2, 0);
            } else {
              LOG.warn("queue {}: slot {} failed: errno {}", qid, s.index, -res);
              ended[0] = true;
            }
            return;
          }
          serve(s);
        });
        if (ended[0]) {
          return;
        }
      }
    }

    private void serve(Slot s) {
      ByteBuffer h = s.header;
      s.commitId = h.getLong(ENT_COMMIT_ID);
      int payloadLen = h.getInt(ENT_PAYLOAD_SZ);
      int len = h.getInt(IN_OUT);
      int opLen = len - IN_HEADER - payloadLen;
      s.answered = false;
      served.increment();
      if (opLen < 0 || opLen > 128 || payloadLen > payloadSize || len > bufferSize) {
        LOG.warn("queue {}: malformed ring request (len {}, payload {})", qid, len, payloadLen);
        fail(s, h.getLong(IN_OUT + 8));
        return;
      }
      ByteBuffer in = ctx.in;
      in.clear();
      in.put(0, h, IN_OUT, IN_HEADER);
      in.put(IN_HEADER, h, OP_IN, opLen);
      in.put(IN_HEADER + opLen, s.payload, 0, payloadLen);
      if (Wire.InHeader.opcode(in, 0) == Opcode.SETLKW.code()) {
        ByteBuffer copy = Wire.allocate(len);
        copy.put(0, in, 0, len);
        slow.execute(() -> {
          FuseSession.SERVING.set(session);
          Dispatcher.Context c = new Dispatcher.Context(copy, new Reply(
              Wire.allocate(Wire.MIN_READ_BUFFER), msg -> commit(s, msg, true)));
          dispatcher.dispatch(c, len);
        });
        return;
      }
      current = s;
      try {
        dispatcher.dispatch(ctx, len);
      } catch (Throwable t) {
        ctx.reply.abandon(EIO);
      } finally {
        current = null;
      }
      if (!s.answered) {
        // Only requests without answers (which the kernel does not put on the ring) end
        // here; the slot must be re-armed all the same.
        fail(s, Wire.InHeader.unique(in, 0));
      }
    }

    /** Answers EIO for the request in {@code s}, which also gives the slot back. */
    private void fail(Slot s, long unique) {
      s.header.putInt(IN_OUT, Wire.OutHeader.SIZE);
      s.header.putInt(IN_OUT + 4, -EIO);
      s.header.putLong(IN_OUT + 8, unique);
      s.header.putInt(ENT_PAYLOAD_SZ, 0);
      s.answered = true;
      push(CMD_COMMIT_AND_FETCH, s, 0, 0, s.commitId);
    }
  }
}
