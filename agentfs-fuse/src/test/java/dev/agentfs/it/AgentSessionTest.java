package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.CommitResult;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.spi.MountHandle;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole story an agent runtime lives through, at one mount over a real workspace: two
 * agents in two branches (shells that spawn children), isolation both ways and from the
 * unbound view, an exact diff, a commit into the workspace, a conflict when the workspace
 * changed underneath, and the other branch deleted with its storage reclaimed.
 */
class AgentSessionTest {
  @TempDir Path tmp;
  Path ws;
  Path mnt;

  @BeforeEach
  void workspace() throws Exception {
    Fuse.require();
    ws = Files.createDirectories(tmp.resolve("ws"));
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    Proc.sh(ws, """
        mkdir -p src/app docs && echo 'class Main {}' > src/app/Main.java
        echo 'class Util {}' > src/app/Util.java && echo notes > docs/NOTES.md && echo v1 > VERSION
        """).ok();
  }

  /** Runs {@code script} in a shell bound to {@code branch} (held at a gate until bound). */
  private String agent(AgentFs fs, String branch, String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "read go; cd " + mnt + " && " + script)
        .redirectErrorStream(true).start();
    try {
      fs.bind((int) p.pid(), branch);
      try (OutputStream in = p.getOutputStream()) {
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      return out;
    } finally {
      p.destroyForcibly();
    }
  }

  private static List<String> changes(List<TreeDiff.Change> cs) {
    return cs.stream().map(c -> c.kind() + " " + c.path()
        + (c.oldPath() != null ? " <- " + c.oldPath() : "")).sorted().toList();
  }

  @Test
  void twoAgentsDiffCommitConflictAndCleanUp() throws Exception {
    try (AgentFs fs = AgentFs.builder().lower(ws).build(); MountHandle h = fs.mount(mnt)) {
      fs.snapshot("base");
      fs.createBranch("a", fs.getSnapshot("base"));
      fs.createBranch("b", fs.getSnapshot("base"));

      agent(fs, "a", """
          echo 'class Main { int a; }' > src/app/Main.java && rm src/app/Util.java
          mv docs/NOTES.md docs/README.md && sh -c 'echo from-child > src/app/Child.java'
          """);
      agent(fs, "b", "echo 'class B {}' > src/app/B.java && echo v2 > VERSION");

      // Isolation both ways, and from the unbound view (main), and the workspace untouched.
      assertEquals("class Main { int a; }\n", agent(fs, "a", "cat src/app/Main.java"));
      assertEquals("class Main {}\n", agent(fs, "b", "cat src/app/Main.java"));
      assertEquals("missing\n", agent(fs, "a", "cat src/app/B.java 2>/dev/null || echo missing"));
      assertEquals("v1\n", agent(fs, "a", "cat VERSION"));
      assertTrue(Files.exists(mnt.resolve("src/app/Util.java")));
      assertFalse(Files.exists(mnt.resolve("src/app/Child.java")));
      assertEquals("class Main {}\n", Files.readString(ws.resolve("src/app/Main.java")));

      assertEquals(List.of("ADDED /src/app/Child.java", "DELETED /src/app/Util.java",
          "MODIFIED /src/app/Main.java", "RENAMED /docs/README.md <- /docs/NOTES.md"),
          changes(fs.diff("base", "a")));

      // Commit a into the workspace; a human edits VERSION meanwhile, which b also changed.
      CommitResult ra = fs.commitToLower("a", false);
      assertTrue(ra.clean(), ra.conflicts().toString());
      assertEquals("class Main { int a; }\n", Files.readString(ws.resolve("src/app/Main.java")));
      assertEquals("from-child\n", Files.readString(ws.resolve("src/app/Child.java")));
      assertFalse(Files.exists(ws.resolve("src/app/Util.java")));
      assertTrue(Files.exists(ws.resolve("docs/README.md")));
      Files.writeString(ws.resolve("VERSION"), "v1-hotfix\n");
      CommitResult rb = fs.commitToLower("b", true);
      assertEquals(List.of("MODIFIED /VERSION"), changes(rb.conflicts().stream()
          .map(CommitResult.Conflict::change).toList()));
      assertEquals("v1-hotfix\n", Files.readString(ws.resolve("VERSION")), "never overwritten");

      // Delete b: its storage goes (the memory backstore returns to what a and main hold).
      long before = fs.backstore().usedBytes();
      fs.deleteBranch("b");
      assertTrue(fs.backstore().usedBytes() < before,
          "deleting a branch frees its content: " + before + " -> " + fs.backstore().usedBytes());
      assertFalse(fs.branches().stream().anyMatch(b -> b.name().equals("b")));
    }
  }
}
