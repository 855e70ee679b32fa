package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlFrames.Reply;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The client side of the control protocol: something that exchanges one request frame for
 * one reply frame (an ioctl on the control file, or a {@link ControlServer} in a test), and
 * {@link #call} on top of it, which pages through long replies.
 */
public interface ControlChannel extends Closeable {
  /** Sends one request frame and returns the reply frame (at most FRAME_SIZE bytes). */
  byte[] exchange(byte[] request) throws AgentFsException;

  /** What errors name as their path (the mount point, for a mounted control file). */
  default String where() {
    return ControlFrames.CONTROL;
  }

  @Override
  default void close() throws AgentFsException {}

  /** {@link #call(Op, List)} with the parameters of a map, in its iteration order. */
  default String call(Op op, Map<String, String> params) throws AgentFsException {
    return call(op, new ArrayList<>(params.entrySet()));
  }

  /**
   * Runs {@code op} and returns the whole reply payload (JSON lines), asking again with
   * {@code cursor = nextCursor} while the reply says MORE. A failure reply throws
   * {@link AgentFsException} with its errno, naming {@link #where()} with the server's
   * message as detail.
   */
  default String call(Op op, List<Map.Entry<String, String>> params) throws AgentFsException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    int cursor = 0;
    while (true) {
      Reply r = ControlFrames.decodeReply(exchange(ControlFrames.encodeRequest(op, cursor,
          params)));
      if (r.status() != 0) {
        Errno errno = Errno.of(r.status());
        String text = r.text();
        if (text.startsWith(errno.name() + ": ")) {
          text = text.substring(errno.name().length() + 2);
        } else if (text.equals(errno.name())) {
          text = "";
        }
        throw new AgentFsException(errno, where(), null, text.isEmpty() ? null : text);
      }
      all.writeBytes(r.payload());
      if (!r.more()) {
        return all.toString(StandardCharsets.UTF_8);
      }
      long expected = (long) cursor + r.payload().length;
      if (r.payload().length == 0 || Integer.toUnsignedLong(r.nextCursor()) != expected) {
        throw new AgentFsException(Errno.EIO, where(), null, "control reply pages out of order"
            + " (cursor " + cursor + ", " + r.payload().length + " bytes, next "
            + Integer.toUnsignedString(r.nextCursor()) + ")");
      }
      cursor = r.nextCursor();
    }
  }
}
