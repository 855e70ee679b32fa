package dev.agentfs.nio;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.StatFs;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLockInterruptionException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the AgentFs file system has: branches, snapshots, callers, the core underneath. */
class AgentFsFileSystemTest {
  private final AgentFs afs = AgentFs.builder().build();
  private final Branch main = afs.main();

  @AfterEach
  void close() {
    afs.close();
  }

  @Test
  void changesAreVisibleBothWaysAtOnce() throws Exception {
    try (FileSystem fs = main.asFileSystem()) {
      Files.createDirectories(fs.getPath("/src/app"));
      Files.writeString(fs.getPath("/src/app/Main.java"), "class Main {}");
      assertEquals("class Main {}", main.readString("/src/app/Main.java"));
      main.write("/src/app/Other.java", "class Other {}");
      assertEquals("class Other {}", Files.readString(fs.getPath("/src/app/Other.java")));
      main.symlink("Other.java", "/src/app/link");
      assertEquals("Other.java", Files.readSymbolicLink(fs.getPath("/src/app/link")).toString());
      main.delete("/src/app/Main.java");
      assertFalse(Files.exists(fs.getPath("/src/app/Main.java")));
      Files.move(fs.getPath("/src/app/Other.java"), fs.getPath("/src/Moved.java"));
      assertEquals(List.of("Moved.java", "app"), main.list("/src").stream().sorted().toList());
      try (FileChannel ch = FileChannel.open(fs.getPath("/src/Moved.java"), WRITE)) {
        ch.write(ByteBuffer.wrap("CLASS".getBytes(UTF_8)), 0);
        assertEquals("CLASS Other {}", main.readString("/src/Moved.java"));
      }
      assertEquals(main.stat("/src/Moved.java").ino(),
          Files.getAttribute(fs.getPath("/src/Moved.java"), "unix:ino"));
    }
  }

  @Test
  void snapshotsIsolateBranchesThroughNio() throws Exception {
    try (FileSystem mfs = main.asFileSystem()) {
      Path f = Files.writeString(mfs.getPath("/f.txt"), "v1");
      Branch task = afs.createBranch("task", main.snapshot("base"));
      try (FileSystem tfs = task.asFileSystem()) {
        Path tf = tfs.getPath("/f.txt");
        assertEquals("v1", Files.readString(tf));
        Files.writeString(tf, "v2");
        Files.writeString(tfs.getPath("/new.txt"), "n");
        assertEquals("v1", Files.readString(f));
        assertFalse(Files.exists(mfs.getPath("/new.txt")));
        Files.writeString(f, "main");
        assertEquals("v2", Files.readString(tf));
        assertEquals(Files.getAttribute(f, "unix:ino"), Files.getAttribute(tf, "unix:ino"));
        assertNotEquals(Files.readAttributes(f, BasicFileAttributes.class).fileKey(),
            Files.readAttributes(tf, BasicFileAttributes.class).fileKey());
        assertFalse(Files.isSameFile(f, tf));
        assertEquals("task", Files.getFileStore(tf).name());
        Files.copy(tf, mfs.getPath("/from-task.txt"));
        assertEquals("v2", main.readString("/from-task.txt"));
        assertThrows(AtomicMoveNotSupportedException.class, () -> Files.move(
            tfs.getPath("/new.txt"), mfs.getPath("/new.txt"), StandardCopyOption.ATOMIC_MOVE));
      }
      Branch snap = afs.createBranch("check", afs.getSnapshot("base"));
      try (FileSystem sfs = snap.asFileSystem()) {
        assertEquals("v1", Files.readString(sfs.getPath("/f.txt")));
      }
    }
  }

