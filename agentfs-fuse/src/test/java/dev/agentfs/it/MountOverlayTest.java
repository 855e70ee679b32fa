package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Materialize;
import dev.agentfs.spi.MountHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlay mode through a real mount: tools see the workspace, the workspace never changes. */
class MountOverlayTest {
  private static final String GIT =
      "git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main ";

  @TempDir Path tmp;
  Path ws;

  @BeforeEach
  void workspace() throws Exception {
    Fuse.require();
    ws = Files.createDirectory(tmp.resolve("ws"));
    Proc.sh(ws, """
        mkdir -p src/main && for i in 1 2 3 4 5; do echo "class C$i {}" > src/main/C$i.java; done
        echo readme > README && ln -s src/main/C1.java first
        """).ok();
  }

  private String state(Path dir) throws Exception {
    return Proc.sh(dir, "find . -printf '%p %M %s %T@ %l\\n' | sort && cat README").ok().out();
  }

  @Test
  void toolsWorkOnTheMountAndTheWorkspaceStaysUntouched() throws Exception {
    assumeTrue(Proc.has("git"), "git is not installed");
    Proc.sh(ws, GIT + "init -q && " + GIT + "add -A && " + GIT + "commit -qm base").ok();
    String before = state(ws);
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().lower(ws).build(); MountHandle h = fs.mount(mnt)) {
      assertEquals("", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
      assertEquals("class C3 {}\n", Files.readString(mnt.resolve("src/main/C3.java")));
      Proc.sh(mnt, """
          echo 'class C1 { int x; }' > src/main/C1.java && rm src/main/C2.java
          mv src/main/C3.java src/main/Renamed.java && echo new > NEW && chmod 600 README
          """).ok();
      String status = Proc.sh(mnt, GIT + "status --porcelain").ok().out();
      assertTrue(status.contains(" M src/main/C1.java"), status);
      assertTrue(status.contains(" D src/main/C2.java"), status);
      assertTrue(status.contains("?? NEW"), status);
      Proc.sh(mnt, GIT + "add -A && " + GIT + "commit -qm agent").ok();
      assertEquals("", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
      assertFalse(Files.exists(mnt.resolve("src/main/C2.java")));
      assertEquals("class C1 { int x; }\n", fs.main().readString("/src/main/C1.java"));
    }
    assertEquals(before, state(ws), "the lower workspace must not change");
    assertEquals("", Proc.sh(ws, GIT + "status --porcelain").ok().out());
  }

  @Test
  void workspaceChangesShowThroughTheMountButNotOverWhatTheBranchChanged() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    // Refresh 0: compared on every use, and the kernel keeps nothing untouched cached, so
    // the change shows at once (the default, 1 s, shows it within about a second).
    try (AgentFs fs = AgentFs.builder().lower(ws).lowerRefresh(Duration.ZERO).build();
        MountHandle h = fs.mount(mnt)) {
      assertEquals("readme\n", Files.readString(mnt.resolve("README")));
      assertEquals("C1.java C2.java C3.java C4.java C5.java\n",
          Proc.sh(mnt, "ls src/main | xargs").ok().out());
      Proc.sh(mnt, "echo 'class C1 { int agent; }' > src/main/C1.java && mkdir src/agent")
          .ok();
      Proc.sh(ws, """
          printf 'README\\n' > README && echo 'class C6 {}' > src/main/C6.java
          rm src/main/C5.java && echo 'class C1 { int host; }' > src/main/C1.java
          echo top > src/top && echo 'class C2 { int host; }' > src/main/C2.java
          """).ok();
      assertEquals("README\n", Files.readString(mnt.resolve("README")),
          "same size, new bytes: no stale page cache");
      assertEquals("C1.java C2.java C3.java C4.java C6.java\n",
          Proc.sh(mnt, "ls src/main | xargs").ok().out());
      assertEquals("class C2 { int host; }\n",
          Files.readString(mnt.resolve("src/main/C2.java")));
      assertEquals(Files.getLastModifiedTime(ws.resolve("src/main/C2.java")),
          Files.getLastModifiedTime(mnt.resolve("src/main/C2.java")));
      assertEquals("class C1 { int agent; }\n",
          Files.readString(mnt.resolve("src/main/C1.java")), "copied up: the branch's own");
      assertEquals("agent main\n", Proc.sh(mnt, "ls src | xargs").ok().out(),
          "src was changed by the branch: the lower's new name does not show");
    }
  }

  @Test
  void eagerMaterialisationLetsTheWorkspaceGo() throws Exception {
    assumeTrue(Proc.has("git"), "git is not installed");
    Proc.sh(ws, GIT + "init -q && " + GIT + "add -A && " + GIT + "commit -qm base").ok();
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (AgentFs fs = AgentFs.builder().lower(ws, Materialize.EAGER).build();
        MountHandle h = fs.mount(mnt)) {
      String before = state(mnt);
      Proc.sh(tmp, "rm -rf ws").ok();
      assertFalse(Files.exists(ws));
      assertEquals(before, state(mnt));
      assertEquals("", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
      Proc.sh(mnt, "echo more >> README").ok();
      assertEquals(" M README\n", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
    }
  }

  @Test
  void aLowerThatContainsTheMountPointHidesIt() throws Exception {
    Path mnt = Files.createDirectory(ws.resolve("mnt-inside"));
    try (AgentFs fs = AgentFs.builder().lower(ws).build(); MountHandle h = fs.mount(mnt)) {
      String ls = Proc.sh(mnt, "ls -a").ok().out();
      assertFalse(ls.contains("mnt-inside"), ls);
      assertTrue(ls.contains("README"), ls);
      Proc.sh(mnt, "find . -type f | wc -l").ok();
      assertEquals("readme\n", Files.readString(mnt.resolve("README")));
    }
  }
}
