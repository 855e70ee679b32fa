package dev.agentfs.examples.cli;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.CommitResult;
import dev.agentfs.Errno;
import dev.agentfs.Snapshot;
import dev.agentfs.core.TreeDiff;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The README's demo, told as JSON lines ({@code {"event":...,"message":...}}): a sample git
 * workspace is overlaid and mounted, snapshotted, and handed to an "agent" (a shell script bound
 * to its own branch) that breaks it; the branch is rolled back to the snapshot; a second agent
 * does the job right, and its branch is committed back into the workspace. Where FUSE cannot
 * mount, one line says why and the same story runs through the Java API. Temporary directories
 * are removed at the end.
 */
final class Demo {
  static final String FIRST = "agent-1";
  /**
   * The retry gets a new name: a branch deleted and re-created under the same name at a live
   * mount can be shown stale entries the kernel cached for the old one (reported upstream).
   */
  static final String RETRY = "agent-2";
  static final String GREETER = "src/main/java/com/example/Greeter.java";
  static final String FAREWELL = "src/main/java/com/example/Farewell.java";
  static final String TEST = "src/test/java/com/example/GreeterTest.java";
  static final String NOTES = "docs/NOTES.md";

  /** The workspace the agents work on: a small Java project under git. */
  static final Map<String, String> SAMPLE = new LinkedHashMap<>();

  static {
    SAMPLE.put("README.md", "# Greeter\n\nSays hello.\n");
    SAMPLE.put("src/main/java/com/example/App.java", """
        package com.example;

        public class App {
          public static void main(String[] args) {
            System.out.println(new Greeter().greet("world"));
          }
        }
        """);
    SAMPLE.put(GREETER, """
        package com.example;

        public class Greeter {
          public String greet(String who) {
            return "Hello, " + who;
          }
        }
        """);
    SAMPLE.put(NOTES, "Obsolete: greetings say Hello.\n");
    SAMPLE.put(TEST, """
        package com.example;

        class GreeterTest {
          void greets() {
            assert new Greeter().greet("x").equals("Hello, x");
          }
        }
        """);
  }

  /** Agent 1 edits, creates and deletes, but deletes the tests by mistake. */
  static final String AGENT_1 = edit("Hello", "Hi") + " && printf 'class Farewell {}\\n' > "
      + FAREWELL + " && rm " + TEST + " && " + gitDiffStat();

  /** Agent 2 makes the same change and keeps the tests passing. */
  static final String AGENT_2 = edit("Hello", "Hi") + " && printf 'class Farewell {}\\n' > "
      + FAREWELL + " && " + editFile(TEST, "Hello", "Hi") + " && rm " + NOTES + " && "
      + gitDiffStat();

  private final PrintStream out;
  private final boolean git;
  private final @Nullable String noMount;

  private Demo(PrintStream out, boolean git, @Nullable String noMount) {
    this.out = out;
    this.git = git;
    this.noMount = noMount;
  }

  static void run(PrintStream out) throws AgentFsException {
    run(out, null);
  }

