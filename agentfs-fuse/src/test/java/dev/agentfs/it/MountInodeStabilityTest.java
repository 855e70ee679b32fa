package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.spi.MountHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * st_ino and ctime of unchanged files stay the same across a remount of a HostFs store,
 * across the copy-up of a sibling in an overlay, and in a branch made from a snapshot:
 * git's index keeps them (core.checkStat=default, core.trustctime=true), and a file whose
 * recorded stat data differs is rehashed on every {@code git status}. Checked directly
 * ({@code find -printf '%i %C@ ...'} of the whole tree) and through git: {@code git
 * diff-files}, which compares the index's stat data with the files without refreshing,
 * lists exactly the files changed, and {@code git status} leaves the index file as it was.
 * {@code -Dagentfs.gitstat.files=N} sets the tree size (default 1,000).
 */
class MountInodeStabilityTest {
  private static final int FILES = Integer.getInteger("agentfs.gitstat.files", 1000);
  private static final String GIT = "git -c user.name=t -c user.email=t@example.com"
      + " -c init.defaultBranch=main -c core.checkStat=default -c core.trustctime=true"
      + " -c gc.auto=0 ";
  private static final String CHANGED = "d000/f00000";

  @TempDir Path tmp;

  @BeforeEach
  void needs() {
    Fuse.require();
    Proc.requireTool("git", "git");
    Proc.requireTool("python3", "python3");
  }

  /**
   * FILES files in directories of 100, times set far in the past (so no index entry is
   * racily clean and git has no reason of its own to look at contents), committed.
   */
  private static void repo(Path root) throws Exception {
    Proc.python(root, """
        import os
        for i in range(%d):
            d = "d%%03d" %% (i // 100)
            os.makedirs(d, exist_ok=True)
            with open("%%s/f%%05d" %% (d, i), "w") as f:
                f.write("file %%d\\n" %% i)
        """.formatted(FILES)).ok();
    Proc.sh(root, "find . -exec touch -h -d '2020-01-01 00:00:00' {} + && " + GIT
        + "init -q && " + GIT + "add -A && " + GIT + "commit -qm tree").ok();
  }

  /** Inode, ctime, mtime, size and path of every file and directory outside .git. */
  private static String stats(Path root) throws Exception {
    return Proc.sh(root, "find . -path ./.git -prune -o -printf '%i %C@ %T@ %s %p\\n' | sort -k5")
        .ok().out();
  }

  /** Files whose stat data no longer matches the index (without refreshing it). */
  private static String statDirty(Path root) throws Exception {
    return Proc.sh(root, GIT + "diff-files --name-only").ok().out();
  }

  private static String index(Path root) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Files.readAllBytes(root.resolve(".git/index"))));
  }

  /** The lines of {@code stats} output, the one of {@code path} left out. */
  private static String without(String stats, String path) {
    return stats.lines().filter(l -> !l.endsWith(" ./" + path))
        .collect(Collectors.joining("\n"));
  }

  private static AgentFs hostFs(Path store) throws Exception {
    return AgentFs.builder().backstore(HostFsBackstore.open(store)).build();
  }

  @Test
  void hostFsKeepsInodesAndCtimesAcrossRemountAndInABranch() throws Exception {
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    String stats;
    String index;
    try (AgentFs fs = hostFs(store); MountHandle h = fs.mount(mnt)) {
      repo(mnt);
      assertEquals("", statDirty(mnt));
      stats = stats(mnt);
      index = index(mnt);
    }
    assertEquals(FILES + FILES / 100 + 1, stats.lines().count());
    try (AgentFs fs = hostFs(store); MountHandle h = fs.mount(mnt)) {
      assertEquals(stats, stats(mnt), "inode numbers and ctimes after a remount");
      assertEquals("", statDirty(mnt));
      assertEquals("", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
      assertEquals(index, index(mnt), "git status had nothing to refresh");

      Branch b = fs.createBranch("b", fs.snapshot("s"));
      Path bmnt = Files.createDirectory(tmp.resolve("bmnt"));
      try (MountHandle bh = fs.mount(b, bmnt)) {
        assertEquals(stats, stats(bmnt), "inode numbers and ctimes in a branch");
        assertEquals("", statDirty(bmnt));
        assertEquals("", Proc.sh(bmnt, GIT + "status --porcelain").ok().out());
        assertEquals(index, index(bmnt));
      }
    }
  }

  @Test
  void overlayKeepsInodesAndCtimesAcrossCopyUpRemountAndInABranch() throws Exception {
    Path ws = Files.createDirectory(tmp.resolve("ws"));
    repo(ws); // the index is the host git's, with the host's inode numbers and ctimes
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    String after;
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).lower(ws)
        .build(); MountHandle h = fs.mount(mnt)) {
      assertEquals("", statDirty(mnt), "the host's index matches the overlay's stat data");
      String before = stats(mnt);
      Proc.sh(mnt, "echo changed >> " + CHANGED).ok(); // copies it up
      assertEquals(1, fs.core().copyUps());
      after = stats(mnt);
      assertEquals(without(before, CHANGED), without(after, CHANGED),
          "the copy-up of a sibling changes no other inode number or ctime");
      assertNotEquals(before, after);
      assertEquals(inode(before, CHANGED), inode(after, CHANGED),
          "a copied-up file keeps its inode number");
      assertEquals(CHANGED + "\n", statDirty(mnt));

      Branch b = fs.createBranch("b", fs.snapshot("s"));
      Path bmnt = Files.createDirectory(tmp.resolve("bmnt"));
      try (MountHandle bh = fs.mount(b, bmnt)) {
        assertEquals(after, stats(bmnt), "inode numbers and ctimes in a branch");
        assertEquals(CHANGED + "\n", statDirty(bmnt));
      }
    }
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).lower(ws)
        .build(); MountHandle h = fs.mount(mnt)) {
      assertEquals(after, stats(mnt), "inode numbers and ctimes after a remount");
      assertEquals(CHANGED + "\n", statDirty(mnt));
      assertEquals(" M " + CHANGED + "\n", Proc.sh(mnt, GIT + "status --porcelain").ok().out());
    }
  }

  private static String inode(String stats, String path) {
    List<String> l = stats.lines().filter(x -> x.endsWith(" ./" + path)).toList();
    assertEquals(1, l.size(), path);
    return l.get(0).substring(0, l.get(0).indexOf(' '));
  }
}
