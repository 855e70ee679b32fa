package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Backstores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mount --snapshot NAME}: a separate read-only mount of one snapshot, made by a running
 * mount's server ({@code --mount LIVE}) or served in the foreground from a durable store.
 * Reads show the snapshot, writes fail with EROFS, and {@code mounts} names it.
 */
class SnapshotMountCommandTest {
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

  /** A shell's attempt to write in {@code dir}: its stderr. */
  private static String writeFails(Path dir) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "echo x > new; echo y >> f")
        .directory(dir.toFile()).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor() != 0, text);
    return text;
  }

  @Test
  void aRunningMountsServerMountsASnapshotReadOnly() throws Exception {
    ChildMount.requireFuse();
    Path live = Files.createDirectory(tmp.resolve("live"));
    Path snap = Files.createDirectory(tmp.resolve("snap"));
    try (AgentFs fs = AgentFs.builder().build()) {
      fs.mount(live);
      Files.writeString(live.resolve("f"), "v1");
      fs.snapshot("s1");
      Files.writeString(live.resolve("f"), "v2");

      assertEquals(0, run("mount", "--snapshot", "s1", "--mount", live.toString(),
          snap.toString()), err.toString());
      assertEquals("{\"event\":\"mounted\",\"mountpoint\":\"" + snap + "\",\"snapshot\":"
          + "\"s1\",\"readOnly\":true,\"server\":\"" + live + "\"}\n", out());
      assertEquals("v1", Files.readString(snap.resolve("f")));
      String w = writeFails(snap);
      assertEquals(2, w.lines().filter(l -> l.contains("Read-only file system")).count(), w);
      assertEquals("v2", Files.readString(live.resolve("f")));

      assertEquals(0, run("mounts", "--under", tmp.toString()), err.toString());
      assertTrue(out().contains("{\"mountpoint\":\"" + snap + "\",\"health\":\"alive\","
          + "\"kind\":\"snapshot\",\"source\":\"agentfs-snapshot:s1\",\"snapshot\":\"s1\"}"),
          out());

      assertEquals(1, run("mount", "--snapshot", "nope", "--mount", live.toString(),
          Files.createDirectory(tmp.resolve("nope")).toString()));
      assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("agentfs: ENOENT: "),
          err.toString(StandardCharsets.UTF_8));

      assertEquals(0, run("unmount", snap.toString()), err.toString());
      assertFalse(ChildMount.mounted(snap));
    }
  }

  @Test
  void aSnapshotOfAStoreIsServedInTheForeground() throws Exception {
    ChildMount.requireFuse();
    Path store = Files.createDirectory(tmp.resolve("store"));
    try (AgentFs fs = AgentFs.builder().backstore(Backstores.hostFs(store)).build()) {
      fs.main().write("/f", "v1");
      fs.snapshot("s1");
      fs.main().write("/f", "v2");
    }
    Path mp = Files.createDirectory(tmp.resolve("mnt"));
    try (ChildMount child = ChildMount.start(mp, "--backstore", "hostfs:" + store,
        "--snapshot", "s1")) {
      assertTrue(child.ready.contains("\"snapshot\":\"s1\",\"readOnly\":true"), child.ready);
      assertEquals("v1", Files.readString(mp.resolve("f")));
      assertTrue(writeFails(mp).contains("Read-only file system"));
      assertEquals(0, child.term());
      assertFalse(ChildMount.mounted(mp));
    }
  }

  @Test
  void snapshotMountOptionsAreChecked() {
    assertEquals(2, run("mount", "--mount", "/live", "/nowhere"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--mount LIVE goes with"));
    assertEquals(2, run("mount", "--snapshot", "s", "--mount", "/live", "--backstore",
        "memory", "/nowhere"));
  }
}