  /** With {@code noMount} set, tells the story through the Java API as if FUSE said that. */
  static void run(PrintStream out, @Nullable String noMount) throws AgentFsException {
    Path tmp;
    try {
      tmp = Files.createTempDirectory("agentfs-demo-");
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, null, e);
    }
    Demo d = new Demo(out, hasGit(), noMount);
    d.emit(d.say("start", "AgentFS demo: one workspace, a snapshot, two agents, one rollback,"
        + " one commit"));
    try {
      d.story(tmp);
    } finally {
      deleteTree(tmp);
      d.emit(d.say("cleanup", "unmounted and removed the temporary directories")
          .put("dir", tmp.toString()).put("removed", !Files.exists(tmp)));
    }
  }

  private void story(Path tmp) throws AgentFsException {
    Path ws = tmp.resolve("workspace");
    createWorkspace(ws);
    emit(say("workspace", "a sample project" + (git ? " under git" : " (git is not installed)")
        + " with " + SAMPLE.size() + " files").put("dir", ws.toString())
        .put("files", List.copyOf(SAMPLE.keySet())));

    try (AgentFs fs = AgentFs.builder().lower(ws).build()) {
      Path mnt = tmp.resolve("mnt");
      String why = noMount != null ? noMount : mount(fs, mnt);
      if (why == null) {
        emit(say("mounted", "an overlay of the workspace is mounted; the workspace itself is"
            + " never written until a commit").put("mountpoint", mnt.toString()));
      } else {
        emit(say("no-mount", "cannot mount with FUSE (" + why + "): running the same story"
            + " through the Java API").put("reason", why));
        mnt = null;
      }

      Snapshot base = fs.snapshot("base");
      emit(say("snapshot", "snapshot '" + base.name() + "' of " + base.branch()
          + ": O(1), where every agent starts"));

      fs.createBranch(FIRST, base);
      agent(fs, 1, FIRST, mnt, AGENT_1);
      diff(fs, FIRST);
      Branch main = fs.main();
      emit(say("isolation", "main and the workspace did not move: main still has "
          + "GreeterTest.java, the agent's branch does not")
          .put("main_has_test", main.exists("/" + TEST))
          .put("agent_has_test", fs.branch(FIRST).exists("/" + TEST))
          .put("workspace_has_test", Files.exists(ws.resolve(TEST))));

      fs.deleteBranch(FIRST);
      Branch again = fs.createBranch(RETRY, base);
      emit(say("rollback", "agent 1 deleted the tests: " + FIRST + " deleted, " + RETRY
          + " branched again from '" + base.name() + "'")
          .put("branches", fs.branches().stream().map(Branch::name).sorted().toList())
          .put("has_test", again.exists("/" + TEST)));

      agent(fs, 2, RETRY, mnt, AGENT_2);
      diff(fs, RETRY);
      CommitResult plan = fs.commit(RETRY, true);
      emit(say("commit-plan", "dry run onto " + plan.target() + ": " + plan.applied().size()
          + " changes, " + plan.conflicts().size() + " conflicts").put("clean", plan.clean()));
      CommitResult done = fs.commitToLower(RETRY, false);
      emit(say("commit", "wrote " + done.applied().size() + " changes of " + RETRY
          + " into the workspace on disk, " + done.conflicts().size() + " conflicts")
          .put("applied", done.applied().size()).put("conflicts", done.conflicts().size()));
      if (git) {
        emit(say("workspace-status", "git status in the real workspace now")
            .put("output", sh(ws, "git status --short").lines().toList()));
      }
    }
  }

  /** Mounts main at {@code mnt}; null when mounted, otherwise why FUSE cannot mount here. */
  private static @Nullable String mount(AgentFs fs, Path mnt) {
    if (!Files.exists(Path.of("/dev/fuse"))) {
      return "/dev/fuse is missing";
    }
    if (!isRoot()) {
      return "not running as root";
    }
    try {
      Files.createDirectory(mnt);
      fs.mount(mnt);
      return null;
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  /** Runs agent {@code n} in {@code branch}: a shell bound to it, or the Java API. */
  private void agent(AgentFs fs, int n, String branch, @Nullable Path mnt, String script)
      throws AgentFsException {
    Json j;
    if (mnt != null) {
      Process p = start(mnt, script);
      int pid = (int) p.pid();
      fs.bind(pid, branch);
      String output = release(p);
      j = say("agent", "agent " + n + " (sh, pid " + pid + ") ran bound to " + branch
          + " and saw its branch at the mount").put("pid", pid)
          .put("output", output.lines().map(String::strip).toList());
    } else {
      Branch b = fs.branch(branch);
      b.write("/" + GREETER, b.readString("/" + GREETER).replace("Hello", "Hi"));
      b.write("/" + FAREWELL, "class Farewell {}\n");
      if (n == 1) {
        b.delete("/" + TEST);
      } else {
        b.write("/" + TEST, b.readString("/" + TEST).replace("Hello", "Hi"));
        b.delete("/" + NOTES);
      }
      j = say("agent", "agent " + n + " changed " + branch + " through the Java API");
    }
    emit(j.put("branch", branch));
  }

  private void diff(AgentFs fs, String branch) throws AgentFsException {
    for (TreeDiff.Change c : fs.diff("base", branch)) {
      Json j = say("diff", c.kind() + " " + c.path()).put("branch", branch)
          .put("kind", c.kind().name()).put("path", c.path());
      if (c.oldPath() != null) {
        j.put("from", c.oldPath());
      }
      emit(j);
    }
  }

  // ------------------------------------------------------------------ processes

  /** {@code sh} held at a {@code read} gate, so it touches the mount only once bound. */
  private static Process start(Path mnt, String script) throws AgentFsException {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", "read go && cd \"$MNT\" && " + script)
        .directory(Path.of("/").toFile()).redirectErrorStream(true);
    pb.environment().put("MNT", mnt.toString());
    env(pb);
    try {
      return pb.start();
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, "sh", e);
    }
  }

  private static String release(Process p) throws AgentFsException {
    try {
      try (OutputStream gate = p.getOutputStream()) {
        gate.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new AgentFsException(Errno.EIO, "sh", null, "the agent failed: " + text);
      }
      return text;
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, "sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentFsException(Errno.EINTR, "sh", e);
    } finally {
      p.destroyForcibly();
    }
  }

  private static String sh(Path cwd, String script)
      throws AgentFsException {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", script).directory(cwd.toFile())
        .redirectErrorStream(true);
    env(pb);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new AgentFsException(Errno.EIO, cwd.toString(), null, script + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, cwd.toString(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentFsException(Errno.EINTR, cwd.toString(), e);
    }
  }

  /** A predictable git: no user config, no optional index writes, no pager, no colour. */
  private static void env(ProcessBuilder pb) {
    Map<String, String> env = pb.environment();
    env.put("LC_ALL", "C");
    env.put("GIT_OPTIONAL_LOCKS", "0");
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_AUTHOR_NAME", "demo");
    env.put("GIT_AUTHOR_EMAIL", "demo@example.com");
    env.put("GIT_COMMITTER_NAME", "demo");
    env.put("GIT_COMMITTER_EMAIL", "demo@example.com");
    env.put("GIT_PAGER", "cat");
  }

  private void createWorkspace(Path ws) throws AgentFsException {
    try {
      for (Map.Entry<String, String> e : SAMPLE.entrySet()) {
        Path p = ws.resolve(e.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, e.getValue());
      }
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, ws.toString(), e);
    }
    if (git) {
      sh(ws, "git init -q -b main && git add -A && git commit -q -m 'sample project'");
    }
  }

  private static String edit(String from, String to) {
    return editFile(GREETER, from, to);
  }

  /** Rewrites a file in place (same inode, so the diff says MODIFIED, not a rename). */
  private static String editFile(String file, String from, String to) {
    return "new=$(sed 's/" + from + "/" + to + "/' " + file + ") && printf '%s\\n' \"$new\" > "
        + file;
  }

  private static String gitDiffStat() {
    return "{ if command -v git >/dev/null; then git diff --stat && git status --short; fi; }";
  }

  private static boolean hasGit() {
    try {
      Process p = new ProcessBuilder("sh", "-c", "command -v git").start();
      p.getOutputStream().close();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0");   // effective uid
        }
      }
    } catch (IOException e) {
      // not Linux: no FUSE either
    }
    return false;
  }

  // ------------------------------------------------------------------ output

  private Json say(String event, String message) {
    return Json.event(event).put("message", message);
  }

  private void emit(Json j) {
    out.println(j);
    out.flush();
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
          Files.deleteIfExists(f);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, @Nullable IOException e)
            throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // best effort: a temporary directory
    }
  }
}
