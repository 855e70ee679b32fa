package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.agentfs.junit.AgentFsExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private List<String> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  /** The story both ways: every line is {"event":...,"message":...}, in this order. */
  private static void assertStory(List<String> lines, String mode) {
    assertTrue(lines.stream().allMatch(l -> l.startsWith("{\"event\":\"")
        && l.contains(",\"message\":\"")), lines::toString);
    List<String> events = lines.stream()
        .map(l -> l.substring(10, l.indexOf('"', 10))).distinct().toList();
    List<String> expected = new java.util.ArrayList<>(List.of("start", "workspace", mode,
        "snapshot", "agent", "diff", "isolation", "rollback", "commit-plan", "commit",
        "workspace-status", "cleanup"));
    if (!hasGit()) {
      expected.remove("workspace-status");
    }
    assertEquals(expected, events);
    String all = String.join("\n", lines);
    // Agent 1 broke the tests; the diff says so, main and the workspace did not move.
    assertTrue(lines.contains("{\"event\":\"diff\",\"message\":\"DELETED "
        + "/src/test/java/com/example/GreeterTest.java\",\"branch\":\"agent-1\","
        + "\"kind\":\"DELETED\",\"path\":\"/src/test/java/com/example/GreeterTest.java\"}"),
        all);
    assertTrue(all.contains("\"main_has_test\":true,\"agent_has_test\":false,"
        + "\"workspace_has_test\":true"), all);
    // Rolled back: the first branch is gone, the retry starts from the snapshot.
    assertTrue(all.contains("\"branches\":[\"agent-2\",\"main\"],\"has_test\":true"), all);
    for (String change : List.of("ADDED /src/main/java/com/example/Farewell.java",
        "MODIFIED /src/main/java/com/example/Greeter.java",
        "MODIFIED /src/test/java/com/example/GreeterTest.java", "DELETED /docs/NOTES.md")) {
      assertTrue(all.contains("\"message\":\"" + change + "\",\"branch\":\"agent-2\""),
          change + " in\n" + all);
    }
    assertTrue(all.contains("\"message\":\"dry run onto main: 4 changes, 0 conflicts\""), all);
    assertTrue(all.contains("\"applied\":4,\"conflicts\":0"), all);
    if (hasGit()) {
      assertTrue(all.contains("\"output\":[\" D docs/NOTES.md\","
          + "\" M src/main/java/com/example/Greeter.java\","
          + "\" M src/test/java/com/example/GreeterTest.java\","
          + "\"?? src/main/java/com/example/Farewell.java\"]"), all);
    }
    assertTrue(lines.get(lines.size() - 1).contains("\"removed\":true"), all);
  }

  private static boolean hasGit() {
    return java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/git"))
        || java.nio.file.Files.isExecutable(java.nio.file.Path.of("/bin/git"));
  }

  @Test
  void demoTellsTheStoryAsJsonLines() {
    AgentFsExtension.requireFuse();
    assertEquals(0, run("demo"), err.toString(StandardCharsets.UTF_8));
    List<String> lines = lines();
    assertStory(lines, "mounted");
    if (hasGit()) {
      // The agent's own `git diff --stat` ran at the mount and saw its branch.
      assertTrue(lines.stream().anyMatch(l -> l.contains("\"branch\":\"agent-1\"")
          && l.contains("\"output\":[\"src/main/java/com/example/Greeter.java     | 2 +-\"")),
          lines::toString);
    }
  }

  @Test
  void withoutFuseTheDemoSaysWhyAndUsesTheJavaApi() throws Exception {
    Demo.run(new PrintStream(out, true, StandardCharsets.UTF_8), "/dev/fuse is missing");
    List<String> lines = lines();
    assertStory(lines, "no-mount");
    assertTrue(lines.contains("{\"event\":\"no-mount\",\"message\":\"cannot mount with FUSE "
        + "(/dev/fuse is missing): running the same story through the Java API\","
        + "\"reason\":\"/dev/fuse is missing\"}"), lines::toString);
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd : List.of("demo", "mount", "unmount", "umount", "mounts", "bench",
        "help")) {
      out.reset();
      assertEquals(0, run(cmd, "--help"), cmd);
      String name = cmd.equals("umount") ? "unmount" : cmd;
      assertTrue(out.toString(StandardCharsets.UTF_8)
          .startsWith("usage: java -jar agentfs.jar " + name), cmd);
      out.reset();
      assertEquals(0, run("help", name), cmd);
      assertTrue(out.toString(StandardCharsets.UTF_8).contains("agentfs.jar " + name), cmd);
    }
    out.reset();
    assertEquals(0, run("mount", "-h"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("--lower DIR"));
    assertEquals(2, run("help", "frobnicate"));
  }

  @Test
  void usageDocumentsTheExitCodes() {
    assertEquals(0, run("help"));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("exit status"), text);
    assertTrue(text.contains("  1  filesystem or system error"), text);
    assertTrue(text.contains("  2  usage error"), text);
  }

  @Test
  void unknownCommandIsAUsageError() {
    assertEquals(2, run("frobnicate"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown command 'frobnicate'"));
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsEveryCommand() {
    assertEquals(0, run("--help"));
    String text = out.toString(StandardCharsets.UTF_8);
    for (String cmd : List.of("demo", "mount", "unmount", "mounts")) {
      assertTrue(text.contains("\n  " + cmd), cmd);
    }
  }

  @Test
  void cloneMaterializationWhereTheHostCannotReflinkFailsClearly(@TempDir Path tmp)
      throws Exception {
    Path ws = Files.createDirectories(tmp.resolve("ws"));
    Files.writeString(ws.resolve("f"), "x");
    Path store = tmp.resolve("store");
    try (var probe = dev.agentfs.hostfs.HostFsBackstore.open(tmp.resolve("probe"))) {
      Assumptions.assumeFalse(probe.reflinks(), "this filesystem can reflink");
    }
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    assertEquals(1, run("mount", "--backstore", "hostfs:" + store, "--lower", ws.toString(),
        "--materialize", "clone", mp.toString()));
    String e = err.toString(StandardCharsets.UTF_8);
    assertTrue(e.startsWith("agentfs: ENOTSUP: " + ws.resolve("f") + " (FICLONE"), e);
    assertEquals(List.of(), lines(), "nothing was mounted");
  }

  @Test
  void overlayOptionsAreChecked(@TempDir Path tmp) throws Exception {
    Path mp = tmp.resolve("mnt");
    assertEquals(2, run("mount", "--materialize", "eager", mp.toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--materialize needs --lower"));
    assertEquals(2, run("mount", "--lower", tmp.toString(), "--materialize", "sometimes",
        mp.toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("lazy, eager or clone"));
    assertEquals(2, run("mount", "--lower", tmp.toString(), "--lower-refresh", "-1",
        mp.toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--lower-refresh is SECONDS"));
  }

  @Test
  void mountWithoutMountPointSaysWhy() {
    assertEquals(2, run("mount"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("mount needs a MOUNTPOINT"));
  }

  @Test
  void mountReturnsWhenUnmountedFromOutside(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/fuse"))
        && "root".equals(System.getProperty("user.name")), "needs /dev/fuse and root");
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    Thread t = new Thread(() -> run("mount", mp.toString()));
    t.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (lines().stream().noneMatch(l -> l.contains("\"mounted\"")) && t.isAlive()
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(lines().stream().anyMatch(l -> l.contains("\"mounted\"")), lines().toString());
    ByteArrayOutputStream o2 = new ByteArrayOutputStream();
    assertEquals(0, Main.run(new String[] {"unmount", mp.toString()},
        new PrintStream(o2, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)));
    t.join(TimeUnit.SECONDS.toMillis(10));
    assertTrue(!t.isAlive(), "mount must return once its mount is gone");
    assertTrue(lines().get(lines().size() - 1).contains("\"unmounted\""), lines().toString());
  }

  @Test
  void limitFlagsAreCheckedBeforeMounting() {
    assertEquals(1, run("mount", "--max-snapshots", "many", "/nonexistent"));
    assertTrue(err.toString(StandardCharsets.UTF_8)
        .contains("EINVAL (max_snapshots=many: not a number)"), err.toString());
    assertEquals(1, run("mount", "-o", "max_branches=0", "/nonexistent"));
    assertTrue(err.toString(StandardCharsets.UTF_8)
        .contains("max_branches=0: maxBranches must be at least 1"), err.toString());
    assertEquals(2, run("mount", "--max-open-handles"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--max-open-handles needs a value"));
  }

  @Test
  void aMountWithALimitRefusesTheSnapshotPastIt(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/fuse"))
        && "root".equals(System.getProperty("user.name")), "needs /dev/fuse and root");
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    Thread t = new Thread(() -> run("mount", "--max-snapshots", "1", mp.toString()));
    t.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (lines().stream().noneMatch(l -> l.contains("\"mounted\"")) && t.isAlive()
          && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      }
      assertTrue(lines().stream().anyMatch(l -> l.contains("\"mounted\"")), lines().toString());
      ByteArrayOutputStream o2 = new ByteArrayOutputStream();
      ByteArrayOutputStream e2 = new ByteArrayOutputStream();
      String[] create = {"snapshot", "create", "--mount", mp.toString(), "one"};
      assertEquals(0, Main.run(create, new PrintStream(o2, true, StandardCharsets.UTF_8),
          new PrintStream(e2, true, StandardCharsets.UTF_8)), e2.toString());
      create[4] = "two";
      assertEquals(1, Main.run(create, new PrintStream(o2, true, StandardCharsets.UTF_8),
          new PrintStream(e2, true, StandardCharsets.UTF_8)));
      assertTrue(e2.toString(StandardCharsets.UTF_8).startsWith("agentfs: EDQUOT: "),
          e2.toString(StandardCharsets.UTF_8));
    } finally {
      Main.run(new String[] {"unmount", mp.toString()},
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      t.join(TimeUnit.SECONDS.toMillis(10));
    }
    assertTrue(!t.isAlive(), "mount must return once its mount is gone");
  }
}
