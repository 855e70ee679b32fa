package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.CommitResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Overlay a real project directory: {@code AgentFs.builder().lower(dir)} reads the project
 * through on demand and copies a file into the backstore only when it changes, so the project
 * is never touched while a shell edits the mount. {@link AgentFs#commitToLower} then writes the
 * branch's changes back, after a dry run shows the plan. Needs /dev/fuse and root.
 */
public final class OverlayCommit {
  private OverlayCommit() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    Path tmp = Files.createTempDirectory("agentfs-overlay-");
    Path project = Files.createDirectories(tmp.resolve("project/src"));
    Files.writeString(project.resolve("Main.java"), "class Main {}\n");
    Files.writeString(project.resolve("Old.java"), "class Old {}\n");
    project = project.getParent();
    Files.writeString(project.resolve("README"), "v1\n");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().lower(project).build()) {
      Branch agent = fs.createBranch("agent", fs.main());      // base: the project as it was
      fs.mount(agent, mnt);
      sh(mnt, "echo v2 > README && rm src/Old.java && echo 'class New {}' > src/New.java");
      out.println("project README while the agent works: "
          + Files.readString(project.resolve("README")).strip());

      CommitResult plan = fs.commitToLower("agent", true);     // dry run: nothing changes
      plan.applied().forEach(c -> out.println("would " + c.kind() + " " + c.path()));
      CommitResult done = fs.commitToLower("agent", false);
      out.println("applied " + done.applied().size() + " changes, conflicts: "
          + done.conflicts().size());
    }
    out.println("project README now: " + Files.readString(project.resolve("README")).strip());
    try (Stream<Path> s = Files.list(project.resolve("src"))) {
      out.println("project src now: " + s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    try (Stream<Path> s = Files.walk(tmp)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static void sh(Path cwd, String script) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", script).directory(cwd.toFile())
        .redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("sh failed: " + text);
    }
  }
}
