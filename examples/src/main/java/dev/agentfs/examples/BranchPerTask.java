package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.core.TreeDiff;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A branch per task at one mount: every task's process sees the same path, but reads and
 * writes its own branch. {@link AgentFs#bind(int, String)} routes a process, and the processes
 * it starts, to a branch. The child waits at a {@code read} gate until it is bound, so it
 * never touches the mount unbound. Needs /dev/fuse and root.
 */
public final class BranchPerTask {
  private BranchPerTask() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    Path mnt = Files.createTempDirectory("agentfs-tasks-");
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      main.write("/todo.txt", "shared starting point\n");
      fs.mount(mnt);

      for (String task : List.of("task-1", "task-2")) {
        fs.createBranch(task, main);                          // O(1), base "<task>@base"
        String seen = runBound(fs, task, mnt,
            "echo \"done by $TASK\" > result.txt && echo \"$TASK was here\" >> todo.txt"
                + " && sh -c 'cat todo.txt'");                // a grandchild sees the branch too
        out.print(task + " sees:\n" + seen.indent(2));
      }
      for (String task : List.of("task-1", "task-2")) {
        out.println(task + " result.txt: " + fs.branch(task).readString("/result.txt").strip());
        for (TreeDiff.Change c : fs.diff(task + "@base", task)) {
          out.println("  " + c.kind() + " " + c.path());
        }
      }
      out.println("unbound processes see main: " + Files.readString(mnt.resolve("todo.txt"))
          .strip() + ", result.txt exists: " + Files.exists(mnt.resolve("result.txt")));
    }
    Files.delete(mnt);
  }

  /** Starts {@code sh} held at a gate, binds its pid to {@code branch}, then lets it run. */
  private static String runBound(AgentFs fs, String branch, Path cwdParent, String script)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", "read go && cd \"$MNT\" && " + script)
        .redirectErrorStream(true);
    pb.environment().put("TASK", branch);
    pb.environment().put("MNT", cwdParent.toString());
    Process p = pb.start();
    try {
      fs.bind((int) p.pid(), branch);
      try (OutputStream gate = p.getOutputStream()) {
        gate.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IOException("task " + branch + " failed: " + text);
      }
      return text;
    } finally {
      p.destroyForcibly();
    }
  }
}
