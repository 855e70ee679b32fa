package dev.agentfs.core;

import static dev.agentfs.vfs.Modes.O_CREAT;
import static dev.agentfs.vfs.Modes.O_RDONLY;
import static dev.agentfs.vfs.Modes.O_RDWR;
import static dev.agentfs.vfs.Modes.O_TRUNC;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Vfs;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The limits on branches, snapshots and open handles: the one past the limit fails with its
 * errno (EDQUOT, EDQUOT, ENFILE) naming what was asked for and the setting, changes nothing,
 * and a slot given back can be taken again; a journal written under higher limits still opens.
 */
class LimitsTest {
  private static final Caller ROOT = Caller.ROOT;

  private static AgentFsException fails(Errno errno, org.junit.jupiter.api.function.Executable e) {
    AgentFsException x = assertThrows(AgentFsException.class, e);
    assertEquals(errno, x.errno(), x.getMessage());
    return x;
  }

  @Test
  void defaultsAndChecks() {
    Configuration c = Configuration.defaults();
    assertEquals(10_000, c.maxBranches());
    assertEquals(100_000, c.maxSnapshots());
    assertEquals(1 << 20, c.maxOpenHandles());
    assertThrows(IllegalArgumentException.class, () -> Configuration.builder().maxBranches(0));
    assertThrows(IllegalArgumentException.class, () -> Configuration.builder().maxSnapshots(-1));
    assertThrows(IllegalArgumentException.class,
        () -> Configuration.builder().maxOpenHandles(0));
    Configuration small = Configuration.builder().maxBranches(2).maxSnapshots(0)
        .maxOpenHandles(7).build();
    assertEquals(small.toString(), small.toBuilder().build().toString());
    try (AgentFs fs = AgentFs.builder().configuration(small).build()) {
      assertEquals(new FsCore.Limits(2, 0, 7), fs.core().limits());
    }
  }

  @Test
  void oneBranchTooManyIsEdquotAndDeletingOneMakesRoom() throws Exception {
    try (AgentFs fs = AgentFs.builder().maxBranches(3).build()) {
      var s = fs.snapshot("s");
      fs.createBranch("b1", s);
      fs.createBranch("b2", s);
      AgentFsException e = fails(Errno.EDQUOT, () -> fs.createBranch("b3", s));
      assertEquals("branch b3", e.path());
      assertTrue(e.getMessage().contains("limit of 3 branches")
          && e.getMessage().contains("Configuration.maxBranches"), e.getMessage());
      fails(Errno.EEXIST, () -> fs.createBranch("b2", s));
      assertEquals(List.of("b1", "b2", "main"), fs.core().branchNames());
      fs.deleteBranch("b1");
      fs.createBranch("b3", s);
      // From a branch: the base snapshot made for the refused branch does not stay behind.
      List<String> snaps = fs.core().snapshotNames();
      fails(Errno.EDQUOT, () -> fs.createBranch("b4", fs.main()));
      assertEquals(snaps, fs.core().snapshotNames());
    }
  }

  @Test
  void oneSnapshotTooManyIsEdquotAndChangesNothing() throws Exception {
    try (AgentFs fs = AgentFs.builder().maxSnapshots(2).build()) {
      Branch main = fs.main();
      main.write("/f", "1");
      main.snapshot("s1");
      main.write("/f", "2");
      main.snapshot("s2");
      main.write("/f", "3");
      AgentFsException e = fails(Errno.EDQUOT, () -> main.snapshot("s3"));
      assertEquals("snapshot s3", e.path());
      assertTrue(e.getMessage().contains("limit of 2 snapshots"), e.getMessage());
      fails(Errno.EEXIST, () -> main.snapshot("s2"));
      assertEquals(List.of("s1", "s2"), fs.core().snapshotNames());
      assertEquals("3", main.readString("/f"));
      // A branch from a branch needs a base snapshot: refused the same way, nothing made.
      fails(Errno.EDQUOT, () -> fs.createBranch("task", main));
      assertEquals(List.of("main"), fs.core().branchNames());
      fs.deleteSnapshot("s1");
      main.snapshot("s3");
      assertEquals("3", fs.snapshotView("s3").readString("/f"));
      assertEquals("2", fs.snapshotView("s2").readString("/f"));
    }
  }

