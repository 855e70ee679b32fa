package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Modes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rollback (reset a branch to a snapshot), restore of one path, read-only snapshot views. */
class ResetRestoreTest {

  private static AgentFs seeded() throws AgentFsException {
    AgentFs fs = AgentFs.builder().build();
    Branch main = fs.main();
    main.mkdirs("/src/pkg");
    main.write("/src/pkg/A.java", "A1");
    main.write("/src/pkg/B.java", "B1");
    main.write("/README", "r1");
    return fs;
  }

  @Test
  void resetPutsTheBranchBackAndStaleHandlesSaySo() throws Exception {
    try (AgentFs fs = seeded()) {
      Branch main = fs.main();
      main.snapshot("s");
      main.write("/src/pkg/A.java", "A2");
      main.delete("/README");
      main.write("/new", "n");
      long ino = main.stat("/new").ino();
      long fh = main.vfs().open(Caller.ROOT, ino, Modes.O_RDWR);
      fs.resetBranch("main", "s");
      assertEquals("A1", main.readString("/src/pkg/A.java"));
      assertEquals("r1", main.readString("/README"));
      assertFalse(main.exists("/new"));
      AgentFsException e = assertThrows(AgentFsException.class, () -> main.vfs().write(
          Caller.ROOT, ino, fh, 0, ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8))));
      assertEquals(Errno.ESTALE, e.errno());
      main.vfs().release(ino, fh);
      // The branch keeps working after the reset, and the snapshot did not move.
      main.write("/src/pkg/A.java", "A3");
      assertEquals("A1", fs.snapshotView("s").readString("/src/pkg/A.java"));
    }
  }

  @Test
  void restoreOneDirectoryLeavesTheRestAlone() throws Exception {
    try (AgentFs fs = seeded()) {
      Branch main = fs.main();
      main.snapshot("s");
      main.write("/src/pkg/A.java", "A2");
      main.delete("/src/pkg/B.java");
      main.write("/src/pkg/C.java", "C");
      main.write("/README", "r2");
      fs.restore("main", "s", "/src/pkg");
      assertEquals(List.of("A.java", "B.java"), main.list("/src/pkg").stream().sorted().toList());
      assertEquals("A1", main.readString("/src/pkg/A.java"));
      assertEquals("B1", main.readString("/src/pkg/B.java"));
      assertEquals("r2", main.readString("/README"), "outside the restored path nothing moves");
      fs.restore("main", "s", "/README");
      assertEquals("r1", main.readString("/README"));
    }
  }

  @Test
  void branchResetToAndRestoreTakeTheSnapshotObject() throws Exception {
    try (AgentFs fs = seeded()) {
      Branch main = fs.main();
      Snapshot s = main.snapshot("s");
      Branch agent = fs.createBranch("agent", s);
      agent.write("/src/pkg/A.java", "A-agent");
      agent.write("/README", "r-agent");
      agent.write("/scratch", "x");
      agent.restore("/src/pkg/A.java", s);
      assertEquals("A1", agent.readString("/src/pkg/A.java"));
      assertEquals("r-agent", agent.readString("/README"), "restore touches only its path");
      agent.restore("/scratch", s);
      assertFalse(agent.exists("/scratch"), "a path the snapshot lacks is removed");
      agent.write("/README", "r-agent2");
      agent.mkdirs("/tmpdir");
      agent.resetTo(s);
      assertEquals("r1", agent.readString("/README"));
      assertFalse(agent.exists("/tmpdir"));
      assertEquals("r1", main.readString("/README"), "main is not touched");
      // As a user, restore is permission-checked like any other change.
      main.chmod("/src/pkg", 0555);
      main.write("/src/pkg/A.java", "A2");
      Branch user = main.as(new Caller(4242, 4242, 4242, new int[0]));
      assertEquals(Errno.EACCES, assertThrows(AgentFsException.class,
          () -> user.restore("/src/pkg/A.java", s)).errno());
      Snapshot gone = new Snapshot("gone", "main", 0);
      assertEquals(Errno.ENOENT, assertThrows(AgentFsException.class,
          () -> agent.resetTo(gone)).errno());
    }
  }

  @Test
  void snapshotViewsAreReadOnly() throws Exception {
    try (AgentFs fs = seeded()) {
      fs.main().snapshot("s");
      Branch view = fs.snapshotView("s");
      assertEquals("A1", view.readString("/src/pkg/A.java"));
      AgentFsException e = assertThrows(AgentFsException.class, () -> view.write("/x", "x"));
      assertEquals(Errno.EROFS, e.errno());
      assertTrue(fs.branches().stream().noneMatch(b -> b.name().startsWith("@")),
          "views are not branches");
    }
  }

  @Test
  void onlyRootMayHaveTheServerMountASnapshot() throws Exception {
    try (AgentFs fs = seeded()) {
      fs.snapshot("s");
      Caller user = new Caller(4242, 1000, 1000, new int[0]);
      AgentFsException e = assertThrows(AgentFsException.class, () -> fs.control()
          .mountSnapshot(user, "s", java.nio.file.Path.of("/tmp")));
      assertEquals(Errno.EPERM, e.errno());
      assertTrue(fs.mounts().isEmpty());
      assertEquals(Errno.ENOENT, assertThrows(AgentFsException.class, () -> fs.control()
          .mountSnapshot(Caller.ROOT, "nope", java.nio.file.Path.of("/tmp"))).errno());
    }
  }
}
