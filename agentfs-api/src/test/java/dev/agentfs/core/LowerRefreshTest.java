package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overlay's rule for lower changes made by others, driven by the injectable clock: an
 * untouched lower entry is compared with the host again once {@code lowerRefresh} has passed
 * (changed times re-read its attributes, and re-list a directory); what the branch changed
 * never follows the lower again; snapshots keep what they saw.
 */
class LowerRefreshTest {
  private static final long SECOND = 1_000_000_000L;
  private static final FileTime OLD = FileTime.fromMillis(1_600_000_000_000L);

  @TempDir Path tmp;
  Path lower;
  final AtomicLong clock = new AtomicLong(1_700_000_000L * SECOND);

  @BeforeEach
  void makeLower() throws Exception {
    lower = Files.createDirectories(tmp.resolve("ws"));
    Files.createDirectories(lower.resolve("dir/sub"));
    Files.writeString(lower.resolve("dir/a"), "a\n");
    Files.writeString(lower.resolve("dir/b"), "b\n");
    Files.writeString(lower.resolve("dir/sub/s"), "s\n");
    Files.createDirectories(lower.resolve("mine"));
    Files.writeString(lower.resolve("mine/m"), "m\n");
    // Times well in the past, so that a change now always moves them.
    for (String p : List.of("dir/a", "dir/b", "dir/sub/s", "dir/sub", "dir", "mine/m", "mine")) {
      Files.setLastModifiedTime(lower.resolve(p), OLD);
    }
  }

  private AgentFs overlay(Duration refresh) {
    return AgentFs.builder().lower(lower).clock(clock::get).lowerRefresh(refresh).build();
  }

  private void changeLower() throws Exception {
    Files.writeString(lower.resolve("dir/a"), "a changed by the host\n");
    Files.delete(lower.resolve("dir/b"));
    Files.writeString(lower.resolve("dir/c"), "c\n");
    Files.setPosixFilePermissions(lower.resolve("dir/sub/s"),
        PosixFilePermissions.fromString("rw-------"));
    Files.writeString(lower.resolve("mine/added"), "x\n");
  }

  @Test
  void untouchedEntriesFollowTheLowerAfterTheInterval() throws Exception {
    try (AgentFs fs = overlay(Duration.ofSeconds(1))) {
      Branch b = fs.main();
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList());
      assertEquals("a\n", b.readString("/dir/a"));
      assertEquals(0644, b.stat("/dir/sub/s").permissions());
      long inoA = b.stat("/dir/a").ino();

      changeLower();
      clock.addAndGet(SECOND / 2);
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList(),
          "within the interval the loaded listing stands");
      assertEquals(OLD.toMillis(), b.stat("/dir/a").mtimeNs() / 1_000_000,
          "and so do loaded attributes (size and bytes are always the host's)");

