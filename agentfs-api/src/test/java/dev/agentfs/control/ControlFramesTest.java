package dev.agentfs.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlFrames.Reply;
import dev.agentfs.control.ControlFrames.Request;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ControlFramesTest {
  @Test
  void ioctlCommandIsIowrOf8192Bytes() {
    assertEquals(0xE000AF01, ControlFrames.IOC_CONTROL);
    assertEquals(3, ControlFrames.IOC_CONTROL >>> 30); // read and write
    assertEquals(8192, (ControlFrames.IOC_CONTROL >>> 16) & 0x3fff);
    assertEquals(0xAF, (ControlFrames.IOC_CONTROL >>> 8) & 0xff);
    assertEquals(0x01, ControlFrames.IOC_CONTROL & 0xff);
  }

  @Test
  void magicSpellsAgfsOnTheWire() {
    byte[] f = ControlFrames.encodeRawRequest(ControlFrames.MAGIC, 1, 1, 0, new byte[0], 0);
    assertEquals("AGFS", new String(f, 0, 4, StandardCharsets.US_ASCII));
  }

  /** Parameters that exercise what every op takes: all its keys, with awkward values. */
  static List<Map.Entry<String, String>> sample(Op op) {
    List<Map.Entry<String, String>> ps = new ArrayList<>();
    for (String k : new java.util.TreeSet<>(op.requiredKeys())) {
      ps.add(Map.entry(k, k.equals("pid") ? "1234" : "v=" + k + " é ✓"));
    }
    for (String k : new java.util.TreeSet<>(op.optionalKeys())) {
      ps.add(Map.entry(k, ""));
    }
    return ps;
  }

  @ParameterizedTest
  @EnumSource(Op.class)
  void requestRoundTripsForEveryOp(Op op) throws AgentFsException {
    List<Map.Entry<String, String>> ps = sample(op);
    byte[] f = ControlFrames.encodeRequest(op, 77, ps);
    Request r = ControlFrames.decodeRequest(f);
    assertEquals(op, r.op());
    assertEquals(77, r.cursor());
    assertEquals(ps, r.params());
    assertEquals(Map.copyOf(ControlFrames.checkKeys(op, ps)),
        Map.copyOf(new java.util.HashMap<>(Map.ofEntries(ps.toArray(Map.Entry[]::new)))));
    // the kernel pads to 8192 bytes: padding is ignored
    byte[] padded = Arrays.copyOf(f, ControlFrames.FRAME_SIZE);
    assertEquals(r, ControlFrames.decodeRequest(padded));
  }

  @Test
  void opCodesAreTheDocumentedOnes() {
    String[] names = {"PING", "SNAPSHOT_CREATE", "SNAPSHOT_LIST", "SNAPSHOT_DELETE",
        "BRANCH_CREATE", "BRANCH_LIST", "BRANCH_DELETE", "BIND", "UNBIND", "SHOW", "DIFF",
        "COMMIT", "EXPORT", "RESET", "RESTORE", "SET_DEFAULT", "INFO", "CHECKPOINT",
        "SNAPSHOT_MOUNT"};
    for (int i = 0; i < names.length; i++) {
      assertEquals(names[i], Op.of(i + 1).name());
      assertEquals(i + 1, Op.valueOf(names[i]).code());
    }
    assertEquals(null, Op.of(0));
    assertEquals(null, Op.of(20));
    assertEquals(null, Op.of(-1));
  }

  @Test
  void repeatedKeysSurviveTheCodec() throws AgentFsException {
    List<Map.Entry<String, String>> ps = List.of(Map.entry("x", "1"), Map.entry("x", "2"));
    assertEquals(ps, ControlFrames.decodeRequest(
        ControlFrames.encodeRequest(Op.PING, 0, ps)).params());
  }

  @Test
  void replyRoundTrips() throws AgentFsException {
    byte[] p = "{\"a\":1}\n".getBytes(StandardCharsets.UTF_8);
    byte[] f = ControlFrames.encodeReply(ControlFrames.FLAG_MORE, 0, 4096, p, 0, p.length);
    Reply r = ControlFrames.decodeReply(Arrays.copyOf(f, ControlFrames.FRAME_SIZE));
    assertTrue(r.more());
    assertEquals(0, r.status());
    assertEquals(4096, r.nextCursor());
    assertArrayEquals(p, r.payload());
    Reply e = ControlFrames.decodeReply(ControlFrames.encodeError(2, "ENOENT: x"));
    assertFalse(e.more());
    assertEquals(2, e.status());
    assertEquals("ENOENT: x", e.text());
  }

  @Test
  void longErrorMessagesAreCutAtACharacterBoundary() throws AgentFsException {
    String msg = "é".repeat(ControlFrames.FRAME_SIZE);
    byte[] f = ControlFrames.encodeError(22, msg);
    assertTrue(f.length <= ControlFrames.FRAME_SIZE);
    String text = ControlFrames.decodeReply(f).text();
    assertTrue(msg.startsWith(text));
    assertEquals(ControlFrames.MAX_REPLY_PAYLOAD / 2, text.length());
  }

  @Test
  void encoderRefusesWhatTheWireCannotCarry() {
    assertEquals(Errno.EINVAL, assertThrows(AgentFsException.class, () ->
        ControlFrames.encodeRequest(Op.PING, 0, List.of(Map.entry("k", "a\nb")))).errno());
    assertThrows(AgentFsException.class, () ->
        ControlFrames.encodeRequest(Op.PING, 0, List.of(Map.entry("a=b", "c"))));
    assertThrows(AgentFsException.class, () ->
        ControlFrames.encodeRequest(Op.PING, 0, List.of(Map.entry("", "c"))));
    assertThrows(AgentFsException.class, () -> ControlFrames.encodeRequest(Op.PING, 0,
        List.of(Map.entry("k", "x".repeat(ControlFrames.MAX_REQUEST_PAYLOAD)))));
    // the largest payload that fits is accepted
    String v = "x".repeat(ControlFrames.MAX_REQUEST_PAYLOAD - 3);
    byte[] f = assertDoesNotThrow(v);
    assertEquals(ControlFrames.FRAME_SIZE, f.length);
  }

  private static byte[] assertDoesNotThrow(String v) {
    try {
      return ControlFrames.encodeRequest(Op.PING, 0, List.of(Map.entry("k", v)));
    } catch (AgentFsException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void badRepliesAreEio() {
    byte[] ok = ControlFrames.encodeReply(0, 0, 0, new byte[3], 0, 3);
    byte[] badMagic = ok.clone();
    badMagic[0] = 'X';
    byte[] badLen = ok.clone();
    ByteBuffer.wrap(badLen).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 9000);
    byte[] negative = ok.clone();
    ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -5);
    for (byte[] f : List.of(badMagic, badLen, negative, new byte[5])) {
      assertEquals(Errno.EIO,
          assertThrows(AgentFsException.class, () -> ControlFrames.decodeReply(f)).errno());
    }
  }

  @Test
  void jsonWriterEscapes() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("s", "a\"b\\c\n\t\u0001\u2028");
    m.put("n", 1.5);
    m.put("nan", Double.NaN);
    m.put("b", true);
    m.put("z", null);
    m.put("l", List.of(1, "x"));
    m.put("lone", "\ud800x");
    assertEquals("{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u2028\",\"n\":1.5,\"nan\":null,"
        + "\"b\":true,\"z\":null,\"l\":[1,\"x\"],\"lone\":\"\\ud800x\"}", JsonLines.write(m));
    assertEquals("\"😀\"", JsonLines.write("😀"));
  }
}
