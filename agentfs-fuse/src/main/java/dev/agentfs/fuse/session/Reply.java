package dev.agentfs.fuse.session;

import dev.agentfs.fuse.protocol.Opcode;
import dev.agentfs.fuse.protocol.Wire;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to one request, built in a reused direct buffer and sent with a single write. A
 * reply is opened by {@link #begin} and can be sent exactly once; a second send is a bug and
 * throws, and the dispatcher answers EIO for a request its handler left open. The kernel
 * matches answers by {@code unique} on the descriptor the request was read from, so each worker
 * owns one Reply bound to its own descriptor.
 *
 * @since 0.1
 */
public final class Reply {
  /** Where finished messages go: returns the bytes written, or -errno. */
  @FunctionalInterface
  public interface Channel {
    int send(ByteBuffer message);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Reply.class);

  /** Offset of the reply body in {@link #buffer()}. */
  public static final int BODY = Wire.OutHeader.SIZE;

  private final ByteBuffer out;
  private final Channel channel;
  private long unique;
  private int opcode;
  private boolean pending;

  public Reply(ByteBuffer out, Channel channel) {
    this.out = out;
    this.channel = channel;
  }

  void begin(long unique, int opcode) {
    this.unique = unique;
    this.opcode = opcode;
    this.pending = true;
  }

  /** True while the current request still waits for its answer. */
  public boolean pending() {
    return pending;
  }

  /** The reply buffer; the body is written from {@link #BODY} on, with absolute puts. */
  public ByteBuffer buffer() {
    return out;
  }

  /** The largest body that fits. */
  public int maxBody() {
    return out.capacity() - BODY;
  }

  /** Sends the {@code bodyLen} bytes written at {@link #BODY} as a successful answer. */
  public void ok(int bodyLen) {
    send(bodyLen, 0);
  }

  /** Sends an error answer; {@code errno} is the positive Linux code. */
  public void error(int errno) {
    send(0, -errno);
  }

  /**
   * Sends the {@code bodyLen} bytes written at {@link #BODY} as a notice (unique 0, the notify
   * code in the error field) ahead of the answer, which stays pending. Only for notices the
   * kernel handles without locks a request in flight may hold (INVAL_INODE with a negative
   * offset: attributes only); the others go through the notifier thread.
   */
  void notice(int code, int bodyLen) {
    int len = BODY + bodyLen;
    Wire.OutHeader.encode(out, 0, len, code, 0);
    out.limit(len).position(0);
    int r = channel.send(out);
    out.clear();
    if (r < 0 && r != -2 && r != -19) {
      LOG.warn("notice {} while serving {} failed: errno {}", code, Opcode.nameOf(opcode), -r);
    }
  }

  /** Marks a request that takes no answer (FORGET, INTERRUPT) as handled. */
  /** Last resort after an unexpected failure: answers {@code errno} if still owed, never throws. */
  void abandon(int errno) {
    try {
      if (pending) {
        error(errno);
      }
    } catch (Throwable ignored) {
      pending = false; // nothing more can be done for this request
    }
  }

  void none() {
    pending = false;
  }

  private void send(int bodyLen, int error) {
    if (!pending) {
      throw new IllegalStateException(
          "second reply to " + Opcode.nameOf(opcode) + " unique=" + unique);
    }
    pending = false;
    int len = BODY + bodyLen;
    Wire.OutHeader.encode(out, 0, len, error, unique);
    out.limit(len).position(0);
    int r = channel.send(out);
    out.clear();
    if (r < 0) {
      // ENOENT: the kernel dropped the request (interrupted) before we answered; harmless.
      // ENODEV: the connection is gone; the worker sees it on its next read.
      if (r != -2 && r != -19) {
        LOG.warn("writing reply to {} unique={} failed: errno {}", Opcode.nameOf(opcode),
            unique, -r);
      }
    }
  }
}
