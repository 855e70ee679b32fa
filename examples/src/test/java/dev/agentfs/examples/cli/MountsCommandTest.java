package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mounts} and {@code unmount --stale} on real mounts: two served by this JVM and one
 * left stale by a SIGKILLed {@code agentfs mount} child. {@code --under} keeps the test to
 * its own directory (other processes on the machine may have mounts, stale ones included).
 */
class MountsCommandTest {
  @TempDir Path tmp;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private List<String> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static String lineFor(List<String> lines, Path mp) {
    return lines.stream().filter(l -> l.startsWith("{\"mountpoint\":\"" + mp + "\","))
        .findFirst().orElseThrow(() -> new AssertionError("no line for " + mp + ": " + lines));
  }

  @Test
  void listsTwoAliveAndOneStaleAndCleansOnlyTheStaleOne() throws Exception {
    ChildMount.requireFuse();
    Path a = Files.createDirectory(tmp.resolve("a"));
    Path b = Files.createDirectory(tmp.resolve("b"));
    Path dead = Files.createDirectory(tmp.resolve("dead"));
    try (ChildMount child = ChildMount.start(dead);
        AgentFs fsA = AgentFs.builder().build();
        AgentFs fsB = AgentFs.builder().build()) {
      fsA.mount(a);
      fsB.mount(b);
      fsB.createBranch("agent", fsB.main());
      child.kill9();

      assertEquals(0, run("mounts", "--under", tmp.toString()), err.toString());
      List<String> l = lines();
      assertEquals(3, l.size(), l.toString());
      long me = ProcessHandle.current().pid();
      assertEquals("{\"mountpoint\":\"" + a + "\",\"health\":\"alive\",\"kind\":\"mount\","
          + "\"source\":\"agentfs\",\"pid\":" + me + ",\"store\":\"memory\","
          + "\"defaultBranch\":\"main\",\"branches\":[\"main\"],\"bound\":[]}",
          lineFor(l, a));
      assertTrue(lineFor(l, b).contains("\"branches\":[\"agent\",\"main\"]"), lineFor(l, b));
      assertTrue(lineFor(l, dead).startsWith("{\"mountpoint\":\"" + dead
          + "\",\"health\":\"stale\",\"kind\":\"unknown\",\"source\":\"agentfs\","
          + "\"detail\":\"the server is gone: "), lineFor(l, dead));

      assertEquals(0, run("unmount", "--stale", "--under", tmp.toString()), err.toString());
      assertEquals(List.of("{\"event\":\"unmounted\",\"mountpoint\":\"" + dead
          + "\",\"stale\":true}"), lines());
      assertFalse(ChildMount.mounted(dead));
      assertEquals(0, run("mounts", "--under", tmp.toString()));
      assertEquals(2, lines().size(), lines().toString());
      assertTrue(lines().stream().allMatch(x -> x.contains("\"health\":\"alive\"")));
      assertTrue(ChildMount.mounted(a) && ChildMount.mounted(b));
      assertEquals(0, run("unmount", "--stale", "--under", tmp.toString()));
      assertEquals(List.of(), lines(), "nothing stale left");
    }
  }

  @Test
  void badArgumentsAreUsageErrors() {
    assertEquals(2, run("mounts", "--bogus"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("mounts takes only --under DIR"));
    assertEquals(2, run("unmount", "--stale", "/x"));
    assertEquals(2, run("mounts", "--under"));
  }
}
