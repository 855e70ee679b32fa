package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  @Test
  void demoTellsTheStoryAsJsonLines() {
    assertEquals(0, run("demo"), err.toString(StandardCharsets.UTF_8));
    List<String> lines = lines();
    assertTrue(lines.stream().allMatch(l -> l.startsWith("{\"event\":")), lines::toString);
    assertTrue(lines.contains(
        "{\"event\":\"diff\",\"kind\":\"MODIFIED\",\"path\":\"/project/src/App.java\"}"));
    assertTrue(lines.contains(
        "{\"event\":\"diff\",\"kind\":\"DELETED\",\"path\":\"/project/src/Util.java\"}"));
    assertTrue(lines.contains(
        "{\"event\":\"diff\",\"kind\":\"ADDED\",\"path\":\"/project/src/Feature.java\"}"));
    assertTrue(lines.contains("{\"event\":\"diff\",\"kind\":\"RENAMED\","
        + "\"path\":\"/project/README.txt\",\"from\":\"/project/README.md\"}"));
    assertTrue(lines.contains("{\"event\":\"isolation\",\"main_has_util\":true,"
        + "\"agent_has_util\":false,\"main_app\":\"unchanged\"}"));
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
    for (String cmd : List.of("demo", "mount", "unmount")) {
      assertTrue(text.contains("\n  " + cmd), cmd);
    }
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
}
