package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Snapshot;
import dev.agentfs.core.TreeDiff;
import java.io.PrintStream;

/**
 * The one-minute story, through the public Java API on the in-memory backstore: build a small
 * workspace, snapshot it, let an "agent" change a branch, show what differs, and show that the
 * snapshot and the main branch did not move.
 */
final class Demo {
  private Demo() {}

  static void run(PrintStream out) throws AgentFsException {
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      main.mkdirs("/project/src");
      main.write("/project/README.md", "# Demo project\n");
      main.write("/project/src/App.java", "class App {\n  void run() {}\n}\n");
      main.write("/project/src/Util.java", "class Util {}\n");
      main.symlink("src/App.java", "/project/entry");
      out.println(Json.event("workspace").put("branch", main.name())
          .put("files", main.list("/project/src")));

      Snapshot base = main.snapshot("base");
      out.println(Json.event("snapshot").put("name", base.name()).put("branch", base.branch()));

      Branch agent = fs.createBranch("agent-1", base);
      agent.write("/project/src/App.java", "class App {\n  void run() { work(); }\n}\n");
      agent.write("/project/src/Feature.java", "class Feature {}\n");
      agent.delete("/project/src/Util.java");
      agent.rename("/project/README.md", "/project/README.txt");
      out.println(Json.event("agent").put("branch", agent.name())
          .put("files", agent.list("/project/src")));

      for (TreeDiff.Change c : fs.diff("base", "agent-1")) {
        Json j = Json.event("diff").put("kind", c.kind().name()).put("path", c.path());
        if (c.oldPath() != null) {
          j.put("from", c.oldPath());
        }
        out.println(j);
      }
      out.println(Json.event("isolation")
          .put("main_has_util", main.exists("/project/src/Util.java"))
          .put("agent_has_util", agent.exists("/project/src/Util.java"))
          .put("main_app", main.readString("/project/src/App.java").contains("work()")
              ? "changed" : "unchanged"));
      fs.deleteBranch("agent-1");
      out.println(Json.event("done").put("branches", fs.branches().size())
          .put("snapshots", fs.snapshots().size()));
    }
  }
}
