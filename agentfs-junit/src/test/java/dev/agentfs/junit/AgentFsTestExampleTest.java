package dev.agentfs.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.core.TreeDiff;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How to test code that works in an AgentFS sandbox: the example the README points to. Each
 * test gets its own filesystem; nothing to set up or tear down.
 */
@AgentFsTest
class AgentFsTestExampleTest {
  /** Injected before each test (in memory), closed after it. */
  AgentFs fs;

  @Test
  void anAgentsChangesStayInItsBranch() throws Exception {
    Branch main = fs.main();
    main.write("/notes.txt", "v1");
    Branch task = fs.createBranch("task", main);
    task.write("/notes.txt", "v2");

    assertEquals("v1", main.readString("/notes.txt"));
    List<TreeDiff.Change> diff = fs.diff("task@base", "task");
    assertEquals(List.of("MODIFIED /notes.txt"),
        diff.stream().map(c -> c.kind() + " " + c.path()).toList());
  }

  /** A real mount over a generated sample workspace: any tool sees it, the host copy stays. */
  @Test
  @AgentFsTest(mounted = true, lower = AgentFsTest.SAMPLE)
  void toolsEditTheMountedWorkspace(TestFs t) throws Exception {
    Files.writeString(t.path("src/main/java/com/example/New.java"), "class New {}\n");
    Files.delete(t.path("README.md"));

    assertTrue(t.main().exists("/src/main/java/com/example/New.java"));
    assertFalse(t.main().exists("/README.md"));
    assertTrue(Files.exists(t.lower().orElseThrow().resolve("README.md")), "lower untouched");
  }
}
