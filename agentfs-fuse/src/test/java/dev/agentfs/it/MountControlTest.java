package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.fuse.ControlClient;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control protocol end to end: ControlClient, the kernel's ioctl, the mount's server. */
class MountControlTest {
  @TempDir Path tmp;
  Fuse.Mounted m;
  ControlClient c;

  @BeforeEach
  void mount() throws Exception {
    m = Fuse.mount(tmp);
    m.fs().main().write("/README", "hello");
    c = ControlClient.open(m.dir());
  }

  @AfterEach
  void unmount() throws AgentFsException {
    if (c != null) {
      c.close();
    }
    if (m != null) {
      m.close();
    }
  }

  @Test
  void pingSeesTheCallerThroughTheKernel() throws AgentFsException {
    String pong = c.call(Op.PING, Map.of());
    assertTrue(pong.startsWith("{\"version\":1,\"pid\":"), pong);
    assertTrue(pong.contains("\"uid\":0,\"gid\":0}"), pong);
  }

  @Test
  void snapshotBranchDiffCommitThroughTheControlFile() throws Exception {
    assertEquals("{\"name\":\"s1\",\"branch\":\"main\"}\n",
        c.call(Op.SNAPSHOT_CREATE, Map.of("name", "s1", "branch", "main")));
    assertTrue(c.call(Op.SNAPSHOT_LIST, Map.of()).contains("{\"name\":\"s1\",\"branch\":\"main\""));
    assertEquals("{\"name\":\"agent\",\"fromBranch\":\"main\"}\n",
        c.call(Op.BRANCH_CREATE, Map.of("name", "agent", "fromBranch", "main")));
    assertTrue(c.call(Op.BRANCH_LIST, Map.of()).lines()
        .anyMatch(l -> l.startsWith("{\"name\":\"agent\",\"base\":\"agent@base\"")));

    // enough changes that the diff takes many frames
    Branch agent = m.fs().branch("agent");
    agent.mkdirs("/generated/with-a-rather-long-directory-name");
    for (int i = 0; i < 1500; i++) {
      agent.write("/generated/with-a-rather-long-directory-name/file-" + i + ".txt", "x");
    }
    String diff = c.call(Op.DIFF, Map.of("from", "agent@base", "to", "agent"));
    assertTrue(diff.getBytes(StandardCharsets.UTF_8).length > 10 * ControlFrames.FRAME_SIZE);
    assertEquals(1502, diff.lines().count(), diff.lines().limit(3).toList().toString());
    assertTrue(diff.contains(
        "{\"kind\":\"ADDED\",\"path\":\"/generated/with-a-rather-long-directory-name/file-7.txt\"}\n"));

    String dry = c.call(Op.COMMIT, Map.of("branch", "agent", "dryRun", "1"));
    assertEquals(1, dry.lines().count());
    assertTrue(dry.startsWith("{\"branch\":\"agent\",\"target\":\"main\",\"dryRun\":true,"
        + "\"clean\":true,\"applied\":["), dry.substring(0, 200));
    assertFalse(m.fs().main().exists("/generated"));
    String done = c.call(Op.COMMIT, Map.of("branch", "agent"));
    assertTrue(done.contains("\"dryRun\":false"));
    assertEquals("x", Files.readString(
        m.path("generated/with-a-rather-long-directory-name/file-1499.txt")));

    assertEquals("{\"deleted\":\"s1\"}\n", c.call(Op.SNAPSHOT_DELETE, Map.of("name", "s1")));
    AgentFsException e = assertThrows(AgentFsException.class,
        () -> c.call(Op.SNAPSHOT_DELETE, Map.of("name", "s1")));
    assertEquals(Errno.ENOENT, e.errno());
    assertTrue(e.getMessage().startsWith("ENOENT: " + m.dir()), e.getMessage());
  }

