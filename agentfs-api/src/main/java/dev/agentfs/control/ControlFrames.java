package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The frames of the control protocol (docs/control-protocol.md): one request and one reply per
 * {@link #IOC_CONTROL} ioctl on {@code <mount>/.agentfs/control}. Pure functions on byte
 * arrays, shared by the server ({@link ControlServer}) and the clients.
 *
 * <pre>
 * request: u32 magic "AGFS" | u16 version | u16 op | u32 cursor | u32 payloadLen | payload
 *          payload = UTF-8 lines "key=value" separated by '\n'
 * reply:   u32 magic | u16 version | u16 flags | i32 status | u32 nextCursor | u32 payloadLen
 *          | payload (JSON lines on success, the error message otherwise)
 * </pre>
 *
 * All integers are little-endian. A frame is at most {@link #FRAME_SIZE} bytes; bytes after
 * the payload (the padding the kernel copies along) are ignored.
 */
public final class ControlFrames {
  private ControlFrames() {}

  /** Bytes the kernel copies in and out per ioctl: the size encoded in {@link #IOC_CONTROL}. */
  public static final int FRAME_SIZE = 8192;

  /** {@code _IOWR(0xAF, 0x01, 8192)}: the one ioctl command of the control file. */
  public static final int IOC_CONTROL = ioc(3, 0xAF, 0x01, FRAME_SIZE);

  /** "AGFS" read as a little-endian u32. */
  public static final int MAGIC = 0x53464741;

  public static final int VERSION = 1;

  public static final int REQUEST_HEADER_SIZE = 16;
  public static final int REPLY_HEADER_SIZE = 20;
  public static final int MAX_REQUEST_PAYLOAD = FRAME_SIZE - REQUEST_HEADER_SIZE;
  public static final int MAX_REPLY_PAYLOAD = FRAME_SIZE - REPLY_HEADER_SIZE;

  /** Reply flag: more of the payload follows; ask again with {@code cursor = nextCursor}. */
  public static final int FLAG_MORE = 1;

  /** The Linux _IOC encoding: dir (1 write, 2 read, 3 both) | size | type | nr. */
  static int ioc(int dir, int type, int nr, int size) {
    return (dir << 30) | (size << 16) | (type << 8) | nr;
  }

  /** What the control file can be asked, with the keys each request takes. */
  public enum Op {
    PING(1, false, Set.of(), Set.of()),
    SNAPSHOT_CREATE(2, true, Set.of("name"), Set.of("branch")),
    SNAPSHOT_LIST(3, false, Set.of(), Set.of()),
    SNAPSHOT_DELETE(4, true, Set.of("name"), Set.of()),
    BRANCH_CREATE(5, true, Set.of("name"), Set.of("from", "fromBranch")),
    BRANCH_LIST(6, false, Set.of(), Set.of()),
    BRANCH_DELETE(7, true, Set.of("name"), Set.of("force")),
    BIND(8, true, Set.of("pid", "branch"), Set.of()),
    UNBIND(9, true, Set.of("pid"), Set.of()),
    SHOW(10, false, Set.of("pid"), Set.of()),
    DIFF(11, false, Set.of("from", "to"), Set.of("patch")),
    COMMIT(12, true, Set.of("branch"), Set.of("target", "lower", "dryRun")),
    EXPORT(13, true, Set.of("branch"), Set.of()),
    RESET(14, true, Set.of("branch", "to"), Set.of()),
    RESTORE(15, true, Set.of("branch", "from", "path"), Set.of()),
    SET_DEFAULT(16, true, Set.of("branch"), Set.of()),
    INFO(17, false, Set.of(), Set.of()),
    CHECKPOINT(18, true, Set.of("branch"), Set.of()),
    SNAPSHOT_MOUNT(19, true, Set.of("name", "path"), Set.of());

    private static final Op[] BY_CODE = new Op[20];

    static {
      for (Op op : values()) {
        BY_CODE[op.code] = op;
      }
    }

    private final int code;
    private final boolean mutating;
    private final Set<String> required;
    private final Set<String> optional;

    Op(int code, boolean mutating, Set<String> required, Set<String> optional) {
      this.code = code;
      this.mutating = mutating;
      this.required = required;
      this.optional = optional;
    }

    /** The u16 on the wire. */
    public int code() {
      return code;
    }

    /**
     * Whether the op changes state. A mutating op is executed only for {@code cursor == 0};
     * its further pages come from the server's memory of the first call, never by running the
     * op again.
     */
    public boolean mutating() {
      return mutating;
    }

    public Set<String> requiredKeys() {
      return required;
    }

    public Set<String> optionalKeys() {
      return optional;
    }

    /** The op with wire code {@code code}, or null. */
    public static @Nullable Op of(int code) {
      return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
  }

  /** A decoded request: {@code params} in wire order (a key may repeat). */
  public record Request(Op op, int cursor, List<Map.Entry<String, String>> params) {
    public Request {
      params = List.copyOf(params);
    }
  }

  /** A decoded reply; {@code status} is 0 or a positive errno. */
  public record Reply(int flags, int status, int nextCursor, byte[] payload) {
    public boolean more() {
      return (flags & FLAG_MORE) != 0;
    }

    /** The payload as text (JSON lines, or the error message). */
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  // ---------------------------------------------------------------- requests

  /**
   * Encodes a request. Throws {@link AgentFsException} EINVAL when a key or value cannot be
   * sent (a key must match {@code [A-Za-z][A-Za-z0-9_]*}; a value must not contain control characters, U+0000-U+001F and U+007F) or
   * the frame would exceed {@link #FRAME_SIZE}.
   */
  public static byte[] encodeRequest(Op op, int cursor, List<Map.Entry<String, String>> params)
      throws AgentFsException {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> p : params) {
      String k = p.getKey();
      String v = p.getValue();
      if (!validKey(k)) {
        throw invalid("bad key '" + k + "'");
      }
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        if (c < 0x20 || c == 0x7f) {
          throw invalid("value of " + k + " contains control character "
              + String.format("0x%02x", (int) c));
        }
      }
      sb.append(k).append('=').append(v).append('\n');
    }
    byte[] payload = sb.toString().getBytes(StandardCharsets.UTF_8);
    if (payload.length > MAX_REQUEST_PAYLOAD) {
      throw invalid("request too long (" + payload.length + " bytes, at most "
          + MAX_REQUEST_PAYLOAD + ")");
    }
    return encodeRawRequest(MAGIC, VERSION, op.code(), cursor, payload, payload.length);
  }

  /** A request frame with every field as given, unchecked (tests and fuzzing use it). */
  public static byte[] encodeRawRequest(int magic, int version, int op, int cursor,
      byte[] payload, int payloadLen) {
    ByteBuffer b = ByteBuffer.allocate(REQUEST_HEADER_SIZE + payload.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(magic).putShort((short) version).putShort((short) op).putInt(cursor)
        .putInt(payloadLen).put(payload);
    return b.array();
  }

  /**
   * Decodes a request frame of {@code length} bytes at the start of {@code frame}. Checks the
   * header and the payload's syntax, not which keys the op takes ({@link #checkKeys} does).
   */
  public static Request decodeRequest(byte[] frame, int length) throws AgentFsException {
    if (length < 0 || length > frame.length) {
      throw invalid("frame length " + length + " outside the buffer");
    }
    if (length < REQUEST_HEADER_SIZE) {
      throw invalid("short frame (" + length + " bytes, header is " + REQUEST_HEADER_SIZE + ")");
    }
    ByteBuffer b = ByteBuffer.wrap(frame, 0, length).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getInt();
    int version = Short.toUnsignedInt(b.getShort());
    int opCode = Short.toUnsignedInt(b.getShort());
    int cursor = b.getInt();
    long payloadLen = Integer.toUnsignedLong(b.getInt());
    if (magic != MAGIC) {
      throw invalid(String.format("bad magic 0x%08x", magic));
    }
    if (version != VERSION) {
      throw invalid("unsupported version " + version + " (this server speaks " + VERSION + ")");
    }
    Op op = Op.of(opCode);
    if (op == null) {
      throw invalid("unknown op " + opCode);
    }
    if (cursor < 0) {
      throw invalid("cursor " + Integer.toUnsignedString(cursor) + " out of range");
    }
    if (payloadLen > MAX_REQUEST_PAYLOAD || payloadLen > length - REQUEST_HEADER_SIZE) {
      throw invalid("payload length " + payloadLen + " does not fit the "
          + length + "-byte frame");
    }
    return new Request(op, cursor,
        parseParams(frame, REQUEST_HEADER_SIZE, (int) payloadLen));
  }

  /** {@link #decodeRequest(byte[], int)} of the whole array. */
  public static Request decodeRequest(byte[] frame) throws AgentFsException {
    return decodeRequest(frame, frame.length);
  }

  private static List<Map.Entry<String, String>> parseParams(byte[] buf, int off, int len)
      throws AgentFsException {
    if (len == 0) {
      return List.of();
    }
    String text = utf8(buf, off, len);
    List<Map.Entry<String, String>> out = new ArrayList<>();
    int start = 0;
    int n = text.length();
    while (start < n) {
      int nl = text.indexOf('\n', start);
      int end = nl < 0 ? n : nl;
      String line = text.substring(start, end);
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw invalid("line " + (out.size() + 1) + " is not key=value");
      }
      String key = line.substring(0, eq);
      if (!validKey(key)) {
        throw invalid("bad key on line " + (out.size() + 1));
      }
      String value = line.substring(eq + 1);
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c < 0x20 || c == 0x7f) {
          throw invalid("value of " + key + " contains control character "
              + String.format("0x%02x", (int) c));
        }
      }
      out.add(Map.entry(key, value));
      start = end + 1;
    }
    return out;
  }

  private static boolean validKey(String k) {
    if (k.isEmpty() || k.length() > 64) {
      return false;
    }
    for (int i = 0; i < k.length(); i++) {
      char c = k.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (i > 0 && ((c >= '0' && c <= '9') || c == '_'));
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * Checks {@code params} against what {@code op} takes: every required key present, no key
   * the op does not know, no key twice. Returns the values by key.
   */
  public static Map<String, String> checkKeys(Op op, List<Map.Entry<String, String>> params)
      throws AgentFsException {
    Map<String, String> byKey = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> p : params) {
      String k = p.getKey();
      if (!op.requiredKeys().contains(k) && !op.optionalKeys().contains(k)) {
        throw invalid(op + " takes no key '" + k + "'");
      }
      if (byKey.put(k, p.getValue()) != null) {
        throw invalid(op + ": key '" + k + "' given twice");
      }
    }
    for (String k : new java.util.TreeSet<>(op.requiredKeys())) {
      if (!byKey.containsKey(k)) {
        throw invalid(op + " needs key '" + k + "'");
      }
    }
    return Collections.unmodifiableMap(byKey);
  }

  // ---------------------------------------------------------------- replies

  /** A reply frame; {@code payload} must fit {@link #MAX_REPLY_PAYLOAD}. */
  public static byte[] encodeReply(int flags, int status, int nextCursor, byte[] payload,
      int off, int len) {
    if (len < 0 || len > MAX_REPLY_PAYLOAD) {
      throw new IllegalArgumentException("reply payload of " + len + " bytes");
    }
    ByteBuffer b = ByteBuffer.allocate(REPLY_HEADER_SIZE + len).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).putShort((short) VERSION).putShort((short) flags).putInt(status)
        .putInt(nextCursor).putInt(len).put(payload, off, len);
    return b.array();
  }

  /** An error reply: {@code message} cut (at a character boundary) to fit one frame. */
  public static byte[] encodeError(int status, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    int len = Math.min(m.length, MAX_REPLY_PAYLOAD);
    while (len < m.length && len > 0 && (m[len] & 0xC0) == 0x80) {
      len--; // do not split a UTF-8 sequence
    }
    return encodeReply(0, status, 0, m, 0, len);
  }

  /**
   * Decodes a reply frame of {@code length} bytes. A reply that is not one (bad magic,
   * version, lengths) is EIO: the other side is not a control file of this protocol.
   */
  public static Reply decodeReply(byte[] frame, int length) throws AgentFsException {
    if (length < REPLY_HEADER_SIZE || length > frame.length) {
      throw badReply("short reply (" + length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(frame, 0, length).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getInt();
    int version = Short.toUnsignedInt(b.getShort());
    int flags = Short.toUnsignedInt(b.getShort());
    int status = b.getInt();
    int next = b.getInt();
    long len = Integer.toUnsignedLong(b.getInt());
    if (magic != MAGIC) {
      throw badReply(String.format("bad magic 0x%08x", magic));
    }
    if (version != VERSION) {
      throw badReply("unsupported version " + version);
    }
    if (status < 0) {
      throw badReply("negative status " + status);
    }
    if (len > MAX_REPLY_PAYLOAD || len > length - REPLY_HEADER_SIZE) {
      throw badReply("payload length " + len + " does not fit");
    }
    byte[] payload = new byte[(int) len];
    b.get(payload);
    return new Reply(flags, status, next, payload);
  }

  public static Reply decodeReply(byte[] frame) throws AgentFsException {
    return decodeReply(frame, frame.length);
  }

  // ---------------------------------------------------------------- helpers

  /** Strict UTF-8 (malformed or truncated sequences are EINVAL). */
  static String utf8(byte[] buf, int off, int len) throws AgentFsException {
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer cb = d.decode(ByteBuffer.wrap(buf, off, len));
      return cb.toString();
    } catch (CharacterCodingException e) {
      throw invalid("payload is not valid UTF-8");
    }
  }

  /** The path named in protocol errors. */
  static final String CONTROL = ".agentfs/control";

  static AgentFsException invalid(String detail) {
    return new AgentFsException(Errno.EINVAL, CONTROL, null, detail);
  }

  private static AgentFsException badReply(String detail) {
    return new AgentFsException(Errno.EIO, CONTROL, null, "not a control reply: " + detail);
  }
}
