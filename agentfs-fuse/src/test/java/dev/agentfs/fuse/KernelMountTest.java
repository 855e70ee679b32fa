package dev.agentfs.fuse;

import static dev.agentfs.fuse.FuseTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.agentfs.Configuration;
import dev.agentfs.Feature;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountTable;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real mounts served by the kernel transport, exercised with Java NIO and child processes.
 * Every mount is closed in {@link #unmountAll()} even when a test fails.
 */
class KernelMountTest {
  @TempDir Path tmp;
  private Path mnt;
  private MemVfs vfs;
  private final List<AutoCloseable> mounts = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    requireFuse();
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    vfs = new MemVfs();
  }

  @AfterEach
  void unmountAll() throws Exception {
    for (int i = mounts.size() - 1; i >= 0; i--) {
      mounts.get(i).close();
    }
  }

  private FuseSession mount(MemVfs v, Path at, Configuration c) throws Exception {
    FuseSession s = FuseTestSupport.mount(v, at, c);
    mounts.add(s);
    return s;
  }

  private FuseSession mount() throws Exception {
    return mount(vfs, mnt, config());
  }

  @Test
  void nioFileOperations() throws Exception {
    mount();
    Path a = mnt.resolve("a.txt");
    Files.writeString(a, "hello");
    Files.writeString(a, " world", StandardOpenOption.APPEND);
    assertEquals("hello world", Files.readString(a));
    assertEquals(11, Files.size(a));

    Path dir = Files.createDirectory(mnt.resolve("dir"));
    Files.move(a, dir.resolve("b.txt"));
    assertFalse(Files.exists(a));
    assertEquals("hello world", Files.readString(dir.resolve("b.txt")));
    Files.copy(dir.resolve("b.txt"), mnt.resolve("c.txt"));
    Files.move(mnt.resolve("c.txt"), dir.resolve("b.txt"), StandardCopyOption.REPLACE_EXISTING);

    try (Stream<Path> s = Files.list(mnt)) {
      assertEquals(List.of("dir"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    BasicFileAttributes attrs = Files.readAttributes(dir, BasicFileAttributes.class);
    assertTrue(attrs.isDirectory());

    FileTime t = FileTime.fromMillis(1_600_000_000_000L);
    Files.setLastModifiedTime(dir.resolve("b.txt"), t);
    assertEquals(t, Files.getLastModifiedTime(dir.resolve("b.txt")));
    Files.setPosixFilePermissions(dir.resolve("b.txt"), PosixFilePermissions.fromString("rw-r-----"));
    assertEquals("rw-r-----",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("b.txt"))));

    assertThrows(java.nio.file.DirectoryNotEmptyException.class, () -> Files.delete(dir));
    Files.delete(dir.resolve("b.txt"));
    Files.delete(dir);
    assertTrue(Files.notExists(dir));
    assertThrows(java.nio.file.NoSuchFileException.class, () -> Files.readString(a));
  }

  @Test
  void largeFilesCrossManyWrites() throws Exception {
    mount();
    byte[] data = new byte[5 * 1024 * 1024 + 123];
    new Random(7).nextBytes(data);
    Path f = mnt.resolve("big.bin");
    Files.write(f, data);
    assertArrayEquals(data, Files.readAllBytes(f));
    assertTrue(vfs.calls("write") >= 5, "max_write splits a 5 MiB write");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(10);
      ch.read(b, 4_000_000);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 4_000_000, 4_000_010), b.array());
    }
  }

  @Test
  void shellToolsSeeAPosixFilesystem() throws Exception {
    mount();
    String m = mnt.toString();
    Run r = sh("cd " + m + " && echo hi > f && cat f && mkdir -p a/b/c && ln -s f sym"
        + " && readlink sym && cat sym && ln f hard && stat -c '%h %s %F' f"
        + " && ls -1 | sort | tr '\\n' ' ' && echo && mv f g && ls g && rm g hard sym && rmdir a/b/c"
        + " && truncate -s 100 t && stat -c %s t && chmod 600 t && stat -c %a t"
        + " && touch -d @1500000000 t && stat -c %Y t && df -P . | tail -1 | awk '{print $2}'");
    assertEquals(0, r.exit(), r.err());
    assertEquals(List.of("hi", "f", "hi", "2 3 regular file", "a f hard sym ", "g", "100", "600",
        "1500000000", "4194304"), r.out().lines().toList());
  }

  @Test
  void pythonOsLevelCalls() throws Exception {
    mount();
    String py = String.join("\n",
        "import os, fcntl, sys",
        "d = sys.argv[1]",
        "p = os.path.join(d, 'x')",
        "fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)",
        "os.write(fd, b'abcdef')",
        "os.setxattr(p, 'user.k', b'value')",
        "print(os.getxattr(p, 'user.k').decode())",
        "print(sorted(os.listxattr(p)))",
        "os.removexattr(p, 'user.k')",
        "try:\n  os.getxattr(p, 'user.k')\nexcept OSError as e:\n  print('ENODATA', e.errno == 61)",
        "fcntl.flock(fd, fcntl.LOCK_EX); fcntl.flock(fd, fcntl.LOCK_UN)",
        "fcntl.lockf(fd, fcntl.LOCK_EX, 2, 0)",
        "os.posix_fallocate(fd, 0, 4096)",
        "print(os.fstat(fd).st_size)",
        "q = os.path.join(d, 'y')",
        "fd2 = os.open(q, os.O_CREAT | os.O_RDWR, 0o644)",
        "print(os.copy_file_range(fd, fd2, 3, 0, 0))",
        "print(os.pread(fd2, 3, 0).decode())",
        "os.fsync(fd); os.close(fd); os.close(fd2)",
        "os.rename(q, os.path.join(d, 'z'))",
        "print(sorted(os.listdir(d)))",
        "st = os.statvfs(d); print(st.f_bsize, st.f_namemax)",
        "print(os.access(p, os.R_OK))",
        "os.mkfifo(os.path.join(d, 'fifo')); print(os.stat(os.path.join(d, 'fifo')).st_mode >> 12)",
        "fd3 = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600); os.write(fd3, b'tmp')",
        // os.link calls link(2), which does not follow /proc magic links; linkat does.
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True)",
        "rc = libc.linkat(-100, b'/proc/self/fd/%d' % fd3, -100, os.path.join(d, 'fromtmp').encode(), 0x400)",
        "assert rc == 0, os.strerror(ctypes.get_errno())",
        "os.close(fd3)",
        "print(open(os.path.join(d, 'fromtmp')).read())");
    Run r = run("python3", "-c", py, mnt.toString());
    assertEquals(0, r.exit(), r.err());
    assertEquals(List.of("value", "['user.k']", "ENODATA True", "4096", "3", "abc",
        "['x', 'z']", "4096 255", "True", "1", "tmp"), r.out().lines().toList());
    assertTrue(vfs.calls("flock") >= 2, "flock reached the filesystem");
    assertTrue(vfs.calls("setlk") >= 1, "POSIX lock reached the filesystem");
    assertEquals(1, vfs.calls("tmpfile"));
  }

  @Test
  void handlerBugIsEioAndTheMountSurvives() throws Exception {
    FuseSession s = mount(vfs, mnt, Configuration.builder().threads(2)
        .attrTimeout(Duration.ZERO).entryTimeout(Duration.ZERO).build());
    Files.writeString(mnt.resolve("f"), "x");
    vfs.failWith("getattr", new IllegalStateException("bug"));
    vfs.failWith("lookup", new NullPointerException("bug"));
    FileSystemException e = assertThrows(FileSystemException.class,
        () -> Files.readAttributes(mnt.resolve("f"), BasicFileAttributes.class));
    assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
    vfs.heal("getattr");
    vfs.heal("lookup");
    assertEquals("x", Files.readString(mnt.resolve("f")));
    assertTrue(s.isAlive());
  }

  @Test
  void concurrentWritersThroughSeveralWorkers() throws Exception {
    FuseSession s = mount(vfs, mnt, Configuration.builder().threads(4).build());
    assertEquals(4, s.workerThreads().size());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int n = i;
        fs.add(pool.submit(() -> {
          Path f = mnt.resolve("f" + n);
          byte[] data = ("file " + n + " ").repeat(10_000).getBytes(StandardCharsets.UTF_8);
          Files.write(f, data);
          assertArrayEquals(data, Files.readAllBytes(f));
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    try (Stream<Path> st = Files.list(mnt)) {
      assertEquals(8, st.count());
    }
  }

  @Test
  void mountOptionsFollowConfiguration() throws Exception {
    mount();
    Path ro = Files.createDirectory(tmp.resolve("ro"));
    mount(new MemVfs(), ro, Configuration.builder().threads(1).enable(Feature.READ_ONLY).build());
    String line = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(l -> l.contains(" " + mnt + " ")).findFirst().orElseThrow();
    assertTrue(line.contains("nosuid") && line.contains("nodev"), line);
    assertTrue(line.contains(" - fuse.agentfs agentfs "), line);
    FileSystemException e = assertThrows(FileSystemException.class,
        () -> Files.writeString(ro.resolve("f"), "x"));
    assertTrue(e.getMessage().contains("Read-only"), e.getMessage());
  }

  @Test
  void invalidationNoticesDropKernelCaches() throws Exception {
    FuseSession s = mount(vfs, mnt, Configuration.builder().threads(2)
        .attrTimeout(Duration.ofMinutes(5)).entryTimeout(Duration.ofMinutes(5)).build());
    Path f = mnt.resolve("f");
    Files.writeString(f, "12345");
    assertEquals(5, Files.size(f));
    long ino = vfs.inoOf("f");
    vfs.replaceContent(ino, "0123456789".getBytes(StandardCharsets.UTF_8));
    assertEquals(5, Files.size(f), "the kernel still trusts its cached size");
    s.invalidateInode(ino);
    assertTrue(s.awaitNotices(Duration.ofSeconds(10)));
    assertEquals(10, Files.size(f));
    assertEquals("0123456789", Files.readString(f));

    vfs.removeBehind(Vfs.ROOT, "f");
    assertTrue(Files.exists(f), "the kernel still trusts its cached entry");
    s.invalidateEntry(Vfs.ROOT, "f".getBytes(StandardCharsets.UTF_8));
    assertTrue(s.awaitNotices(Duration.ofSeconds(10)));
    assertFalse(Files.exists(f));
  }

  @Test
  void closeWhileBusyDetachesAndReturns() throws Exception {
    FuseSession s = mount();
    Path f = mnt.resolve("open.txt");
    Files.writeString(f, "keep me open");
    FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
    try {
      s.close();
      assertFalse(s.isAlive());
      for (Thread t : s.workerThreads()) {
        assertFalse(t.isAlive(), t.getName());
      }
      assertFalse(MountTable.isFuseMountPoint(mnt));
      assertThrows(IOException.class, () -> ch.read(ByteBuffer.allocate(4), 0));
    } finally {
      try {
        ch.close();
      } catch (IOException expected) {
        // FLUSH on an aborted connection fails (ENOTCONN); the descriptor is closed anyway.
      }
    }
  }

  @Test
  void externalUnmountIsNoticed() throws Exception {
    FuseSession s = mount();
    Files.writeString(mnt.resolve("f"), "x");
    Run r = run("umount", mnt.toString());
    assertEquals(0, r.exit(), r.err());
    for (Thread t : s.workerThreads()) {
      t.join(10_000);
      assertFalse(t.isAlive(), t.getName() + " left its read on ENODEV");
    }
    assertFalse(s.isAlive());
    s.close();
    s.close(); // idempotent
  }

  @Test
  void twoMountsAtOnceStayApart() throws Exception {
    Path other = Files.createDirectory(tmp.resolve("other"));
    MemVfs vfs2 = new MemVfs();
    mount();
    mount(vfs2, other, config());
    Files.writeString(mnt.resolve("one"), "1");
    Files.writeString(other.resolve("two"), "2");
    try (Stream<Path> a = Files.list(mnt); Stream<Path> b = Files.list(other)) {
      assertEquals(List.of("one"), a.map(p -> p.getFileName().toString()).toList());
      assertEquals(List.of("two"), b.map(p -> p.getFileName().toString()).toList());
    }
    assertEquals(-1, vfs2.inoOf("one"));
    assertTrue(vfs.inoOf("one") > 0);
  }

  @Test
  void providerIsFoundByName() throws Exception {
    var provider = java.util.ServiceLoader.load(dev.agentfs.spi.TransportProvider.class).stream()
        .map(java.util.ServiceLoader.Provider::get).filter(p -> p.name().equals("kernel"))
        .findFirst().orElseThrow();
    assertNull(provider.unavailableReason());
    try (var h = provider.mount(vfs, mnt, config())) {
      assertEquals(mnt.toAbsolutePath(), h.mountPoint());
      assertTrue(h.isAlive());
      assertTrue(h.grantedFeatures().contains("ASYNC_READ"), h.grantedFeatures().toString());
      Files.writeString(mnt.resolve("p"), "p");
      assertEquals(Files.readString(mnt.resolve("p")), "p");
    }
    assertFalse(MountTable.isFuseMountPoint(mnt));
  }

  @Test
  void mountCyclesLeaveNothingBehind() throws Exception {
    // Warm up class loading, jnr stubs and the shutdown hook before counting.
    try (FuseSession s = FuseTestSupport.mount(vfs, mnt)) {
      Files.writeString(mnt.resolve("w"), "w");
    }
    int fds = openFds();
    for (int i = 0; i < 20; i++) {
      try (FuseSession s = FuseTestSupport.mount(vfs, mnt)) {
        assertEquals("w", Files.readString(mnt.resolve("w")));
      }
      assertFalse(MountTable.isFuseMountPoint(mnt), "cycle " + i);
    }
    assertEquals(List.of(), fuseThreads());
    // Fewer is fine (an earlier test's channel may be closed by GC meanwhile); more is a leak.
    assertTrue(openFds() <= fds, "descriptors leaked: "
        + Files.list(Path.of("/proc/self/fd")).map(p -> {
          try {
            return Files.readSymbolicLink(p).toString();
          } catch (IOException e) {
            return "?";
          }
        }).collect(Collectors.joining(", ")));
  }
}
