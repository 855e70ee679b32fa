package dev.agentfs.fuse.jnr;

import dev.agentfs.it.Fuse;
import dev.agentfs.it.Proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.spi.TransportProvider;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounting, unmounting, refusals and option mapping of the jnr transport. */
class JnrLifecycleTest {
  @TempDir Path tmp;

  @Test
  void registeredNextToTheKernelTransport() {
    List<String> names = new ArrayList<>();
    for (TransportProvider p : ServiceLoader.load(TransportProvider.class)) {
      names.add(p.name());
    }
    assertTrue(names.containsAll(List.of("kernel", "jnr")), names.toString());
  }

  @Test
  void mountIsReadyOnReturnAndCloseIsIdempotent() throws Exception {
    JnrFuse.require();
    long parentDev = (Long) Files.getAttribute(tmp, "unix:dev");
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().transport("jnr").build()) {
      MountHandle h = fs.mount(dir);
      try {
        assertNotEquals(parentDev, Files.getAttribute(dir, "unix:dev"));
        assertTrue(h.isAlive());
        assertTrue(h.grantedFeatures().contains("POSIX_LOCKS"), h.grantedFeatures().toString());
        assertFalse(h.grantedFeatures().contains("WRITEBACK_CACHE"));
        String info = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
            .filter(l -> l.contains(" " + dir + " ")).findFirst().orElseThrow();
        assertTrue(info.contains("nosuid") && info.contains("nodev"), info);
        assertTrue(info.contains("fuse.agentfs agentfs"), info);
      } finally {
        h.close();
        h.close();
      }
      assertFalse(h.isAlive());
      assertEquals(parentDev, Files.getAttribute(dir, "unix:dev"));
    }
  }

  @Test
  void tenMountCyclesLeakNoThreads() throws Exception {
    JnrFuse.require();
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    cycle(dir); // warm up: class loading, jnr's own helper threads
    Set<String> before = threadNames();
    for (int i = 0; i < 10; i++) {
      cycle(dir);
    }
    Set<String> after = threadNames();
    after.removeAll(before);
    assertEquals(Set.of(), after, "threads left behind by 10 mount cycles");
    // libfuse's native workers are named after the loop thread that started them, and are
    // attached to the JVM only while calling back: count them in /proc, not just in Java.
    assertEquals(0, loopTasks(), "native libfuse threads left behind");
  }

  /** Native threads of this process named like a jnr mount's loop (libfuse inherits it). */
  private static long loopTasks() throws IOException {
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      return tasks.filter(t -> {
        try {
          return Files.readString(t.resolve("comm")).startsWith("agentfs-jnr-");
        } catch (IOException e) {
          return false; // the thread ended meanwhile
        }
      }).count();
    }
  }

  private static void cycle(Path dir) throws IOException {
    try (AgentFs fs = AgentFs.builder().transport("jnr").build();
        MountHandle h = fs.mount(dir)) {
      Files.writeString(dir.resolve("f"), "x");
      assertEquals("x", Files.readString(dir.resolve("f")));
      assertTrue(h.isAlive());
      assertTrue(loopTasks() >= 1, "libfuse's threads carry the loop thread's name");
    }
    assertFalse(Files.exists(dir.resolve("f")));
  }

  /** The JnrMount behind an AgentFs's single mount, found through the mount registry. */
  private static JnrMount unwrap(AgentFs fs) {
    assertEquals(1, fs.mounts().size());
    return JnrMount.live().stream().filter(m -> m.mountPoint().equals(
        fs.mounts().get(0).mountPoint())).findFirst().orElseThrow();
  }

  private static Set<String> threadNames() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .map(t -> t.getName() + "#" + t.getId()).collect(Collectors.toSet());
  }

  @Test
  void badMountPointsAreRefusedWithTheirPath() throws Exception {
    JnrFuse.require();
    Path missing = tmp.resolve("missing");
    Path file = Files.writeString(tmp.resolve("file"), "x");
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().transport("jnr").build()) {
      AgentFsException e = assertThrows(AgentFsException.class, () -> fs.mount(missing));
      assertEquals(Errno.ENOENT, e.errno());
      assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
      e = assertThrows(AgentFsException.class, () -> fs.mount(file));
      assertEquals(Errno.ENOTDIR, e.errno());
      assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
      try (MountHandle h = fs.mount(dir)) {
        e = assertThrows(AgentFsException.class, () -> fs.mount(dir));
        assertEquals(Errno.EBUSY, e.errno());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertTrue(h.isAlive());
      }
    }
  }

  @Test
  void passthroughIsRefusedNotIgnored() throws Exception {
    JnrFuse.require();
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    for (Passthrough p : List.of(Passthrough.REQUIRED, Passthrough.PREFERRED)) {
      AgentFsException e = assertThrows(AgentFsException.class,
          () -> AgentFs.builder().transport("jnr").passthrough(p).mount(dir).close());
      assertEquals(Errno.ENOTSUP, e.errno());
      assertTrue(e.getMessage().contains("cannot honour passthrough=" + p)
          && e.getMessage().contains("use transport \"kernel\""), e.getMessage());
    }
    assertFalse(isMountPoint(dir));
  }

  @Test
  void writebackCacheIsRefusedNotIgnored() throws Exception {
    JnrFuse.require();
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    AgentFsException e = assertThrows(AgentFsException.class,
        () -> AgentFs.builder().transport("jnr").enable(Feature.WRITEBACK_CACHE).mount(dir)
            .close());
    assertEquals(Errno.ENOTSUP, e.errno());
    assertTrue(e.getMessage().contains("cannot enable WRITEBACK_CACHE"), e.getMessage());
    assertFalse(isMountPoint(dir));
  }

  private static boolean isMountPoint(Path dir) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(" " + dir + " "));
  }

  @Test
  void readOnlyMountRefusesChanges() throws Exception {
    try (Fuse.Mounted m = JnrFuse.mount(tmp, b -> b.enable(Feature.READ_ONLY))) {
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Files.writeString(m.path("f"), "x"));
      assertTrue(e.getMessage().contains("Read-only"), e.getMessage());
    }
  }

  @Test
  void externalUnmountEndsTheMount() throws Exception {
    Fuse.Mounted m = JnrFuse.mount(tmp);
    try {
      JnrMount jm = unwrap(m.fs());
      Proc.sh(tmp, "umount " + m.dir()).ok();
      jm.loopThread().join(10_000);
      assertFalse(m.handle().isAlive());
    } finally {
      m.close(); // must not fail or hang on an already unmounted mount
    }
  }

  @Test
  void busyMountIsDetachedOnClose() throws Exception {
    Fuse.Mounted m = JnrFuse.mount(tmp);
    try {
      Files.writeString(m.path("open"), "x");
      var ch = Files.newByteChannel(m.path("open"));
      try {
        JnrMount jm = unwrap(m.fs());
        m.handle().close(); // umount gives EBUSY: detach and abort the connection
        assertFalse(jm.loopThread().isAlive());
        assertFalse(isMountPoint(m.dir()));
        assertThrows(IOException.class, () -> ch.read(java.nio.ByteBuffer.allocate(1)));
      } finally {
        try {
          ch.close();
        } catch (IOException expected) {
          // the connection was aborted: ENOTCONN on close
        }
      }
    } finally {
      m.close();
    }
  }

  @Test
  void mountFlagsLibfuse2KnowsArePassedTheRestRefused() {
    Configuration c = Configuration.builder().transport("jnr").subtype("agentx")
        .mountFlags(java.util.EnumSet.of(dev.agentfs.MountFlag.NOEXEC,
            dev.agentfs.MountFlag.NOATIME, dev.agentfs.MountFlag.RDONLY))
        .build();
    assertNull(JnrMount.refusal(c));
    Configuration rel = Configuration.builder().transport("jnr")
        .mountFlag(dev.agentfs.MountFlag.RELATIME).build();
    assertNull(JnrMount.refusal(rel));
    assertFalse(JnrMount.args(rel, Path.of("/m")).get(3).contains("relatime"),
        "the kernel's default; libfuse2 would hand it to the kernel, which refuses it");
    List<String> o = List.of(JnrMount.args(c, Path.of("/m")).get(3).split(","));
    assertTrue(o.containsAll(List.of("subtype=agentx", "noexec", "noatime", "ro")),
        o.toString());
    String why = JnrMount.refusal(Configuration.builder().transport("jnr")
        .mountFlag(dev.agentfs.MountFlag.STRICTATIME).build());
    assertNotNull(why);
    assertTrue(why.contains("strictatime"), why);
  }

  @Test
  void optionsMapFeaturesAndForceZeroTimeouts() {
    Configuration c = Configuration.builder().transport("jnr").threads(1)
        .enable(Feature.ALLOW_OTHER, Feature.DEFAULT_PERMISSIONS, Feature.READ_ONLY,
            Feature.SUID_DEV)
        .build();
    List<String> args = JnrMount.args(c, Path.of("/mnt/x"));
    assertEquals("-f", args.get(1));
    assertTrue(args.contains("-s"), "one thread: single-threaded loop " + args);
    assertEquals("/mnt/x", args.get(args.size() - 1));
    List<String> o = List.of(args.get(args.indexOf("-o") + 1).split(","));
    assertTrue(o.containsAll(List.of("fsname=agentfs", "subtype=agentfs", "attr_timeout=0",
        "entry_timeout=0", "negative_timeout=0", "use_ino", "hard_remove", "allow_other",
        "default_permissions", "ro", "suid", "dev", "max_write=131072")), o.toString());
    assertFalse(o.contains("nosuid"));

    Configuration d = Configuration.defaults();
    List<String> od = List.of(JnrMount.args(d, Path.of("/m")).get(3).split(","));
    assertTrue(od.containsAll(List.of("nosuid", "nodev")), od.toString());
    assertFalse(od.contains("allow_other") || od.contains("ro"));
    assertFalse(JnrMount.args(d, Path.of("/m")).contains("-s"));
    assertEquals(128 * 1024, JnrMount.maxWrite(d)); // 1 MiB asked, libfuse2 reads 128 KiB
    assertEquals(65536, JnrMount.maxWrite(d.toBuilder().maxWrite(65536).build()));
  }

  @Test
  void unavailableReasonIsNullHereAndNamesTheFixOtherwise() {
    // This machine has libfuse2 (scripts/setup.sh installs it); the message is checked in
    // JnrFuse.require, which fails the mount tests with it when the library is missing.
    assertEquals(null, new JnrTransportProvider().unavailableReason(),
        "run scripts/setup.sh to install libfuse2");
  }

  @Test
  void otherUsersAreShutOutWithoutAllowOther() throws Exception {
    try (Fuse.Mounted m = JnrFuse.mount(tmp)) {
      Proc.Result r = Proc.shAs(m.dir(), 1000, 1000, "ls .");
      assertNotEquals(0, r.exit());
      assertTrue(r.err().contains("Permission denied"), r.err());
    }
  }
}