  @Test
  void eachMountAnswersForItselfResetAndRestoreToo() throws Exception {
    Branch b1 = m.fs().createBranch("b1", m.fs().main());
    b1.write("/README", "b1");
    Path other = Files.createDirectory(tmp.resolve("b1"));
    try (var h = m.fs().mount(b1, other); ControlClient c1 = ControlClient.open(other)) {
      // Without 'branch', a snapshot is of the caller's branch at the mount it asks through.
      c1.call(Op.SNAPSHOT_CREATE, Map.of("name", "viaB1"));
      assertEquals("b1", m.fs().getSnapshot("viaB1").branch());
      c.call(Op.SNAPSHOT_CREATE, Map.of("name", "viaMain"));
      assertEquals("main", m.fs().getSnapshot("viaMain").branch());
      String info = c1.call(Op.INFO, Map.of());
      assertTrue(info.startsWith("{\"pid\":" + ProcessHandle.current().pid()
          + ",\"mountpoint\":\"" + other + "\",\"kind\":\"mount\",\"store\":\"memory\","), info);
      assertTrue(info.contains("\"defaultBranch\":\"b1\",\"branches\":[\"b1\",\"main\"],"
          + "\"snapshots\":3,\"bound\":[]}"), info);
      assertTrue(c.call(Op.INFO, Map.of()).contains("\"defaultBranch\":\"main\""));

      Files.writeString(other.resolve("README"), "changed");
      Files.writeString(other.resolve("new"), "n");
      assertEquals("{\"branch\":\"b1\",\"restored\":\"/README\",\"from\":\"viaB1\"}\n",
          c.call(Op.RESTORE, Map.of("branch", "b1", "from", "viaB1", "path", "/README")));
      assertEquals("b1", Files.readString(other.resolve("README")));
      assertTrue(Files.exists(other.resolve("new")), "restore touched only its path");
      assertEquals("{\"branch\":\"b1\",\"resetTo\":\"viaB1\"}\n",
          c.call(Op.RESET, Map.of("branch", "b1", "to", "viaB1")));
      assertFalse(Files.exists(other.resolve("new")), "reset took the branch back");
      assertEquals("hello", Files.readString(m.path("README")), "main untouched");
    }
  }

  @Test
  void bindShowUnbindAProcess() throws Exception {
    c.call(Op.BRANCH_CREATE, Map.of("name", "b1", "fromBranch", "main"));
    m.fs().branch("b1").write("/README", "b1");
    Process p = new ProcessBuilder("sh", "-c", "read go; cat " + m.dir() + "/README").start();
    try {
      String pid = Long.toString(p.pid());
      assertEquals("{\"pid\":" + pid + ",\"branch\":\"b1\"}\n",
          c.call(Op.BIND, Map.of("pid", pid, "branch", "b1")));
      assertEquals("{\"pid\":" + pid + ",\"branch\":\"b1\"}\n",
          c.call(Op.SHOW, Map.of("pid", pid)));
      p.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      assertEquals("b1", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    } finally {
      p.destroyForcibly();
    }
    assertEquals("hello", Files.readString(m.path("README")), "this process still sees main");
  }

  @Test
  void malformedFramesThroughTheKernelAreEinvalReplies() throws Exception {
    Syscalls sys = JnrSyscalls.get();
    int fd = sys.open(m.path(".agentfs/control").toString(), Syscalls.O_RDWR);
    assertTrue(fd >= 0, "open: " + fd);
    try {
      ByteBuffer buf = ByteBuffer.allocateDirect(ControlFrames.FRAME_SIZE)
          .order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] frame : List.of(new byte[0], "garbage".getBytes(StandardCharsets.UTF_8),
          ControlFrames.encodeRawRequest(ControlFrames.MAGIC, 1, 99, 0, new byte[0], 0))) {
        buf.clear();
        buf.put(frame);
        while (buf.hasRemaining()) {
          buf.put((byte) 0);
        }
        buf.clear();
        assertEquals(0, sys.ioctlBuffer(fd, ControlFrames.IOC_CONTROL, buf));
        byte[] out = new byte[ControlFrames.FRAME_SIZE];
        buf.get(out);
        assertEquals(Errno.EINVAL.code(), ControlFrames.decodeReply(out).status());
      }
      // another command on the control file is not ours
      assertTrue(sys.ioctlBuffer(fd, 0xC000AF02 | (8 << 16), buf) < 0);
    } finally {
      sys.close(fd);
    }
  }
}