  @Test
  void providerIsInstalledAndOpensByUri() throws Exception {
    assertTrue(FileSystemProvider.installedProviders().stream()
        .anyMatch(p -> p instanceof AgentFsFileSystemProvider && p.getScheme().equals("agentfs")));
    afs.createBranch("task-1", main.snapshot("s"));
    URI uri = URI.create("agentfs://task-1/");
    try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of("agentfs", afs))) {
      assertInstanceOf(AgentFsFileSystem.class, fs);
      assertEquals("task-1", ((AgentFsFileSystem) fs).branch().name());
      assertThrows(FileSystemAlreadyExistsException.class,
          () -> FileSystems.newFileSystem(uri, Map.of("agentfs", afs)));
      Path p = Path.of(URI.create("agentfs://task-1/dir/a%20b.txt"));
      assertSame(fs, p.getFileSystem());
      assertEquals("/dir/a b.txt", p.toString());
      Files.createDirectory(p.getParent());
      Files.writeString(p, "x");
      assertEquals("x", afs.branch("task-1").readString("/dir/a b.txt"));
      assertEquals(p, Path.of(p.toUri()));
      assertEquals("agentfs://task-1/dir/a%20b.txt", p.toUri().toString());
      assertEquals("agentfs://task-1/dir/", p.getParent().toUri().toString());
    }
    assertThrows(FileSystemNotFoundException.class,
        () -> Path.of(URI.create("agentfs://task-1/x")));
    try (FileSystem fs = FileSystems.newFileSystem(URI.create("agentfs://other-key"),
        Map.of("agentfs", afs, "branch", "main", "umask", 077))) {
      Path f = Files.createFile(fs.getPath("/private"));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }
    assertThrows(IllegalArgumentException.class,
        () -> FileSystems.newFileSystem(URI.create("agentfs://k/"), Map.of()));
    assertThrows(FileSystemNotFoundException.class, () -> FileSystems.newFileSystem(
        URI.create("agentfs://k/"), Map.of("agentfs", afs, "branch", "nope")));
  }

  @Test
  void closingTheFileSystemClosesItsResourcesButNotAgentFs() throws Exception {
    FileSystem fs = main.asFileSystem();
    Path f = Files.writeString(fs.getPath("/f"), "x");
    FileChannel ch = FileChannel.open(f, READ);
    WatchService ws = fs.newWatchService();
    fs.close();
    assertFalse(fs.isOpen());
    assertFalse(ch.isOpen());
    assertThrows(ClosedChannelException.class, () -> ch.read(ByteBuffer.allocate(1)));
    assertThrows(java.nio.file.ClosedWatchServiceException.class, ws::poll);
    assertThrows(ClosedFileSystemException.class, () -> Files.readString(f));
    fs.close();
    assertEquals("x", main.readString("/f"));
    try (FileSystem again = main.asFileSystem()) {
      assertEquals("x", Files.readString(again.getPath("/f")));
    }
  }

  @Test
  void actsAsTheBranchCaller() throws Exception {
    main.mkdir("/root-only", 0700);
    main.write("/secret", "s");
    main.chmod("/secret", 0600);
    main.mkdir("/shared", 0755);
    Caller alice = new Caller(4242, 1000, 1000, new int[0]);
    try (FileSystem fs = main.as(alice).asFileSystem()) {
      assertEquals(alice, ((AgentFsFileSystem) fs).caller());
      assertThrows(AccessDeniedException.class, () -> Files.readString(fs.getPath("/secret")));
      assertThrows(AccessDeniedException.class, () -> Files.list(fs.getPath("/root-only")));
      assertThrows(AccessDeniedException.class, () -> Files.createFile(fs.getPath("/shared/x")));
      assertFalse(Files.isReadable(fs.getPath("/secret")));
      assertFalse(Files.isWritable(fs.getPath("/shared")));
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Files.setPosixFilePermissions(fs.getPath("/secret"),
              PosixFilePermissions.fromString("rwxrwxrwx")));
      assertEquals(FileSystemException.class, e.getClass());
      assertEquals("EPERM", e.getReason());
      assertEquals("/secret", e.getFile());
    }
    main.chmod("/shared", 0777);
    try (FileSystem fs = main.as(alice).asFileSystem()) {
      Path mine = Files.createFile(fs.getPath("/shared/mine"));
      assertEquals(1000, Files.getAttribute(mine, "unix:uid"));
      assertEquals("1000", String.valueOf(Files.getAttribute(mine, "unix:gid")));
    }
  }

  @Test
  void locksAreTheCoresPosixLocks() throws Exception {
    Vfs vfs = main.vfs();
    try (FileSystem fs = main.asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/lock"), "0123456789");
      long ino = main.stat("/lock").ino();
      // Another process (as through a mount) takes a write lock on bytes 0..4.
      long otherFh = vfs.open(Caller.ROOT, ino, Modes.O_RDWR);
      long otherOwner = 77;
      vfs.setlk(ino, otherFh, otherOwner, new FileLock(0, 4, Modes.F_WRLCK, 99), false, false);
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        assertNull(ch.tryLock(0, 10, false), "conflicts with the other process's lock");
        assertNull(ch.tryLock(2, 1, true));
        java.nio.channels.FileLock tail = ch.tryLock(5, 5, false);
        assertNotNull(tail);
        FileLock seen = vfs.getlk(ino, otherFh, otherOwner,
            new FileLock(0, Long.MAX_VALUE, Modes.F_WRLCK, 0));
        assertEquals(Modes.F_WRLCK, seen.type());
        assertEquals(5, seen.start());
        assertEquals(9, seen.end());
        assertEquals(ProcessHandle.current().pid(), seen.pid());
        tail.release();
        assertEquals(Modes.F_UNLCK, vfs.getlk(ino, otherFh, otherOwner,
            new FileLock(0, Long.MAX_VALUE, Modes.F_WRLCK, 0)).type());

        // A blocking lock() waits for the other process and gets the lock once it lets go.
        CompletableFuture<java.nio.channels.FileLock> waiting =
            CompletableFuture.supplyAsync(() -> {
              try {
                return ch.lock(0, 10, false);
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
        vfs.setlk(ino, otherFh, otherOwner, new FileLock(0, 4, Modes.F_UNLCK, 99), false, false);
        java.nio.channels.FileLock got = waiting.get(30, TimeUnit.SECONDS);
        assertTrue(got.isValid());
        AgentFsException busy = assertThrows(AgentFsException.class, () -> vfs.setlk(ino,
            otherFh, otherOwner, new FileLock(0, 0, Modes.F_RDLCK, 99), false, false));
        assertEquals(Errno.EAGAIN, busy.errno());
        got.release();
      }
      // An interrupted wait ends with FileLockInterruptionException.
      vfs.setlk(ino, otherFh, otherOwner, new FileLock(0, 4, Modes.F_WRLCK, 99), false, false);
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        CompletableFuture<Throwable> r = new CompletableFuture<>();
        Thread t = new Thread(() -> {
          Thread.currentThread().interrupt();
          try {
            ch.lock();
            r.complete(null);
          } catch (Throwable e) {
            r.complete(e);
          }
        });
        t.start();
        assertInstanceOf(FileLockInterruptionException.class, r.get(30, TimeUnit.SECONDS));
      }
      vfs.release(ino, otherFh);
    }
  }

  @Test
  void namesAreBytes() throws Exception {
    byte[] raw = {(byte) 0xff, 'x', (byte) 0xc3};
    Created c = main.vfs().create(Caller.ROOT, Vfs.ROOT, raw, 0644, Modes.O_WRONLY, 0);
    main.vfs().write(Caller.ROOT, c.attr().ino(), c.fh(), 0, ByteBuffer.wrap("raw".getBytes(UTF_8)));
    main.vfs().release(c.attr().ino(), c.fh());
    main.vfs().forget(c.attr().ino(), 1);
    try (FileSystem fs = main.asFileSystem(); Stream<Path> s = Files.list(fs.getPath("/"))) {
      Path p = s.findFirst().orElseThrow();
      assertArrayEquals(raw, ((AgentFsPath) p.getFileName()).bytes());
      assertEquals("raw", Files.readString(p));
      assertEquals("\uFFFDx\uFFFD", p.getFileName().toString());
      assertFalse(Files.exists(fs.getPath(p.toString())), "the string form is lossy");
      assertEquals(p, Path.of(p.toUri()));
      assertTrue(p.toUri().toString().endsWith("/%FFx%C3"));
      Path copy = p.resolveSibling("copy");
      Files.move(p, copy);
      assertEquals("raw", main.readString("/copy"));
    }
  }

  @Test
  void watchSeesThisBranchOnly() throws Exception {
    main.mkdir("/w");
    Branch other = afs.createBranch("other", main.snapshot("s"));
    try (FileSystem fs = main.asFileSystem(); WatchService ws = fs.newWatchService()) {
      WatchKey key = fs.getPath("/w").register(ws, ENTRY_CREATE);
      other.write("/w/elsewhere", "x");
      main.write("/w/here", "y");
      List<String> seen = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!seen.contains("ENTRY_CREATE here") && System.nanoTime() < deadline) {
        WatchKey k = ws.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (k == null) {
          break;
        }
        assertSame(key, k);
        for (WatchEvent<?> e : k.pollEvents()) {
          seen.add(e.kind().name() + " " + e.context());
        }
        k.reset();
      }
      assertEquals(List.of("ENTRY_CREATE here"), seen);
      // Removing the watched directory cancels the key.
      main.delete("/w/here");
      main.delete("/w");
      WatchKey k = ws.poll(20, TimeUnit.SECONDS);
      assertSame(key, k);
      assertFalse(key.isValid());
    }
  }

  @Test
  void fileStoreNumbersAreTheCoresStatfs() throws Exception {
    try (AgentFsFileSystem fs = main.asFileSystem()) {
      FileStore store = Files.getFileStore(fs.getPath("/"));
      StatFs s = main.vfs().statfs(Caller.ROOT, Vfs.ROOT);
      assertEquals("agentfs", store.type());
      assertEquals("main", store.name());
      assertEquals(s.blocks() * s.frsize(), store.getTotalSpace());
      assertEquals(s.bsize(), store.getBlockSize());
      assertTrue(((AgentFsFileStore) store).getTotalFiles() > 0);
      assertTrue(((AgentFsFileStore) store).getFreeFiles() > 0);
      assertFalse(fs.isReadOnly());
    }
  }

  @Test
  void unsupportedOperationsSaySo() throws Exception {
    try (FileSystem fs = main.asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "x");
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
            () -> ch.map(FileChannel.MapMode.READ_WRITE, 0, 1));
        assertTrue(e.getMessage().contains("host file"), e.getMessage());
      }
      assertThrows(UnsupportedOperationException.class, f::toFile);
      assertThrows(java.nio.file.ProviderMismatchException.class,
          () -> f.resolve(Path.of("/tmp")));
    }
  }

  @Test
  void copiesAcrossProviders(@TempDir Path tmp) throws Exception {
    try (FileSystem fs = main.asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "cross");
      Files.copy(f, tmp.resolve("out"));
      assertEquals("cross", Files.readString(tmp.resolve("out")));
      Files.copy(tmp.resolve("out"), fs.getPath("/back"));
      assertEquals("cross", main.readString("/back"));
    }
  }

  @Test
  void errnoMapping() {
    Map<Errno, Class<?>> expected = Map.of(Errno.ENOENT, NoSuchFileException.class,
        Errno.EEXIST, FileAlreadyExistsException.class, Errno.EACCES, AccessDeniedException.class,
        Errno.ENOTEMPTY, DirectoryNotEmptyException.class, Errno.ENOTDIR,
        FileSystemException.class, Errno.ELOOP, FileSystemException.class, Errno.EPERM,
        FileSystemException.class, Errno.EROFS, FileSystemException.class);
    expected.forEach((errno, type) -> {
      FileSystemException e = Errors.map(new AgentFsException(errno, "/p"), "/p", "/q");
      assertEquals(type, e.getClass(), errno.name());
      assertEquals("/p", e.getFile());
      assertInstanceOf(AgentFsException.class, e.getCause());
    });
    FileSystemException rofs = Errors.map(new AgentFsException(Errno.EROFS, null), "/p", null);
    assertEquals("EROFS", rofs.getReason());
    assertInstanceOf(NotDirectoryException.class, Errors.map(
        new AgentFsException(Errno.ENOTDIR, null), "/p", null, Errors.Op.OPENDIR));
    assertInstanceOf(NotLinkException.class, Errors.map(
        new AgentFsException(Errno.EINVAL, null), "/p", null, Errors.Op.READLINK));
  }

  @Test
  void readOnlyFileSystem() throws Exception {
    try (AgentFs ro = AgentFs.builder().enable(dev.agentfs.Feature.READ_ONLY).build();
        FileSystem fs = ro.main().asFileSystem()) {
      assertTrue(fs.isReadOnly());
      FileSystemException e = assertThrows(FileSystemException.class,
          () -> Files.createFile(fs.getPath("/x")));
      assertEquals("EROFS", e.getReason());
    }
  }

}
