package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Snapshot;
import dev.agentfs.vfs.Attr;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlay mode through the Java API: read-through, copy-up, whiteouts, opaque dirs. */
class OverlayTest {
  @TempDir Path tmp;
  Path lower;
  String lowerHash;

  @BeforeEach
  void makeLower() throws Exception {
    lower = Files.createDirectories(tmp.resolve("ws"));
    Files.createDirectories(lower.resolve("src/pkg"));
    Files.writeString(lower.resolve("README"), "readme\n");
    Files.writeString(lower.resolve("src/pkg/A.java"), "class A {}\n");
    Files.writeString(lower.resolve("src/pkg/B.java"), "class B {}\n");
    Files.write(lower.resolve("src/big.bin"), new byte[300_000]);
    Files.createSymbolicLink(lower.resolve("link"), Path.of("src/pkg/A.java"));
    Files.createSymbolicLink(lower.resolve("escape"), Path.of("/etc/hostname"));
    Files.createLink(lower.resolve("src/hard"), lower.resolve("README"));
    Files.setPosixFilePermissions(lower.resolve("src/pkg/B.java"),
        PosixFilePermissions.fromString("rwx------"));
    Files.getFileAttributeView(lower.resolve("README"), UserDefinedFileAttributeView.class)
        .write("origin", StandardCharsets.UTF_8.encode("lower"));
    lowerHash = hash(lower);
  }

