package dev.agentfs.fuse;

import static dev.agentfs.fuse.FuseTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountMethod;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.fuse.session.MountTable;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mount failures say what is wrong, where, and what to do; stale mounts are detected and
 * cleaned; a JVM that exits without closing its mount leaves nothing mounted.
 */
class MountErrorsTest {
  @TempDir Path tmp;
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @BeforeEach
  void gate() {
    requireFuse();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
  }

  private static AgentFsException mountFails(Path at) {
    return assertThrows(AgentFsException.class, () -> {
      try (FuseSession s = FuseTestSupport.mount(new MemVfs(), at)) {
        fail("mounted at " + at);
      }
    });
  }

  @Test
  void missingMountPoint() {
    AgentFsException e = mountFails(tmp.resolve("nope"));
    assertEquals(Errno.ENOENT, e.errno());
    assertEquals(tmp.resolve("nope").toString(), e.path());
    assertTrue(e.getMessage().contains("create the directory"), e.getMessage());
  }

  @Test
  void mountPointIsAFile() throws Exception {
    Path f = Files.writeString(tmp.resolve("file"), "x");
    AgentFsException e = mountFails(f);
    assertEquals(Errno.ENOTDIR, e.errno());
    assertTrue(e.getMessage().contains("must be a directory"), e.getMessage());
  }

  @Test
  void alreadyAFuseMountPoint() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    cleanup.add(FuseTestSupport.mount(new MemVfs(), mnt));
    AgentFsException e = mountFails(mnt);
    assertEquals(Errno.EBUSY, e.errno());
    assertTrue(e.getMessage().contains("already a FUSE mount point"), e.getMessage());
  }

  /** A Syscalls that fails chosen calls and passes the rest to libc. */
  private static Syscalls failing(String method, Function<Object[], Integer> result) {
    Syscalls real = JnrSyscalls.get();
    return (Syscalls) Proxy.newProxyInstance(Syscalls.class.getClassLoader(),
        new Class<?>[] {Syscalls.class}, (proxy, m, args) -> {
          if (m.getName().equals(method)) {
            Integer r = result.apply(args);
            if (r != null) {
              return r;
            }
          }
          return m.invoke(real, args);
        });
  }

  @Test
  void devFuseMissing() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Syscalls sys = failing("open", a -> a[0].equals("/dev/fuse") ? -Syscalls.ENOENT : null);
    AgentFsException e = assertThrows(AgentFsException.class, () -> FuseSession.mount(
        new MemVfs(), mnt, config(), MountOptions.defaults(), sys));
    assertEquals(Errno.ENODEV, e.errno());
    assertTrue(e.getMessage().contains("modprobe fuse"), e.getMessage());
  }

  @Test
  void mountRefused() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    int before = openFds();
    Syscalls sys = failing("mount", a -> -Syscalls.EPERM);
    // Forced to mount(2): automatically, an EPERM moves on to fusermount3 (FusermountMountTest).
    AgentFsException e = assertThrows(AgentFsException.class, () -> FuseSession.mount(
        new MemVfs(), mnt, config(), MountOptions.defaults().withMethod(MountMethod.SYSCALL),
        sys));
    assertEquals(Errno.EPERM, e.errno());
    assertTrue(e.getMessage().contains("CAP_SYS_ADMIN"), e.getMessage());
    assertEquals(before, openFds(), "the /dev/fuse descriptor is closed again");
  }

  /** Kills the connection under a live mount, leaving "Transport endpoint is not connected". */
  private static void abort(Path mnt) throws Exception {
    MountTable.Entry e = MountTable.at(mnt);
    assertNotNull(e);
    if (MountTable.read().stream().noneMatch(m -> m.fsType().equals("fusectl"))) {
      assertEquals(0, run("mount", "-t", "fusectl", "fusectl", "/sys/fs/fuse/connections").exit());
    }
    Files.write(Path.of("/sys/fs/fuse/connections", Integer.toString(e.minor()), "abort"),
        "1".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void staleMountIsReportedThenCleaned() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    FuseSession dead = FuseTestSupport.mount(new MemVfs(), mnt);
    cleanup.add(dead);
    abort(mnt);
    for (Thread t : dead.workerThreads()) {
      t.join(10_000);
    }
    assertFalse(dead.isAlive());
    assertTrue(KernelMounts.isStale(mnt));

    AgentFsException e = mountFails(mnt);
    assertEquals(Errno.ENOTCONN, e.errno());
    assertTrue(e.getMessage().contains("cleanStale"), e.getMessage());

    MemVfs vfs = new MemVfs();
    FuseSession fresh = KernelMounts.mount(vfs, mnt, config(),
        MountOptions.defaults().withCleanStale(true));
    cleanup.add(fresh);
    Files.writeString(mnt.resolve("f"), "alive");
    assertTrue(vfs.inoOf("f") > 0);
    dead.close(); // must not unmount the fresh mount that now sits at the same path
    assertTrue(fresh.isAlive());
    assertEquals("alive", Files.readString(mnt.resolve("f")));
  }

  @Test
  void cliHelpersUnmount() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    FuseSession s = FuseTestSupport.mount(new MemVfs(), mnt);
    cleanup.add(s);
    assertFalse(KernelMounts.unmountStale(mnt), "a live mount is not stale");
    abort(mnt);
    assertTrue(KernelMounts.unmountStale(mnt));
    assertFalse(MountTable.isFuseMountPoint(mnt));
    assertFalse(KernelMounts.unmount(mnt), "nothing left to unmount");

    FuseSession t = FuseTestSupport.mount(new MemVfs(), mnt);
    cleanup.add(t);
    assertTrue(KernelMounts.unmount(mnt));
    for (Thread w : t.workerThreads()) {
      w.join(10_000);
    }
    assertFalse(t.isAlive());
  }

  @Test
  void exitingJvmUnmountsThroughTheShutdownHook() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Run r = run(java, "-cp", System.getProperty("java.class.path"),
        ExitWithoutClose.class.getName(), mnt.toString());
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("mounted"), r.out());
    assertFalse(MountTable.isFuseMountPoint(mnt), "the shutdown hook unmounted");
    assertFalse(KernelMounts.isStale(mnt));
  }

  /** Mounts, writes a file, and exits without closing. */
  public static final class ExitWithoutClose {
    public static void main(String[] args) throws Exception {
      Path mnt = Path.of(args[0]);
      FuseSession s = FuseTestSupport.mount(new MemVfs(), mnt);
      Files.writeString(mnt.resolve("f"), "x");
      System.out.println(s.isAlive() ? "mounted" : "dead");
      System.exit(0);
    }
  }
}
