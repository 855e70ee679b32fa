package dev.agentfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlServer;
import dev.agentfs.control.FakeControlPlane;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.vfs.Caller;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlClientTest {
  @TempDir Path tmp;

  /** A kernel stand-in: the ioctl hands the 8192 bytes to a ControlServer and back. */
  private static Syscalls kernel(ControlServer server, FakeControlPlane plane, int[] ioctls) {
    Syscalls sys = mock(Syscalls.class);
    when(sys.open(anyString(), anyInt())).thenReturn(7);
    when(sys.ioctlBuffer(eq(7), eq(ControlFrames.IOC_CONTROL), any())).thenAnswer(inv -> {
      ByteBuffer b = inv.getArgument(2);
      assertEquals(ControlFrames.FRAME_SIZE, b.remaining());
      byte[] in = new byte[ControlFrames.FRAME_SIZE];
      b.duplicate().get(in);
      byte[] out = server.reply(new Caller(99, 0, 0, new int[0]), in, plane);
      ByteBuffer w = b.duplicate();
      w.put(out);
      while (w.hasRemaining()) {
        w.put((byte) 0xEE); // garbage after the reply must not matter
      }
      ioctls[0]++;
      return 0;
    });
    return sys;
  }

  @Test
  void callPagesThroughTheIoctl() throws AgentFsException {
    FakeControlPlane plane = new FakeControlPlane();
    List<TreeDiff.Change> cs = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      cs.add(FakeControlPlane.change(TreeDiff.Kind.ADDED, "/d/" + i, null));
    }
    plane.diff = cs;
    int[] ioctls = {0};
    Syscalls sys = kernel(new ControlServer(), plane, ioctls);
    try (ControlClient c = ControlClient.open(tmp, sys)) {
      String text = c.call(Op.DIFF, Map.of("from", "a", "to", "b"));
      assertEquals(5000, text.lines().count());
      assertTrue(text.lines().allMatch(l -> l.startsWith("{\"kind\":\"ADDED\",\"path\":\"/d/")));
      assertTrue(ioctls[0] > 10, "pages: " + ioctls[0]);
      assertEquals("{\"version\":1,\"pid\":99,\"uid\":0,\"gid\":0}\n", c.call(Op.PING, Map.of()));
    }
    verify(sys).open(tmp.toAbsolutePath().resolve(".agentfs/control").toString(),
        Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
    verify(sys).close(7);
  }

  @Test
  void errorRepliesThrowWithTheirErrnoNamingTheMount() {
    FakeControlPlane plane = new FakeControlPlane();
    Syscalls sys = kernel(new ControlServer(), plane, new int[1]);
    AgentFsException e = assertThrows(AgentFsException.class, () -> {
      try (ControlClient c = ControlClient.open(tmp, sys)) {
        c.call(Op.SNAPSHOT_DELETE, Map.of("name", "gone"));
      }
    });
    assertEquals(Errno.ENOENT, e.errno());
    assertEquals("ENOENT: " + tmp.toAbsolutePath() + " (gone (no such snapshot))",
        e.getMessage());
  }

  @Test
  void aDirectoryThatIsNoMountSaysSo() {
    AgentFsException e = assertThrows(AgentFsException.class, () -> ControlClient.open(tmp));
    assertEquals(Errno.ENOENT, e.errno());
    assertTrue(e.getMessage().contains("not an agentfs mount"), e.getMessage());
  }

  @Test
  void aPlainFileIsNotAControlFile() throws Exception {
    // the real ioctl path through libc: a regular file does not know the command
    Files.createDirectories(tmp.resolve(".agentfs"));
    Files.writeString(tmp.resolve(".agentfs/control"), "");
    try (ControlClient c = ControlClient.open(tmp)) {
      AgentFsException e = assertThrows(AgentFsException.class,
          () -> c.call(Op.PING, Map.of()));
      assertEquals(Errno.ENOTTY, e.errno());
      assertTrue(e.getMessage().contains("does not answer the control ioctl"), e.getMessage());
    }
  }

  @Test
  void aClosedClientRefuses() throws AgentFsException {
    Syscalls sys = kernel(new ControlServer(), new FakeControlPlane(), new int[1]);
    ControlClient c = ControlClient.open(tmp, sys);
    c.close();
    c.close();
    assertEquals(Errno.EBADF,
        assertThrows(AgentFsException.class, () -> c.call(Op.PING, Map.of())).errno());
    verify(sys).close(7);
  }
}
