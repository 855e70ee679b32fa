package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.core.TreeDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Committing a branch back: onto its parent branch and onto the overlay's workspace. */
class CommitTest {
  @TempDir Path tmp;

  private static List<String> kinds(List<TreeDiff.Change> cs) {
    return cs.stream().map(c -> c.kind() + " " + c.path()).sorted().toList();
  }

  private static void seed(Branch b) throws AgentFsException {
    b.mkdirs("/src/pkg");
    b.write("/src/pkg/A.java", "class A {}");
    b.write("/src/pkg/B.java", "class B {}");
    b.write("/README", "readme");
  }

  private static void agent(Branch t) throws AgentFsException {
    t.write("/src/pkg/A.java", "class A { int x; }");
    t.delete("/src/pkg/B.java");
    t.mkdirs("/src/new");
    t.write("/src/new/C.java", "class C {}");
    t.rename("/README", "/README.md");
    t.chmod("/src/pkg/A.java", 0600);
    t.symlink("pkg/A.java", "/src/link");
  }

  @Test
  void commitAppliesEveryChangeAndADryRunChangesNothing() throws Exception {
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      seed(main);
      Branch task = fs.createBranch("task", main);
      agent(task);
      CommitResult dry = fs.commit("task", true);
      assertTrue(dry.clean());
      assertEquals("main", dry.target());
      assertEquals(List.of("ADDED /src/link", "ADDED /src/new", "ADDED /src/new/C.java",
          "DELETED /src/pkg/B.java", "MODIFIED /src/pkg/A.java", "RENAMED /README.md"),
          kinds(dry.applied()));
      assertTrue(main.exists("/src/pkg/B.java"), "a dry run changes nothing");

      CommitResult done = fs.commit("task", false);
      assertTrue(done.clean(), done.conflicts().toString());
      assertEquals("class A { int x; }", main.readString("/src/pkg/A.java"));
      assertEquals(0600, main.stat("/src/pkg/A.java").permissions());
      assertFalse(main.exists("/src/pkg/B.java"));
      assertEquals("class C {}", main.readString("/src/new/C.java"));
      assertEquals("readme", main.readString("/README.md"));
      assertFalse(main.exists("/README"));
      assertEquals("pkg/A.java", main.readlink("/src/link"));
      assertEquals(List.of(), main.list("/").stream().filter(n -> n.contains("agentfs-commit"))
          .toList(), "no temporary files left");
    }
  }

  @Test
  void changesTheTargetAlsoMadeAreConflictsAndAreNotApplied() throws Exception {
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      seed(main);
      Branch task = fs.createBranch("task", main);
      agent(task);
      main.write("/src/pkg/A.java", "main's own edit");
      main.write("/src/new-in-main", "x");
      CommitResult r = fs.commit("task", false);
      assertEquals(List.of("MODIFIED /src/pkg/A.java"),
          kinds(r.conflicts().stream().map(CommitResult.Conflict::change).toList()));
      assertEquals("main's own edit", main.readString("/src/pkg/A.java"), "never overwritten");
      assertFalse(main.exists("/src/pkg/B.java"), "non-conflicting changes still apply");
      assertEquals("class C {}", main.readString("/src/new/C.java"));
    }
  }

  @Test
  void commitOntoTheWorkspaceOfAnOverlay() throws Exception {
    Path ws = Files.createDirectories(tmp.resolve("ws/src/pkg"));
    Files.writeString(ws.resolve("A.java"), "class A {}");
    Files.writeString(ws.resolve("B.java"), "class B {}");
    Files.writeString(ws.resolve("Keep.java"), "keep");
    Path root = tmp.resolve("ws");
    try (AgentFs fs = AgentFs.builder().lower(root).build()) {
      Branch task = fs.createBranch("task", fs.main());
      task.write("/src/pkg/A.java", "class A { int y; }");
      task.delete("/src/pkg/B.java");
      task.write("/src/pkg/Keep.java", "agent edit");
      task.write("/NEW.txt", "new");
      // Someone edits Keep.java in the workspace while the agent works.
      Files.writeString(ws.resolve("Keep.java"), "edited by a human");
      CommitResult r = fs.commitToLower("task", false);
      assertEquals(List.of("MODIFIED /src/pkg/Keep.java"),
          kinds(r.conflicts().stream().map(CommitResult.Conflict::change).toList()));
      assertEquals("class A { int y; }", Files.readString(ws.resolve("A.java")));
      assertFalse(Files.exists(ws.resolve("B.java")));
      assertEquals("new", Files.readString(root.resolve("NEW.txt")));
      assertEquals("edited by a human", Files.readString(ws.resolve("Keep.java")));
    }
  }

  @Test
  void branchesWithoutABaseCannotBeCommitted() {
    try (AgentFs fs = AgentFs.builder().build()) {
      AgentFsException e = assertThrows(AgentFsException.class, () -> fs.commit("main", false));
      assertEquals(Errno.EINVAL, e.errno());
    }
  }
}
