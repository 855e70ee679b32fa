package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.spi.MountHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots seen from the mount: .agentfs/snapshots, read-only mounts, reset under a shell. */
class MountSnapshotTest {
  @TempDir Path tmp;
  Fuse.Mounted m;

  @BeforeEach
  void mount() throws Exception {
    m = Fuse.mount(tmp);
    Files.writeString(m.path("f"), "v1");
    Files.createDirectories(m.path("d"));
    Files.writeString(m.path("d/g"), "g1");
    m.fs().snapshot("s1");
    Files.writeString(m.path("f"), "v2");
  }

  @AfterEach
  void unmount() {
    if (m != null) {
      m.close();
    }
  }

  @Test
  void snapshotsAreBrowsableAndReadOnlyInsideTheMount() throws Exception {
    Path snap = m.path(".agentfs/snapshots/s1");
    assertEquals("v1", Files.readString(snap.resolve("f")));
    assertEquals("g1", Files.readString(snap.resolve("d/g")));
    assertEquals("s1\n", Proc.sh(m.path(".agentfs/snapshots"), "ls").ok().out());
    Proc.Result w = Proc.sh(snap, "echo x > f");
    assertTrue(w.exit() != 0 && w.err().contains("Read-only file system"), w.toString());
    m.fs().snapshot("s2");
    assertEquals("s1\ns2\n", Proc.sh(m.path(".agentfs/snapshots"), "ls").ok().out());
    assertEquals("v2", Files.readString(m.path(".agentfs/snapshots/s2/f")));
  }

  @Test
  void aSeparateReadOnlyMountOfASnapshot() throws Exception {
    Path mp = Files.createDirectory(tmp.resolve("ro"));
    try (MountHandle h = m.fs().mountSnapshot("s1", mp)) {
      assertEquals("v1", Files.readString(mp.resolve("f")));
      Proc.Result w = Proc.sh(mp, "touch new");
      assertTrue(w.exit() != 0 && w.err().contains("Read-only file system"), w.toString());
    }
  }

  @Test
  void resetWhileAShellHoldsAFileOpen() throws Exception {
    Files.writeString(m.path("later"), "made after the snapshot");
    // The shell keeps fd 3 open on a file the snapshot lacks, across the reset.
    Process p = new ProcessBuilder("sh", "-c",
        "exec 3<>" + m.path("later") + " && echo ready; read go; cat f; echo; cat <&3; "
            + "echo \"rc=$?\"")
        .directory(m.dir().toFile()).redirectErrorStream(true).start();
    try {
      // Reset only once the shell really holds the file open.
      java.io.BufferedReader r = new java.io.BufferedReader(
          new java.io.InputStreamReader(p.getInputStream()));
      assertEquals("ready", r.readLine());
      m.fs().resetBranch("main", "s1");
      try (var in = p.getOutputStream()) {
        in.write("go\n".getBytes());
      }
      StringBuilder sb = new StringBuilder();
      for (String line; (line = r.readLine()) != null; ) {
        sb.append(line).append('\n');
      }
      String out = sb.toString();
      p.waitFor();
      assertTrue(out.startsWith("v1\n"), out);
      assertTrue(out.contains("Stale file handle") || out.contains("rc=1"), out);
      assertTrue(Files.notExists(m.path("later")));
      assertEquals("v1", Files.readString(m.path("f")));
    } finally {
      p.destroyForcibly();
    }
  }
}
