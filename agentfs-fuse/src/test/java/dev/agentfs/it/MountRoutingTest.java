package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.fuse.session.FuseSession;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-process branches at one mount: bound processes and their children see their branch. */
class MountRoutingTest {
  @TempDir Path tmp;
  Fuse.Mounted m;

  @BeforeEach
  void mount() throws Exception {
    m = Fuse.mount(tmp);
    Branch main = m.fs().main();
    main.mkdirs("/src");
    main.write("/src/f", "main");
    main.write("/top", "main-top");
    Branch b1 = m.fs().createBranch("b1", main);
    b1.write("/src/f", "b1");
    b1.write("/top", "b1-top");
    b1.write("/only-b1", "x");
    Branch b2 = m.fs().createBranch("b2", main);
    b2.write("/src/f", "b2");
    b2.delete("/top");
  }

  @AfterEach
  void unmount() {
    if (m != null) {
      m.close();
    }
  }

  /** Starts {@code sh -c script} held at a gate, binds it, then lets it run. */
  private String runBound(String branch, String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "read go; " + script)
        .directory(tmp.toFile()).redirectErrorStream(true).start();
    try {
      if (branch != null) {
        m.fs().bind((int) p.pid(), branch);
      }
      try (OutputStream in = p.getOutputStream()) {
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      return out;
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void boundProcessesAndTheirChildrenSeeTheirBranch() throws Exception {
    String mp = m.dir().toString();
    String show = "cat " + mp + "/src/f; echo; ls " + mp + " | tr '\\n' ' '; echo; "
        + "sh -c 'cat " + mp + "/src/f'";
    assertEquals("main\nsrc top \nmain", runBound(null, show).strip());
    assertEquals("b1\nonly-b1 src top \nb1", runBound("b1", show).strip());
    assertEquals("b2\nsrc \nb2", runBound("b2", show).strip());
    // Unbound again: the default branch, and the kernel did not keep b2's view.
    assertEquals("main", Files.readString(m.path("src/f")));
    assertEquals("main-top", Files.readString(m.path("top")));
  }

  @Test
  void writesLandInTheBoundBranchOnly() throws Exception {
    String mp = m.dir().toString();
    runBound("b1", "echo written-by-b1 > " + mp + "/src/new && mkdir " + mp + "/d1");
    assertEquals("written-by-b1\n", m.fs().branch("b1").readString("/src/new"));
    assertFalse(m.fs().main().exists("/src/new"));
    assertFalse(Files.exists(m.path("d1")));
    assertTrue(m.fs().branch("b1").exists("/d1"));
  }

  @Test
  void twoProcessesAlternatingOverTheSamePathsNeverSeeEachOther() throws Exception {
    String mp = m.dir().toString();
    String loop = "i=0; while [ $i -lt 1500 ]; do cat " + mp + "/src/f; cat " + mp
        + "/top 2>/dev/null || printf none; i=$((i+1)); done";
    Process a = new ProcessBuilder("sh", "-c", "read go; " + loop).start();
    Process b = new ProcessBuilder("sh", "-c", "read go; " + loop).start();
    try {
      m.fs().bind((int) a.pid(), "b1");
      m.fs().bind((int) b.pid(), "b2");
      for (Process p : new Process[] {a, b}) {
        try (OutputStream in = p.getOutputStream()) {
          in.write("go\n".getBytes(StandardCharsets.UTF_8));
        }
      }
      String outA = new String(a.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String outB = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals("b1b1-top".repeat(1500), outA);
      assertEquals("b2none".repeat(1500), outB);
    } finally {
      a.destroyForcibly();
      b.destroyForcibly();
    }
  }

  /**
   * The kernel keeps a renamed dentry's cache time: moved from a cached directory into the
   * root, one branch's entry would serve every process for an hour unless it is dropped.
   */
  @Test
  void anEntryRenamedIntoTheRootIsNotServedToOtherBranches() throws Exception {
    String mp = m.dir().toString();
    // b1 looks src/f up (cached for an hour below the root), then moves it to the root.
    runBound("b1", "cat " + mp + "/src/f > /dev/null; mv " + mp + "/src/f " + mp + "/top");
    FuseSession.live(m.dir()).awaitNotices(java.time.Duration.ofSeconds(10));
    assertEquals("main-top", Files.readString(m.path("top")), "main sees its own /top");
    assertEquals("main-top", runBound(null, "cat " + mp + "/top"));
    assertEquals("b1", runBound("b1", "cat " + mp + "/top"));
    assertEquals("b1", m.fs().branch("b1").readString("/top"));
    assertEquals("main-top", m.fs().main().readString("/top"));
  }

  @Test
  void theControlFileIsThereButNotListed() throws Exception {
    assertTrue(Files.isRegularFile(m.path(".agentfs/control")));
    String ls = Proc.sh(m.dir(), "ls -a").ok().out();
    assertFalse(ls.contains(".agentfs"), ls);
    assertFalse(Proc.sh(m.dir(), "mkdir .agentfs").exit() == 0);
  }

  @Test
  void aBranchDeletedAndMadeAgainUnderTheSameNameShowsItsNewTree() throws Exception {
    String mp = m.dir().toString();
    assertEquals("b1", runBound("b1", "cat " + mp + "/src/f").strip());
    m.fs().deleteBranch("b1");
    Branch again = m.fs().createBranch("b1", m.fs().main());
    again.write("/src/f", "b1 again");
    assertEquals("b1 again", runBound("b1", "cat " + mp + "/src/f").strip());
    assertEquals("", runBound("b1", "ls " + mp + "/only-b1 2>/dev/null; true").strip());
  }

  @Test
  void bindingsDieWithTheirProcess() throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "read go").start();
    int pid = (int) p.pid();
    m.fs().bind(pid, "b1");
    assertEquals("b1", m.fs().branchOf(pid));
    p.getOutputStream().close();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals("main", m.fs().branchOf(pid));
  }
}
