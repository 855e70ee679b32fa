package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.spi.MountHandle;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control commands against a real mount: CLI, ControlClient, ioctl, ControlServer. */
class ControlCommandsMountTest {
  @TempDir Path tmp;
  AgentFs fs;
  MountHandle mount;
  Path mp;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void mount() throws Exception {
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    if (!ci) {
      Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse");
    }
    mp = Files.createDirectory(tmp.resolve("mnt"));
    fs = AgentFs.builder().build();
    fs.main().write("/README", "main");
    mount = fs.mount(mp);
  }

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
    if (fs != null) {
      fs.close();
    }
  }

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void snapshotBranchAndShowThroughTheMount() {
    String m = mp.toString();
    assertEquals(0, run("snapshot", "create", "--mount", m, "s1"), err.toString());
    assertEquals("{\"name\":\"s1\"}\n", out());
    assertEquals(0, run("branch", "create", "--mount", m, "agent", "--from", "s1"));
    assertEquals(0, run("branch", "list", "--mount", m));
    assertTrue(out().contains("{\"name\":\"agent\",\"base\":\"s1\""), out());
    assertEquals(0, run("branch", "show", "--mount", m), err.toString());
    long parent = ProcessHandle.current().parent().orElseThrow().pid();
    assertEquals("{\"pid\":" + parent + ",\"branch\":\"main\"}\n", out());
    assertEquals(1, run("branch", "delete", "--mount", m, "nope"));
    assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("agentfs: ENOENT: " + m + " ("),
        err.toString(StandardCharsets.UTF_8));
    assertEquals(1, run("branch", "list", "--mount", tmp.toString()));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("not an agentfs mount"));
  }

  @Test
  void branchDefaultSwitchesWhatUnboundProcessesSeeWithoutARemount() throws Exception {
    fs.createBranch("b1", fs.main()).write("/README", "b1");
    String m = mp.toString();
    assertEquals("main", Files.readString(mp.resolve("README")));
    assertEquals(0, run("branch", "default", "--mount", m, "b1"), err.toString());
    assertEquals("b1", Files.readString(mp.resolve("README")), "the mount now serves b1");
    assertEquals(0, run("branch", "show", "--mount", m), err.toString());
    assertTrue(out().contains("\"branch\":\"b1\""), out());
    assertEquals(1, run("branch", "default", "--mount", m, "nope"));
    assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("agentfs: ENOENT"),
        err.toString(StandardCharsets.UTF_8));
    assertEquals("b1", Files.readString(mp.resolve("README")), "a failed switch changes nothing");
    assertEquals(0, run("branch", "default", "--mount", m, "main"), err.toString());
    assertEquals("main", Files.readString(mp.resolve("README")));
  }

  @Test
  void execRunsACommandSeeingTheBranch() throws Exception {
    Assumptions.assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"),
        "unshare --mount needs root");
    fs.createBranch("b1", fs.main()).write("/README", "b1");
    Path seen = tmp.resolve("seen");
    int rc = run("branch", "exec", "--mount", mp.toString(), "--branch", "b1", "--",
        "sh", "-c", "cat " + mp + "/README > " + seen + "; exit 5");
    assertEquals(5, rc, err.toString(StandardCharsets.UTF_8));
    assertEquals("b1", Files.readString(seen));
    assertEquals("main", Files.readString(mp.resolve("README")), "outside: still main");
  }

  @Test
  void limitsReachTheCommandLineAsTheirErrno() throws Exception {
    Path small = Files.createDirectory(tmp.resolve("small"));
    try (AgentFs limited = AgentFs.builder().maxSnapshots(1).maxBranches(2).build();
        MountHandle h = limited.mount(small)) {
      String m = small.toString();
      assertEquals(0, run("snapshot", "create", "--mount", m, "s1"), err.toString());
      assertEquals(1, run("snapshot", "create", "--mount", m, "s2"));
      String e = err.toString(StandardCharsets.UTF_8);
      assertTrue(e.startsWith("agentfs: EDQUOT: " + m + " (snapshot s2 (the limit of 1"
          + " snapshots is reached (Configuration.maxSnapshots)))"), e);
      assertEquals(0, run("branch", "create", "--mount", m, "b1", "--from", "s1"));
      assertEquals(1, run("branch", "create", "--mount", m, "b2", "--from", "s1"));
      e = err.toString(StandardCharsets.UTF_8);
      assertTrue(e.startsWith("agentfs: EDQUOT: " + m + " (branch b2 ("), e);
      assertEquals(0, run("snapshot", "delete", "--mount", m, "s1"));
      assertEquals(0, run("snapshot", "create", "--mount", m, "s2"), err.toString());
      assertEquals(java.util.List.of("s2"), limited.core().snapshotNames());
    }
  }
}