      clock.addAndGet(SECOND / 2);
      assertEquals(List.of("a", "c", "sub"), b.list("/dir").stream().sorted().toList());
      assertEquals(Files.size(lower.resolve("dir/a")), b.stat("/dir/a").size());
      assertEquals("a changed by the host\n", b.readString("/dir/a"));
      assertEquals(inoA, b.stat("/dir/a").ino(), "modified in place: the same inode");
      assertEquals(Files.getLastModifiedTime(lower.resolve("dir/a")).toMillis(),
          b.stat("/dir/a").mtimeNs() / 1_000_000);
      assertEquals("c\n", b.readString("/dir/c"));
      assertEquals(0600, b.stat("/dir/sub/s").permissions());
      AgentFsException gone = assertThrows(AgentFsException.class, () -> b.stat("/dir/b"));
      assertEquals(Errno.ENOENT, gone.errno());
      assertEquals(0, fs.core().liveContents(), "following the lower stores nothing");
    }
  }

  @Test
  void whatTheBranchChangedNeverFollowsTheLower() throws Exception {
    try (AgentFs fs = overlay(Duration.ofSeconds(1))) {
      Branch b = fs.main();
      b.append("/dir/a", "branch\n".getBytes()); // copy-up of a file
      b.write("/mine/new", "n\n"); // /mine is the branch's own directory now
      b.chmod("/dir/sub/s", 0640); // metadata-only copy-up
      b.delete("/dir/b"); // a whiteout, in a directory the branch changed
      assertEquals(1, fs.core().copyUps());

      changeLower();
      Files.writeString(lower.resolve("dir/b"), "b is back in the lower\n");
      clock.addAndGet(10 * SECOND);
      assertEquals("a\nbranch\n", b.readString("/dir/a"));
      assertEquals(0640, b.stat("/dir/sub/s").permissions());
      assertEquals(List.of("m", "new"), b.list("/mine").stream().sorted().toList());
      assertEquals(List.of("a", "sub"), b.list("/dir").stream().sorted().toList(),
          "a directory the branch changed keeps its own names");
    }
  }

  @Test
  void aChangedFileKeepsALowerDirectoryThatTheLowerRemoved() throws Exception {
    try (AgentFs fs = overlay(Duration.ofSeconds(1))) {
      Branch b = fs.main();
      b.append("/dir/sub/s", "kept\n".getBytes());
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList());
      Files.delete(lower.resolve("dir/sub/s"));
      Files.delete(lower.resolve("dir/sub"));
      Files.delete(lower.resolve("dir/a"));
      clock.addAndGet(SECOND);
      assertEquals(List.of("b", "sub"), b.list("/dir").stream().sorted().toList(),
          "untouched a goes; sub holds a copied-up file and stays");
      assertEquals("s\nkept\n", b.readString("/dir/sub/s"));
    }
  }

  @Test
  void zeroComparesOnEveryUseAndForeverNever() throws Exception {
    try (AgentFs always = overlay(Duration.ZERO)) {
      Branch b = always.main();
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList());
      changeLower();
      assertEquals(List.of("a", "c", "sub"), b.list("/dir").stream().sorted().toList());
      assertEquals("a changed by the host\n", b.readString("/dir/a"));
    }
    makeLowerAgain();
    try (AgentFs never = overlay(ChronoUnit.FOREVER.getDuration())) {
      Branch b = never.main();
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList());
      changeLower();
      clock.addAndGet(1_000_000 * SECOND);
      assertEquals(List.of("a", "b", "sub"), b.list("/dir").stream().sorted().toList());
      assertTrue(b.exists("/dir/b"));
      assertFalse(b.exists("/dir/c"));
    }
  }

  private void makeLowerAgain() throws Exception {
    Files.writeString(lower.resolve("dir/a"), "a\n");
    Files.writeString(lower.resolve("dir/b"), "b\n");
    Files.delete(lower.resolve("dir/c"));
    Files.delete(lower.resolve("mine/added"));
    for (String p : List.of("dir/a", "dir/b", "dir", "mine")) {
      Files.setLastModifiedTime(lower.resolve(p), OLD);
    }
  }

  @Test
  void snapshotsKeepWhatTheySawAndBranchesOfThemFollowTheLower() throws Exception {
    try (AgentFs fs = overlay(Duration.ofSeconds(1))) {
      Branch main = fs.main();
      assertEquals(List.of("a", "b", "sub"), main.list("/dir").stream().sorted().toList());
      main.snapshot("before");
      changeLower();
      clock.addAndGet(SECOND);
      assertEquals(List.of("a", "c", "sub"), main.list("/dir").stream().sorted().toList());
      Branch view = fs.snapshotView("before");
      assertEquals(List.of("a", "b", "sub"), view.list("/dir").stream().sorted().toList(),
          "a snapshot is frozen");
      Branch task = fs.createBranch("task", fs.getSnapshot("before"));
      assertEquals(List.of("a", "c", "sub"), task.list("/dir").stream().sorted().toList(),
          "a writable branch of it follows the lower like main");
    }
  }
}