  /** Names, modes, sizes, contents, link targets and times of the whole lower tree. */
  static String hash(Path root) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    List<Path> all = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted().forEach(all::add);
    }
    for (Path p : all) {
      md.update(root.relativize(p).toString().getBytes(StandardCharsets.UTF_8));
      var a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
      md.update((a.get("mode") + " " + a.get("size") + " " + a.get("lastModifiedTime") + " "
          + a.get("nlink")).getBytes(StandardCharsets.UTF_8));
      if (Files.isSymbolicLink(p)) {
        md.update(Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8));
      } else if (Files.isRegularFile(p)) {
        md.update(Files.readAllBytes(p));
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private AgentFs overlay() {
    return AgentFs.builder().lower(lower).build();
  }

  @Test
  void readsComeFromTheLowerAndCreateNothing() throws Exception {
    try (AgentFs fs = overlay()) {
      Branch b = fs.main();
      assertEquals(List.of("README", "escape", "link", "src"),
          b.list("/").stream().sorted().toList());
      assertEquals("class A {}\n", b.readString("/src/pkg/A.java"));
      assertEquals("class A {}\n", b.readString("/link"));
      assertEquals("src/pkg/A.java", b.readlink("/link"));
      assertEquals("/etc/hostname", b.readlink("/escape"));
      assertEquals(300_000, b.stat("/src/big.bin").size());
      assertEquals(0700, b.stat("/src/pkg/B.java").permissions());
      assertEquals("lower", new String(b.getxattr("/README", "user.origin")));
      Attr readme = b.stat("/README");
      assertEquals(readme.ino(), b.stat("/src/hard").ino());
      assertEquals(2, readme.nlink());
      assertEquals(Files.getLastModifiedTime(lower.resolve("README")).toMillis(),
          readme.mtimeNs() / 1_000_000);
      assertEquals(0, fs.core().liveContents(), "reading must not create content");
      assertEquals(0, fs.backstore().usedBytes());
    }
    assertEquals(lowerHash, hash(lower));
  }

  @Test
  void firstWriteCopiesUpAndMetadataChangesDoNot() throws Exception {
    try (AgentFs fs = overlay()) {
      Branch b = fs.main();
      long ino = b.stat("/src/pkg/A.java").ino();
      b.chmod("/src/pkg/A.java", 0600);
      b.setxattr("/src/pkg/A.java", "user.note", "x".getBytes());
      assertEquals(0, fs.core().copyUps(), "metadata changes keep reading the lower data");
      assertEquals("class A {}\n", b.readString("/src/pkg/A.java"));
      b.append("/src/pkg/A.java", "// more\n".getBytes());
      assertEquals(1, fs.core().copyUps());
      assertEquals("class A {}\n// more\n", b.readString("/src/pkg/A.java"));
      assertEquals(ino, b.stat("/src/pkg/A.java").ino(), "copy-up keeps the inode number");
      assertEquals(0600, b.stat("/src/pkg/A.java").permissions());
      b.truncate("/src/big.bin", 0);
      assertEquals(1, fs.core().copyUps(), "truncating to zero needs no copy-up");
      assertEquals(0, b.stat("/src/big.bin").size());
    }
    assertEquals(lowerHash, hash(lower));
  }

  @Test
  void deletesLeaveWhiteoutsAndRecreatedDirectoriesAreOpaque() throws Exception {
    try (AgentFs fs = overlay()) {
      Branch b = fs.main();
      b.delete("/README");
      assertFalse(b.exists("/README"));
      assertEquals(1, b.stat("/src/hard").nlink());
      assertThrows(AgentFsException.class, () -> b.delete("/src/pkg"));
      b.deleteRecursively("/src/pkg");
      b.mkdir("/src/pkg");
      assertEquals(List.of(), b.list("/src/pkg"), "a re-created directory hides the lower");
      b.rename("/src/big.bin", "/moved.bin");
      assertEquals(300_000, b.stat("/moved.bin").size());
      assertEquals(0, fs.core().copyUps(), "rename needs no copy-up");
      b.link("/moved.bin", "/moved-link");
      assertEquals(2, b.stat("/moved.bin").nlink());
    }
    assertEquals(lowerHash, hash(lower));
  }

  @Test
  void snapshotsAndBranchesIsolateOverlayChanges() throws Exception {
    try (AgentFs fs = overlay()) {
      Branch main = fs.main();
      main.write("/src/pkg/A.java", "changed in main");
      Snapshot s = main.snapshot("s");
      Branch task = fs.createBranch("task", s);
      task.delete("/src/pkg/B.java");
      task.write("/README", "task readme");
      assertEquals("changed in main", task.readString("/src/pkg/A.java"));
      assertTrue(main.exists("/src/pkg/B.java"));
      assertEquals("readme\n", main.readString("/README"));
      // A fresh branch of the snapshot loads untouched directories from the lower too.
      Branch other = fs.createBranch("other", s);
      assertEquals("class B {}\n", other.readString("/src/pkg/B.java"));
      List<TreeDiff.Change> d = fs.diff("s", "task");
      assertEquals(List.of("DELETED /src/pkg/B.java", "MODIFIED /README"),
          d.stream().map(c -> c.kind() + " " + c.path()).sorted(
              (x, y) -> x.compareTo(y)).toList());
    }
    assertEquals(lowerHash, hash(lower));
  }

  @Test
  void inodeNumbersAreStableAcrossInstancesAndBranches() throws Exception {
    long a;
    long dir;
    try (AgentFs fs = overlay()) {
      a = fs.main().stat("/src/pkg/A.java").ino();
      dir = fs.main().stat("/src/pkg").ino();
      Branch t = fs.createBranch("t", fs.main().snapshot("s"));
      assertEquals(a, t.stat("/src/pkg/A.java").ino());
    }
    try (AgentFs fs = overlay()) {
      assertEquals(a, fs.main().stat("/src/pkg/A.java").ino());
      assertEquals(dir, fs.main().stat("/src/pkg").ino());
      fs.main().write("/new", "n");
      assertNotEquals(a, fs.main().stat("/new").ino());
    }
  }

  @Test
  void journaledOverlaySurvivesRestart() throws Exception {
    JournalReplayTest.DurableMemory store =
        new JournalReplayTest.DurableMemory(new ArrayList<>());
    String before;
    try (AgentFs fs = AgentFs.builder().backstore(store).lower(lower).build()) {
      Branch b = fs.main();
      b.write("/src/pkg/A.java", "edited");
      b.delete("/src/pkg/B.java");
      b.chmod("/README", 0600);
      b.rename("/src/big.bin", "/big-moved.bin");
      b.mkdirs("/new/dir");
      b.deleteRecursively("/src/pkg");
      b.mkdir("/src/pkg");
      b.write("/src/pkg/C.java", "class C {}");
      before = JournalReplayTest.dump(b);
    }
    try (AgentFs fs = AgentFs.builder().backstore(store).lower(lower).build()) {
      assertEquals(before, JournalReplayTest.dump(fs.main()));
    }
    assertEquals(lowerHash, hash(lower));
  }

  @Test
  void filesMadeAfterARestartNeverTakeALowerInodeNumber() throws Exception {
    JournalReplayTest.DurableMemory store =
        new JournalReplayTest.DurableMemory(new ArrayList<>());
    try (AgentFs fs = AgentFs.builder().backstore(store).lower(lower).build()) {
      fs.main().append("/src/pkg/A.java", "// copied up, so logged\n".getBytes());
    }
    try (AgentFs fs = AgentFs.builder().backstore(store).lower(lower).build()) {
      Branch b = fs.main();
      java.util.Set<Long> lowerInos = new java.util.HashSet<>();
      try (Stream<Path> s = Files.walk(lower)) {
        for (Path p : s.toList()) {
          lowerInos.add(b.lstat("/" + lower.relativize(p)).ino());
        }
      }
      for (int i = 0; i < 50; i++) {
        long ino = b.stat(i % 2 == 0 ? mkfile(b, "/f" + i) : mkdir(b, "/d" + i)).ino();
        assertTrue(ino < Lower.INO_BASE, "inode " + Long.toHexString(ino));
        assertFalse(lowerInos.contains(ino), "inode " + ino + " is a lower entry's");
      }
      assertEquals("class A {}\n// copied up, so logged\n", b.readString("/src/pkg/A.java"));
      assertTrue(b.stat("/src/pkg").isDirectory());
    }
  }

  private static String mkfile(Branch b, String p) throws AgentFsException {
    b.write(p, "x");
    return p;
  }

  private static String mkdir(Branch b, String p) throws AgentFsException {
    b.mkdir(p);
    return p;
  }

  @Test
  void deletingATopLevelLowerFileShowsInTheDiff() throws Exception {
    try (AgentFs fs = overlay()) {
      Branch task = fs.createBranch("task", fs.main());
      task.delete("/link");
      assertEquals(List.of("DELETED /link"), fs.diff("task@base", "task").stream()
          .map(c -> c.kind() + " " + c.path()).toList());
    }
  }

  @Test
  void aMissingLowerIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AgentFs.builder().lower(tmp.resolve("nope")).build());
    assertTrue(e.getMessage().contains("nope"), e.getMessage());
  }

  @Test
  void lowerFileReadsAreByteExact() throws Exception {
    byte[] data = new byte[1 << 20];
    new java.util.Random(7).nextBytes(data);
    Files.write(lower.resolve("random.bin"), data);
    try (AgentFs fs = overlay()) {
      assertArrayEquals(data, fs.main().read("/random.bin"));
      fs.main().append("/random.bin", new byte[] {1});
      byte[] after = fs.main().read("/random.bin");
      assertEquals(data.length + 1, after.length);
    }
  }
}
