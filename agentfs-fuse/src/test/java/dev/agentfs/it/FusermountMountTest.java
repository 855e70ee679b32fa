package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountMethod;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fusermount3 path of the kernel transport, run as root: mounting through the helper when
 * forced, and as the automatic fallback when mount(2) is refused (here a refusal injected into
 * the syscall layer, so the fallback is seen without giving up root); unmounting through the
 * helper, also of a busy mount.
 */
class FusermountMountTest {
  @TempDir Path tmp;

  @BeforeEach
  void needFuseAndHelper() {
    Fuse.require();
    FusermountSupport.requireHelper();
  }

  private static Configuration config() {
    return Configuration.builder().threads(2).build();
  }

  private static FuseSession mount(AgentFs fs, Path dir, MountMethod m, Syscalls sys)
      throws AgentFsException {
    return FuseSession.mount(fs.vfs(), dir, config(), MountOptions.defaults().withMethod(m), sys);
  }

  @Test
  void forcedFusermountMountsServesAndUnmounts() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().threads(2).build()) {
      FuseSession s = KernelMounts.mount(fs.vfs(), dir, config(),
          MountOptions.defaults().withMethod(MountMethod.FUSERMOUNT));
      try (s) {
        assertEquals(MountMethod.FUSERMOUNT, s.mountMethod());
        String line = FusermountSupport.procMount(dir);
        assertNotNull(line, "fusermount3 mounted at " + dir);
        // source, type and the options fusermount3 passed on (and added: our real ids).
        assertTrue(line.startsWith("agentfs " + dir + " fuse.agentfs rw,nosuid,nodev"), line);
        assertTrue(line.contains("user_id=0,group_id=0"), line);
        assertTrue(line.contains("default_permissions"), line);

        Files.writeString(dir.resolve("a.txt"), "from nio");
        assertEquals("from nio", Files.readString(dir.resolve("a.txt")));
        Proc.Result r = Proc.sh(dir, "echo from-sh > b.txt && cat a.txt && echo && ls").ok();
        assertEquals("from nio\na.txt\nb.txt\n", r.out());
        assertEquals("from-sh\n", Files.readString(dir.resolve("b.txt")));
        assertEquals("from-sh\n", fs.main().readString("/b.txt"), "written through the mount");
      }
      assertFalse(s.isAlive());
      assertNull(FusermountSupport.procMount(dir), "fusermount3 -u left nothing mounted");
      assertTrue(s.workerThreads().stream().noneMatch(Thread::isAlive));
      s.close(); // idempotent
      assertNull(FusermountSupport.procMount(dir));
    }
  }

  /** libc, except that mount(2) says EPERM, as it does to a process without CAP_SYS_ADMIN. */
  private static Syscalls mountRefused(AtomicInteger refusals) {
    Syscalls real = JnrSyscalls.get();
    return (Syscalls) Proxy.newProxyInstance(Syscalls.class.getClassLoader(),
        new Class<?>[] {Syscalls.class}, (proxy, m, args) -> {
          if (m.getName().equals("mount") && "fuse.agentfs".equals(args[2])) {
            refusals.incrementAndGet();
            return -Syscalls.EPERM;
          }
          return m.invoke(real, args);
        });
  }

  @Test
  void autoFallsBackToFusermountWhenMountIsRefused() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    AtomicInteger refusals = new AtomicInteger();
    int fdsBefore = openFds();
    try (AgentFs fs = AgentFs.builder().threads(2).build()) {
      FuseSession s = mount(fs, dir, MountMethod.AUTO, mountRefused(refusals));
      try (s) {
        assertEquals(1, refusals.get(), "mount(2) was tried first");
        assertEquals(MountMethod.FUSERMOUNT, s.mountMethod());
        Files.writeString(dir.resolve("f"), "x");
        assertEquals("x", Proc.sh(dir, "cat f").ok().out());
      }
      assertNull(FusermountSupport.procMount(dir));
    }
    assertEquals(fdsBefore, openFds(), "the refused /dev/fuse descriptor and the socket are closed");
  }

  @Test
  void autoUsesMountSyscallWhenAllowed() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().threads(2).build();
        FuseSession s = mount(fs, dir, MountMethod.AUTO, JnrSyscalls.get())) {
      assertEquals(MountMethod.SYSCALL, s.mountMethod());
      String line = FusermountSupport.procMount(dir);
      assertNotNull(line);
      assertTrue(line.contains("user_id=0,group_id=0"), line);
    }
    assertNull(FusermountSupport.procMount(dir));
  }

  @Test
  void forcedSyscallThatIsRefusedSaysWhatToDo() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    AtomicInteger refusals = new AtomicInteger();
    try (AgentFs fs = AgentFs.builder().build()) {
      AgentFsException e = assertThrows(AgentFsException.class,
          () -> mount(fs, dir, MountMethod.SYSCALL, mountRefused(refusals)).close());
      assertEquals(Errno.EPERM, e.errno());
      assertEquals(dir.toString(), e.path());
      assertTrue(e.getMessage().contains("CAP_SYS_ADMIN"), e.getMessage());
      assertTrue(e.getMessage().contains("fusermount3"), e.getMessage());
    }
    assertNull(FusermountSupport.procMount(dir), "no fallback when syscall is forced");
  }

  @Test
  void busyMountIsDetachedThroughTheHelper() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().threads(2).build()) {
      FuseSession s = mount(fs, dir, MountMethod.FUSERMOUNT, JnrSyscalls.get());
      Files.writeString(dir.resolve("held"), "busy");
      FileChannel held = FileChannel.open(dir.resolve("held"), StandardOpenOption.READ);
      try {
        // fusermount3 -u fails with EBUSY while this file is open; close then detaches with
        // -u -z and aborts the connection, so it returns without waiting for the holder.
        s.close();
        assertFalse(s.isAlive());
        assertNull(FusermountSupport.procMount(dir), "detached from the tree");
        assertTrue(s.workerThreads().stream().noneMatch(Thread::isAlive));
        assertThrows(IOException.class, () -> held.read(ByteBuffer.allocate(4), 0));
      } finally {
        try {
          held.close();
        } catch (IOException expected) {
          // ENOTCONN: the flush on close(2) meets the aborted connection
        }
      }
    }
  }

  private static int openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return (int) s.count();
    }
  }
}
