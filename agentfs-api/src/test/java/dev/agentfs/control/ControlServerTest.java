package dev.agentfs.control;

import static dev.agentfs.control.FakeControlPlane.change;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.CommitResult;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlFrames.Reply;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.core.TreeDiff.Kind;
import dev.agentfs.vfs.Caller;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ControlServerTest {
  private final Caller caller = new Caller(4242, 1000, 1000, new int[0]);
  private final FakeControlPlane plane = new FakeControlPlane();
  private final ControlServer server = new ControlServer();
  private final List<Reply> replies = new ArrayList<>();
  private final ControlChannel channel = req -> {
    byte[] reply = server.reply(caller, req, plane);
    assertTrue(reply.length <= ControlFrames.FRAME_SIZE, "reply of " + reply.length);
    try {
      replies.add(ControlFrames.decodeReply(reply));
    } catch (AgentFsException e) {
      throw new AssertionError(e);
    }
    return reply;
  };

  private String call(Op op, String... kv) throws AgentFsException {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return channel.call(op, m);
  }

  private AgentFsException fails(Op op, String... kv) {
    return assertThrows(AgentFsException.class, () -> call(op, kv));
  }

  @Test
  void ping() throws AgentFsException {
    assertEquals("{\"version\":1,\"pid\":4242,\"uid\":1000,\"gid\":1000}\n", call(Op.PING));
  }

  @Test
  void theSharedServerAnswersLikeAnyOther() throws AgentFsException {
    Reply r = ControlFrames.decodeReply(ControlServer.handle(caller,
        req(Op.SHOW, 0, "pid=5\n"), plane));
    assertEquals("{\"pid\":5,\"branch\":\"main\"}\n", r.text());
    assertEquals(Errno.EINVAL.code(), ControlFrames.decodeReply(
        ControlServer.handle(caller, new byte[3], plane)).status());
  }

  @Test
  void infoCheckpointAndSnapshotMount() throws AgentFsException {
    assertEquals("{\"pid\":99,\"store\":\"memory\",\"branches\":[\"main\"]}\n",
        call(Op.INFO));
    assertEquals("{\"branch\":\"b\",\"checkpoint\":null,\"created\":false,"
        + "\"pruned\":[]}\n", call(Op.CHECKPOINT, "branch", "b"));
    assertEquals(Errno.EINVAL, fails(Op.CHECKPOINT).errno());
    plane.snapshots.put("s1", "main");
    assertEquals("{\"name\":\"s1\",\"path\":\"/mnt/s1\",\"readOnly\":true}\n",
        call(Op.SNAPSHOT_MOUNT, "name", "s1", "path", "/mnt/s1"));
    assertEquals(Errno.EINVAL, fails(Op.SNAPSHOT_MOUNT, "name", "s1", "path", "rel").errno());
    assertEquals(Errno.ENOENT, fails(Op.SNAPSHOT_MOUNT, "name", "s9", "path", "/m").errno());
    assertEquals(List.of("info", "checkpoint b", "mountSnapshot s1 /mnt/s1",
        "mountSnapshot s9 /m"), plane.calls);
  }

  @Test
  void snapshots() throws AgentFsException {
    assertEquals("{\"name\":\"s1\"}\n", call(Op.SNAPSHOT_CREATE, "name", "s1"));
    assertEquals("{\"name\":\"s2\",\"branch\":\"dev\"}\n",
        call(Op.SNAPSHOT_CREATE, "branch", "dev", "name", "s2"));
    assertEquals("""
        {"name":"s1","branch":"main","created":"2026-01-01T00:00:00Z"}
        {"name":"s2","branch":"dev","created":"2026-01-01T00:00:00Z"}
        """, call(Op.SNAPSHOT_LIST));
    assertEquals("{\"deleted\":\"s1\"}\n", call(Op.SNAPSHOT_DELETE, "name", "s1"));
    AgentFsException e = fails(Op.SNAPSHOT_DELETE, "name", "s1");
    assertEquals(Errno.ENOENT, e.errno());
    assertEquals("ENOENT: .agentfs/control (s1 (no such snapshot))", e.getMessage());
    assertEquals(Errno.EEXIST, fails(Op.SNAPSHOT_CREATE, "name", "s2").errno());
    assertEquals(List.of("snapshotCreate null s1", "snapshotCreate dev s2", "snapshotList",
        "snapshotDelete s1", "snapshotDelete s1", "snapshotCreate null s2"), plane.calls);
  }

  @Test
  void branches() throws AgentFsException {
    assertEquals("{\"name\":\"a\",\"from\":\"s\"}\n",
        call(Op.BRANCH_CREATE, "name", "a", "from", "s"));
    assertEquals("{\"name\":\"b\",\"fromBranch\":\"a\"}\n",
        call(Op.BRANCH_CREATE, "name", "b", "fromBranch", "a"));
    assertEquals("""
        {"name":"main","base":""}
        {"name":"a","base":"s"}
        {"name":"b","base":"a"}
        """, call(Op.BRANCH_LIST));
    assertEquals("{\"pid\":77,\"branch\":\"a\"}\n", call(Op.BIND, "pid", "77", "branch", "a"));
    assertEquals("{\"pid\":77,\"branch\":\"a\"}\n", call(Op.SHOW, "pid", "77"));
    assertEquals(Errno.EBUSY, fails(Op.BRANCH_DELETE, "name", "a").errno());
    assertEquals("{\"deleted\":\"a\",\"force\":true}\n",
        call(Op.BRANCH_DELETE, "name", "a", "force", "1"));
    assertEquals("{\"pid\":77,\"unbound\":true}\n", call(Op.UNBIND, "pid", "77"));
    assertEquals("{\"pid\":77,\"branch\":\"main\"}\n", call(Op.SHOW, "pid", "77"));
    assertEquals("{\"deleted\":\"b\",\"force\":false}\n",
        call(Op.BRANCH_DELETE, "name", "b", "force", "0"));
    assertEquals("{\"path\":\"/run/agentfs/export/main\"}\n",
        call(Op.EXPORT, "branch", "main"));
  }

  @Test
  void diffAndCommit() throws AgentFsException {
    plane.diff = List.of(change(Kind.MODIFIED, "/a", null), change(Kind.RENAMED, "/b", "/c"));
    assertEquals("""
        {"kind":"MODIFIED","path":"/a"}
        {"kind":"RENAMED","path":"/b","from":"/c"}
        """, call(Op.DIFF, "from", "s", "to", "agent"));
    plane.commitResult = new CommitResult("agent", "main", true,
        List.of(change(Kind.ADDED, "/n", null)),
        List.of(new CommitResult.Conflict(change(Kind.MODIFIED, "/a", null),
            "target modified it")));
    assertEquals("{\"branch\":\"agent\",\"target\":\"main\",\"dryRun\":true,\"clean\":false,"
        + "\"applied\":[{\"kind\":\"ADDED\",\"path\":\"/n\"}],\"conflicts\":[{\"kind\":"
        + "\"MODIFIED\",\"path\":\"/a\",\"reason\":\"target modified it\"}]}\n",
        call(Op.COMMIT, "branch", "agent", "target", "main", "dryRun", "1"));
    call(Op.COMMIT, "branch", "agent", "lower", "1");
    call(Op.COMMIT, "branch", "agent");
    assertEquals(List.of("diff s agent", "commit agent main false true",
        "commit agent null true false", "commit agent null false false"), plane.calls);
  }

  @Test
  void failuresOfThePlaneKeepTheirErrnoAndOthersAreEio() {
    plane.failWith = new IllegalStateException("boom");
    AgentFsException e = fails(Op.BRANCH_LIST);
    assertEquals(Errno.EIO, e.errno());
    assertTrue(e.getMessage().contains("java.lang.IllegalStateException: boom"), e.getMessage());
    plane.failWith = null;
    assertEquals(Errno.ENOENT, fails(Op.BRANCH_DELETE, "name", "nope").errno());
  }

  @Test
  void aNullFromThePlaneIsEioNotACrash() {
    ControlPlane nulls = org.mockito.Mockito.mock(ControlPlane.class);
    byte[] reply = server.reply(caller, req(Op.SHOW, 0, "pid=1\n"), nulls);
    byte[] reply2 = server.reply(caller, req(Op.EXPORT, 0, "branch=x\n"), nulls);
    for (byte[] r : List.of(reply, reply2)) {
      try {
        assertEquals(Errno.EIO.code(), ControlFrames.decodeReply(r).status());
      } catch (AgentFsException e) {
        throw new AssertionError(e);
      }
    }
  }

  // ------------------------------------------------------------------ paging

  private static String expectedDiff(List<TreeDiff.Change> cs) {
    StringBuilder sb = new StringBuilder();
    for (TreeDiff.Change c : cs) {
      sb.append(JsonLines.write(ControlServer.change(c))).append('\n');
    }
    return sb.toString();
  }

  @Test
  void tenThousandDiffLinesArePagedAtLineBoundaries() throws AgentFsException {
    List<TreeDiff.Change> cs = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      cs.add(change(i % 3 == 0 ? Kind.RENAMED : Kind.MODIFIED,
          "/src/dir" + (i % 97) + "/file-" + i + "-ü.java", i % 3 == 0 ? "/old/" + i : null));
    }
    plane.diff = cs;
    String text = call(Op.DIFF, "from", "a", "to", "b");
    assertEquals(expectedDiff(cs), text);
    assertEquals(10_000, text.lines().count());
    int total = text.getBytes(StandardCharsets.UTF_8).length;
    assertTrue(replies.size() >= total / ControlFrames.MAX_REPLY_PAYLOAD + 1, "pages");
    int cursor = 0;
    for (int i = 0; i < replies.size(); i++) {
      Reply r = replies.get(i);
      assertEquals(0, r.status());
      assertEquals(i < replies.size() - 1, r.more());
      String page = r.text();
      assertTrue(page.endsWith("\n"), "page " + i + " cut mid-line");
      cursor += r.payload().length;
      assertEquals(cursor, r.nextCursor());
      if (r.more()) {
        // the page is full up to a line: the next line would not have fitted
        assertTrue(r.payload().length > ControlFrames.MAX_REPLY_PAYLOAD - 200);
      }
    }
    // the diff was computed once, the continuations came from the server's memory
    assertEquals(List.of("diff a b"), plane.calls);
  }

  @Test
  void aCommitLongerThanAFrameIsOneLineCutAcrossPagesAndRunOnce() throws AgentFsException {
    List<TreeDiff.Change> cs = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      cs.add(change(Kind.ADDED, "/gen/" + i + "/✓", null));
    }
    plane.diff = cs;
    String text = call(Op.COMMIT, "branch", "agent", "target", "main");
    assertEquals(1, plane.commits);
    assertEquals(1, text.lines().count());
    assertTrue(replies.size() > 30);
    assertEquals(JsonLines.write(ControlServer.commit(
        new CommitResult("agent", "main", false, cs, List.of()))) + "\n", text);
    assertTrue(replies.stream().allMatch(r -> r.payload().length
        == ControlFrames.MAX_REPLY_PAYLOAD || !r.more()));
  }

  @Test
  void aMutatingOpIsNeverRunForAContinuation() throws AgentFsException {
    Reply r = ControlFrames.decodeReply(server.reply(caller,
        req(Op.COMMIT, 8172, "branch=agent\n"), plane));
    assertEquals(Errno.ESTALE.code(), r.status());
    assertTrue(r.text().contains("not run again"), r.text());
    assertEquals(0, plane.commits);
    assertEquals(List.of(), plane.calls);
  }

  @Test
  void aReadOnlyContinuationNoLongerKeptIsComputedAgain() throws AgentFsException {
    List<TreeDiff.Change> cs = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      cs.add(change(Kind.ADDED, "/f" + i, null));
    }
    plane.diff = cs;
    Reply first = ControlFrames.decodeReply(server.reply(caller,
        req(Op.DIFF, 0, "from=a\nto=b\n"), plane));
    assertTrue(first.more());
    Reply second = ControlFrames.decodeReply(new ControlServer().reply(caller,
        req(Op.DIFF, first.nextCursor(), "from=a\nto=b\n"), plane));
    assertEquals(0, second.status());
    assertTrue(expectedDiff(cs).startsWith(first.text() + second.text()));
    assertEquals(2, plane.calls.size());
  }

  @Test
  void pageEndCutsAfterTheLastWholeLine() {
    byte[] p = ("a".repeat(8000) + "\n" + "b".repeat(500) + "\n").getBytes();
    assertEquals(8001, ControlServer.pageEnd(p, 0));
    assertEquals(p.length, ControlServer.pageEnd(p, 8001));
    byte[] longLine = "x".repeat(20_000).getBytes();
    assertEquals(ControlFrames.MAX_REPLY_PAYLOAD, ControlServer.pageEnd(longLine, 0));
    assertEquals(0, ControlServer.pageEnd(new byte[0], 0));
  }

  // --------------------------------------------------------------- malformed

  static byte[] req(Op op, int cursor, String payload) {
    byte[] p = payload.getBytes(StandardCharsets.UTF_8);
    return ControlFrames.encodeRawRequest(ControlFrames.MAGIC, 1, op.code(), cursor, p,
        p.length);
  }

  static byte[] raw(int magic, int version, int op, int cursor, byte[] p, int len) {
    return ControlFrames.encodeRawRequest(magic, version, op, cursor, p, len);
  }

  static Stream<Arguments> malformed() {
    byte[] none = new byte[0];
    byte[] ok = ControlServerTest.req(Op.PING, 0, "");
    return Stream.of(
        Arguments.of("empty frame", new byte[0], "short frame"),
        Arguments.of("header cut short", java.util.Arrays.copyOf(ok, 15), "short frame"),
        Arguments.of("bad magic", raw(0x12345678, 1, 1, 0, none, 0), "bad magic 0x12345678"),
        Arguments.of("version 0", raw(ControlFrames.MAGIC, 0, 1, 0, none, 0), "version 0"),
        Arguments.of("version 2", raw(ControlFrames.MAGIC, 2, 1, 0, none, 0), "version 2"),
        Arguments.of("op 0", raw(ControlFrames.MAGIC, 1, 0, 0, none, 0), "unknown op 0"),
        Arguments.of("op 20", raw(ControlFrames.MAGIC, 1, 20, 0, none, 0), "unknown op 20"),
        Arguments.of("op 65535", raw(ControlFrames.MAGIC, 1, 0xffff, 0, none, 0),
            "unknown op 65535"),
        Arguments.of("payload longer than frame",
            raw(ControlFrames.MAGIC, 1, 1, 0, new byte[4], 5), "does not fit"),
        Arguments.of("payload length 2^32-1",
            raw(ControlFrames.MAGIC, 1, 1, 0, none, -1), "4294967295 does not fit"),
        Arguments.of("payload longer than 8176",
            raw(ControlFrames.MAGIC, 1, 1, 0, new byte[9000], 9000), "does not fit"),
        Arguments.of("cursor 2^31", req(Op.PING, Integer.MIN_VALUE, ""), "out of range"),
        Arguments.of("cursor past the end", req(Op.PING, 5000, ""), "past the end"),
        Arguments.of("bad UTF-8", raw(ControlFrames.MAGIC, 1, 4, 0,
            new byte[] {'n', 'a', 'm', 'e', '=', (byte) 0xC3, '('}, 7), "not valid UTF-8"),
        Arguments.of("truncated UTF-8", raw(ControlFrames.MAGIC, 1, 4, 0,
            new byte[] {'n', 'a', 'm', 'e', '=', (byte) 0xE2, (byte) 0x82}, 7),
            "not valid UTF-8"),
        Arguments.of("UTF-16 surrogate in UTF-8", raw(ControlFrames.MAGIC, 1, 4, 0,
            new byte[] {'n', 'a', 'm', 'e', '=', (byte) 0xED, (byte) 0xA0, (byte) 0x80}, 8),
            "not valid UTF-8"),
        Arguments.of("line without '='", req(Op.SNAPSHOT_DELETE, 0, "name"), "not key=value"),
        Arguments.of("empty line", req(Op.SNAPSHOT_DELETE, 0, "name=a\n\n"), "not key=value"),
        Arguments.of("empty key", req(Op.SNAPSHOT_DELETE, 0, "=a\n"), "bad key"),
        Arguments.of("key with a space", req(Op.SNAPSHOT_DELETE, 0, "na me=a\n"), "bad key"),
        Arguments.of("missing key", req(Op.SNAPSHOT_DELETE, 0, ""), "needs key 'name'"),
        Arguments.of("extra key", req(Op.PING, 0, "x=1\n"), "takes no key 'x'"),
        Arguments.of("key twice", req(Op.SNAPSHOT_DELETE, 0, "name=a\nname=b"), "twice"),
        Arguments.of("empty name", req(Op.SNAPSHOT_DELETE, 0, "name=\n"), "must not be empty"),
        Arguments.of("NUL in a value", req(Op.SNAPSHOT_DELETE, 0, "name=a\0b"),
            "control character 0x00"),
        Arguments.of("CR in a value", req(Op.SNAPSHOT_DELETE, 0, "name=a\r\n"),
            "control character 0x0d"),
        Arguments.of("non-numeric pid", req(Op.SHOW, 0, "pid=12a\n"), "'pid' must be"),
        Arguments.of("negative pid", req(Op.SHOW, 0, "pid=-1\n"), "'pid' must be"),
        Arguments.of("pid 0", req(Op.UNBIND, 0, "pid=0\n"), "out of range"),
        Arguments.of("pid too large", req(Op.UNBIND, 0, "pid=2147483648\n"), "out of range"),
        Arguments.of("pid with spaces", req(Op.BIND, 0, "pid= 12\nbranch=a"), "'pid' must be"),
        Arguments.of("flag 2", req(Op.BRANCH_DELETE, 0, "name=a\nforce=2\n"), "0 or 1"),
        Arguments.of("flag yes", req(Op.COMMIT, 0, "branch=a\ndryRun=yes\n"), "0 or 1"),
        Arguments.of("branch from both", req(Op.BRANCH_CREATE, 0,
            "name=a\nfrom=s\nfromBranch=b\n"), "exactly one"),
        Arguments.of("branch from neither", req(Op.BRANCH_CREATE, 0, "name=a\n"),
            "exactly one"),
        Arguments.of("commit target and lower", req(Op.COMMIT, 0,
            "branch=a\ntarget=main\nlower=1\n"), "not both"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedFramesAreEinval(String what, byte[] frame, String message)
      throws AgentFsException {
    byte[] out = server.reply(caller, frame, plane);
    Reply r = ControlFrames.decodeReply(out);
    assertEquals(Errno.EINVAL.code(), r.status(), what + ": " + r.text());
    assertTrue(r.text().startsWith("EINVAL: .agentfs/control ("), r.text());
    assertTrue(r.text().contains(message), what + ": " + r.text());
    assertFalse(r.more());
    assertEquals(List.of(), plane.calls, "the plane must not be called");
  }

  @Test
  void frameLengthBeyondTheArrayIsEinval() throws AgentFsException {
    byte[] f = req(Op.PING, 0, "");
    assertEquals(Errno.EINVAL.code(),
        ControlFrames.decodeReply(server.reply(caller, f, f.length + 1, plane)).status());
    assertEquals(Errno.EINVAL.code(),
        ControlFrames.decodeReply(server.reply(caller, f, -1, plane)).status());
  }

  @Test
  void aPaddedFrameWorks() throws AgentFsException {
    byte[] f = java.util.Arrays.copyOf(req(Op.SHOW, 0, "pid=9"), ControlFrames.FRAME_SIZE);
    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(0, ControlFrames.MAGIC);
    Reply r = ControlFrames.decodeReply(server.reply(caller, f, plane));
    assertEquals("{\"pid\":9,\"branch\":\"main\"}\n", r.text());
  }
}
