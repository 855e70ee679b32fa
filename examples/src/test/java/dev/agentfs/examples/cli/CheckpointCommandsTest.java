package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.CheckpointPolicy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic checkpoints through real mounts and the CLI: they show in {@code snapshot list}
 * and under {@code .agentfs/snapshots}, an old one is restored and reset to, and
 * {@code mount --checkpoint-on-exec --keep-last} checkpoints before each {@code branch exec}
 * command and prunes. Time comes from {@code tick(Instant)}: nothing waits for a timer.
 */
class CheckpointCommandsTest {
  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  @TempDir Path tmp;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private List<String> checkpointNames() {
    return out().lines().filter(l -> l.startsWith("{\"name\":\"auto-"))
        .map(l -> l.substring(9, l.indexOf('"', 9))).sorted().toList();
  }

  @Test
  void checkpointsAreListedRestoredAndResetTo() throws Exception {
    ChildMount.requireFuse();
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().checkpoints(
        CheckpointPolicy.every(Duration.ofHours(1)).withKeepLast(2)).build()) {
      fs.mount(mp);
      String m = mp.toString();
      Files.createDirectories(mp.resolve("src"));
      Files.writeString(mp.resolve("src/a"), "a1");
      Files.writeString(mp.resolve("notes"), "n1");
      assertEquals(List.of("auto-main-20260301T120000Z"), fs.checkpoints().tick(T0));
      Files.writeString(mp.resolve("src/a"), "a2");
      Files.writeString(mp.resolve("notes"), "n2");
      fs.checkpoints().tick(T0.plusSeconds(3600));
      Files.writeString(mp.resolve("src/a"), "a3");
      Files.writeString(mp.resolve("notes"), "n3");
      fs.checkpoints().tick(T0.plusSeconds(7200));

      assertEquals(0, run("snapshot", "list", "--mount", m), err.toString());
      assertEquals(List.of("auto-main-20260301T130000Z", "auto-main-20260301T140000Z"),
          checkpointNames(), "keep-last 2 pruned the first");
      assertEquals("a2", Files.readString(
          mp.resolve(".agentfs/snapshots/auto-main-20260301T130000Z/src/a")));

      assertEquals(0, run("branch", "restore", "--mount", m, "main", "/src", "--from",
          "auto-main-20260301T130000Z"), err.toString());
      assertEquals("a2", Files.readString(mp.resolve("src/a")), "the directory is back");
      assertEquals("n3", Files.readString(mp.resolve("notes")), "the rest is untouched");

      assertEquals(0, run("branch", "reset", "--mount", m, "main", "--to",
          "auto-main-20260301T130000Z"), err.toString());
      assertEquals("n2", Files.readString(mp.resolve("notes")));
    }
  }

  @Test
  void mountCheckpointsBeforeEachExecAndKeepsTheLastTwo() throws Exception {
    ChildMount.requireFuse();
    Assumptions.assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"),
        "branch exec (unshare --mount) needs root");
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    try (ChildMount child = ChildMount.start(mp, "--checkpoint-on-exec", "--keep-last", "2")) {
      String m = mp.toString();
      for (int i = 1; i <= 4; i++) {
        assertEquals(0, run("branch", "exec", "--mount", m, "--branch", "main", "--",
            "sh", "-c", "echo " + i + " > " + m + "/f"), err.toString());
      }
      assertEquals("4\n", Files.readString(mp.resolve("f")));
      assertEquals(0, run("snapshot", "list", "--mount", m), err.toString());
      List<String> names = checkpointNames();
      assertEquals(2, names.size(), out());
      // Taken before commands 3 and 4: what commands 2 and 3 left.
      List<String> seen = names.stream().map(n -> {
        try {
          return Files.readString(mp.resolve(".agentfs/snapshots/" + n + "/f")).strip();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sorted().toList();
      assertEquals(List.of("2", "3"), seen);
      assertEquals(0, child.term());
      assertFalse(ChildMount.mounted(mp));
    }
  }

  @Test
  void checkpointOptionsAreChecked() {
    assertEquals(2, run("mount", "--keep-last", "3", "/nowhere"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("need --checkpoint-every"));
    assertEquals(2, run("mount", "--checkpoint-every", "0", "/nowhere"));
    assertTrue(err.toString(StandardCharsets.UTF_8)
        .contains("--checkpoint-every needs a whole number of at least 1"));
    assertEquals(2, run("mount", "--checkpoint-every", "x", "/nowhere"));
    assertEquals(2, run("mount", "--checkpoint-on-exec", "--keep-last", "0", "/nowhere"));
    assertEquals(2, run("mount", "--checkpoint-on-exec", "--keep-hourly", "-1", "/nowhere"));
    assertEquals(2, run("mount", "--snapshot", "s", "--checkpoint-on-exec", "/nowhere"));
  }
}
