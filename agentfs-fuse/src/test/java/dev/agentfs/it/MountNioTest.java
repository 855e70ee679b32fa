package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.Branch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Core operations through a real mount, driven by java.nio (real syscalls into the kernel). */
class MountNioTest {
  @TempDir Path tmp;
  Fuse.Mounted m;
  Path root;

  /** The transport and options; subclasses run the same suite on another transport. */
  void configure(dev.agentfs.AgentFs.Builder b) {}

  @BeforeEach
  void mount() throws IOException {
    m = Fuse.mount(tmp, this::configure);
    root = m.dir();
  }

  @AfterEach
  void unmount() {
    if (m != null) {
      m.close();
    }
  }

  @Test
  void filesAndDirectories() throws IOException {
    Path d = Files.createDirectories(root.resolve("a/b/c"));
    Path f = d.resolve("hello.txt");
    Files.writeString(f, "hello world");
    assertEquals("hello world", Files.readString(f));
    assertEquals(11, Files.size(f));
    try (Stream<Path> s = Files.list(root.resolve("a/b"))) {
      assertEquals(List.of("c"), s.map(p -> p.getFileName().toString()).toList());
    }
    assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(root.resolve("a/b/c")));
    assertThrows(FileAlreadyExistsException.class, () -> Files.createDirectory(d));
    Files.move(f, root.resolve("a/moved.txt"));
    assertFalse(Files.exists(f));
    assertEquals("hello world", Files.readString(root.resolve("a/moved.txt")));
    Files.delete(root.resolve("a/moved.txt"));
    assertThrows(NoSuchFileException.class, () -> Files.readString(root.resolve("a/moved.txt")));
  }

  @Test
  void changesAreVisibleThroughTheJavaApiAndBack() throws IOException {
    Files.writeString(root.resolve("from-kernel.txt"), "k");
    Branch main = m.fs().main();
    assertEquals("k", main.readString("/from-kernel.txt"));
    main.write("/from-java.txt", "j");
    assertEquals("j", Files.readString(root.resolve("from-java.txt")));
    // A change made behind the kernel's back invalidates what it cached.
    assertEquals("k", Files.readString(root.resolve("from-kernel.txt")));
    main.write("/from-kernel.txt", "changed by java");
    assertEquals("changed by java", Files.readString(root.resolve("from-kernel.txt")));
    main.delete("/from-java.txt");
    assertFalse(Files.exists(root.resolve("from-java.txt")));
  }

  @Test
  void snapshotOfTheMountedBranchIsImmutable() throws IOException, Exception {
    Files.writeString(root.resolve("f"), "v1");
    var snap = m.fs().snapshot("s1");
    Files.writeString(root.resolve("f"), "v2 longer");
    Files.writeString(root.resolve("g"), "new");
    Branch b = m.fs().createBranch("b1", snap);
    assertEquals("v1", b.readString("/f"));
    assertFalse(b.exists("/g"));
    assertEquals("v2 longer", Files.readString(root.resolve("f")));
  }

  @Test
  void attributesPermissionsTimesAndLinks() throws IOException {
    Path f = Files.writeString(root.resolve("f"), "data");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
    assertEquals("rwxr-x---",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    FileTime t = FileTime.fromMillis(1_600_000_000_123L);
    Files.setLastModifiedTime(f, t);
    assertEquals(t, Files.getLastModifiedTime(f));

    Path link = Files.createSymbolicLink(root.resolve("sym"), Path.of("f"));
    assertEquals(Path.of("f"), Files.readSymbolicLink(link));
    assertTrue(Files.isSymbolicLink(link));
    assertEquals("data", Files.readString(link));

    Path hard = Files.createLink(root.resolve("hard"), f);
    assertEquals(2, Files.getAttribute(f, "unix:nlink"));
    assertEquals(Files.getAttribute(f, "unix:ino"), Files.getAttribute(hard, "unix:ino"));
    Files.delete(f);
    assertEquals(1, Files.getAttribute(hard, "unix:nlink"));
    assertEquals("data", Files.readString(hard));
    assertFalse(Files.exists(link));
    assertTrue(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void userXattrs() throws IOException {
    Path f = Files.writeString(root.resolve("x"), "x");
    UserDefinedFileAttributeView v =
        Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
    v.write("agent", StandardCharsets.UTF_8.encode("task-7"));
    assertEquals(List.of("agent"), v.list());
    ByteBuffer buf = ByteBuffer.allocate(v.size("agent"));
    v.read("agent", buf);
    assertEquals("task-7", new String(buf.array(), StandardCharsets.UTF_8));
    v.delete("agent");
    assertEquals(List.of(), v.list());
  }

  @Test
  void randomAccessWritesSparseFilesAndTruncate() throws IOException {
    Path f = root.resolve("sparse");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("end".getBytes(StandardCharsets.US_ASCII)), 10_000_000);
      ch.write(ByteBuffer.wrap("start".getBytes(StandardCharsets.US_ASCII)), 0);
      assertEquals(10_000_003, ch.size());
      ByteBuffer mid = ByteBuffer.allocate(4);
      ch.read(mid, 5_000_000);
      assertArrayEquals(new byte[4], mid.array());
      ch.truncate(5);
      assertEquals(5, ch.size());
    }
    assertEquals("start", Files.readString(f));
    assertTrue((long) Files.getAttribute(f, "unix:size") == 5);
  }

  @Test
  void renameReplacesAtomically() throws IOException {
    Path a = Files.writeString(root.resolve("a"), "new");
    Path b = Files.writeString(root.resolve("b"), "old");
    Files.move(a, b, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    assertEquals("new", Files.readString(b));
    assertFalse(Files.exists(a));
  }

  @Test
  void largeFileRoundTripWithChecksum() throws Exception {
    Path f = root.resolve("big.bin");
    long size = 1L << 30; // 1 GiB, as issue #4 asks
    byte[] block = new byte[4 << 20];
    new Random(42).nextBytes(block);
    MessageDigest w = MessageDigest.getInstance("SHA-256");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      for (long off = 0; off < size; off += block.length) {
        block[0] = (byte) (off >>> 22);
        w.update(block);
        ByteBuffer src = ByteBuffer.wrap(block);
        while (src.hasRemaining()) {
          ch.write(src);
        }
      }
    }
    assertEquals(size, Files.size(f));
    MessageDigest r = MessageDigest.getInstance("SHA-256");
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      while (ch.read(buf.clear()) > 0) {
        r.update(buf.flip());
      }
    }
    assertEquals(HexFormat.of().formatHex(w.digest()), HexFormat.of().formatHex(r.digest()));
  }
}