  @Test
  void theHandleTableIsSharedAndTheOnePastItIsEnfileBeforeAnythingChanges() throws Exception {
    try (AgentFs fs = AgentFs.builder().maxOpenHandles(4).build()) {
      Branch main = fs.main();
      main.write("/f", "keep");
      main.mkdir("/d");
      var other = fs.createBranch("other", main);
      Vfs v = main.vfs();
      Vfs w = other.vfs();
      long f = main.lstat("/f").ino();
      long d = main.lstat("/d").ino();
      List<long[]> open = new ArrayList<>();
      open.add(new long[] {f, v.open(ROOT, f, O_RDONLY)});
      open.add(new long[] {d, v.opendir(ROOT, d, 0)});
      open.add(new long[] {Vfs.ROOT, v.create(ROOT, Vfs.ROOT, bytes("new"), 0644, O_RDWR, 0)
          .fh()});
      long wf = other.lstat("/f").ino();
      long wfh = w.open(ROOT, wf, O_RDONLY); // another branch, the same table
      assertEquals(4, fs.core().openHandles());

      AgentFsException e = fails(Errno.ENFILE, () -> v.open(ROOT, f, O_RDWR | O_TRUNC));
      assertTrue(e.getMessage().contains("limit of 4 open handles")
          && e.getMessage().contains("Configuration.maxOpenHandles"), e.getMessage());
      // Reading through the API needs a handle too: look without one.
      assertEquals(4, main.lstat("/f").size(), "O_TRUNC did not run");
      fails(Errno.ENFILE, () -> v.opendir(ROOT, d, 0));
      int inodes = fs.core().liveInodes("main");
      fails(Errno.ENFILE, () -> v.create(ROOT, Vfs.ROOT, bytes("refused"), 0644,
          O_RDWR | O_CREAT, 0));
      assertFalse(main.exists("/refused"), "a refused create makes no file");
      fails(Errno.ENFILE, () -> v.tmpfile(ROOT, d, 0600, O_RDWR, 0));
      assertEquals(inodes, fs.core().liveInodes("main"), "nor an O_TMPFILE inode");
      fails(Errno.ENFILE, () -> v.open(ROOT, 999_999, O_RDONLY)); // before the lookup, as Linux
      try (FileSystem nio = main.asFileSystem()) {
        FileSystemException x = assertThrows(FileSystemException.class,
            () -> Files.readString(nio.getPath("/f")));
        assertEquals("ENFILE", x.getReason());
      }
      assertEquals(4, fs.core().openHandles(), "failed opens hold nothing");

      w.release(wf, wfh);
      long again = v.open(ROOT, f, O_RDONLY);
      fails(Errno.ENFILE, () -> w.open(ROOT, wf, O_RDONLY));
      v.release(f, again);
      for (long[] h : open) {
        v.release(h[0], h[1]);
      }
      v.release(f, open.get(0)[1]); // a second release of one handle gives nothing back twice
      assertEquals(0, fs.core().openHandles());
      assertEquals("keep", main.readString("/f"));
    }
  }

  @Test
  void aJournalWrittenUnderHigherLimitsOpensAndThenRefusesMore() throws Exception {
    JournalReplayTest.DurableMemory store = new JournalReplayTest.DurableMemory(new ArrayList<>());
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      for (int i = 0; i < 4; i++) {
        fs.createBranch("b" + i, fs.snapshot("s" + i));
      }
    }
    try (AgentFs fs = AgentFs.builder().backstore(store).maxSnapshots(2).maxBranches(3)
        .build()) {
      assertEquals(4, fs.core().snapshotNames().size());
      assertEquals(5, fs.core().branchNames().size());
      fails(Errno.EDQUOT, () -> fs.snapshot("more"));
      fs.deleteBranch("b0");
      fs.deleteBranch("b1");
      fails(Errno.EDQUOT, () -> fs.createBranch("b9", fs.getSnapshot("s0")));
      fs.deleteBranch("b2");
      fs.createBranch("b9", fs.getSnapshot("s0"));
      fs.deleteSnapshot("s1");
      fs.deleteSnapshot("s2");
      fails(Errno.EDQUOT, () -> fs.snapshot("more"));
      fs.deleteSnapshot("s3");
      fs.snapshot("more");
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
