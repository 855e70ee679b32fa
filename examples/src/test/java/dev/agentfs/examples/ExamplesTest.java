package dev.agentfs.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.junit.AgentFsExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs every example as its main would and checks what it prints, so none of them rots. */
class ExamplesTest {
  @FunctionalInterface
  interface Example {
    void run(PrintStream out) throws Exception;
  }

  private static List<String> run(Example e) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    e.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    return buf.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static void has(List<String> lines, String line) {
    assertTrue(lines.contains(line), () -> "no line '" + line + "' in\n" + String.join("\n", lines));
  }

  @Test
  void embedMount() throws Exception {
    AgentFsExtension.requireFuse();
    List<String> out = run(EmbedMount::run);
    assertTrue(out.get(0).startsWith("mounted at /"), out.get(0));
    has(out, "  hello from Java");
    has(out, "  from-sh.txt");
    has(out, "java reads from-sh.txt: written by sh");
    assertTrue(out.get(out.size() - 1).endsWith("is empty again: true"), out::toString);
  }

  @Test
  void branchPerTask() throws Exception {
    AgentFsExtension.requireFuse();
    List<String> out = run(BranchPerTask::run);
    assertEquals(List.of(
        "task-1 sees:", "  shared starting point", "  task-1 was here",
        "task-2 sees:", "  shared starting point", "  task-2 was here",
        "task-1 result.txt: done by task-1", "  ADDED /result.txt", "  MODIFIED /todo.txt",
        "task-2 result.txt: done by task-2", "  ADDED /result.txt", "  MODIFIED /todo.txt",
        "unbound processes see main: shared starting point, result.txt exists: false"), out);
  }

  @Test
  void snapshotRestore() throws Exception {
    List<String> out = run(SnapshotRestore::run);
    has(out, "snapshot 'good' of main");
    has(out, "  DELETED /src/util");
    has(out, "  MODIFIED /src/App.java");
    has(out, "  ADDED /scratch.tmp");
    has(out, "good-view has App.java: class App { void run() {} }");
    assertTrue(out.stream().anyMatch(l -> l.startsWith("dry run onto main: ")
        && l.endsWith("clean=true")), out::toString);
    has(out, "main restored: App.java=class App { void run() {} }, util=[Strings.java],"
        + " scratch.tmp exists=false");
  }

  @Test
  void overlayCommit() throws Exception {
    AgentFsExtension.requireFuse();
    List<String> out = run(OverlayCommit::run);
    has(out, "project README while the agent works: v1");
    has(out, "would MODIFIED /README");
    has(out, "would DELETED /src/Old.java");
    has(out, "would ADDED /src/New.java");
    has(out, "applied 3 changes, conflicts: 0");
    has(out, "project README now: v2");
    has(out, "project src now: [Main.java, New.java]");
  }

  @Test
  void customBackstore() throws Exception {
    List<String> out = run(CustomBackstore::run);
    // The memory backstore keeps 64 KiB chunks (a partial one rounded up to a power of two),
    // and the branch's append unshares only the last chunk.
    has(out, "after a 100 KiB file: used 128 KiB of 256 KiB");
    has(out, "after a branch appended 1 byte: used 192 KiB");
    has(out, "a 200 KiB file fails: ENOSPC");
    assertTrue(out.stream().anyMatch(l -> l.matches("calls: \\d+ newContent, [1-9]\\d* copy,"
        + " [1-9]\\d* refused")), out::toString);
  }

  @Test
  void inProcessNio() throws Exception {
    List<String> out = run(InProcessNio::run);
    has(out, "task tree: [/, /notes.txt, /src, /src/Main.java]");
    has(out, "task notes.txt lines: 3");
    has(out, "main still has App.java: true, notes: 2 lines");
  }
}
