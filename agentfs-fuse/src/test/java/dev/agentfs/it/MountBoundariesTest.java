package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the mount ends. The HostFs store directory is never reachable through the mount: not
 * when it sits next to the mount point, not through an overlay whose lower tree contains it,
 * and a mount point at or above it is refused (the mount would hide the store from the
 * server reading it). {@code ..} of the mount root is the kernel's business and leads to the
 * mount point's parent, while the Java API, which has no outside, keeps {@code /..} at the
 * root.
 */
class MountBoundariesTest {
  /** Every (st_dev, st_ino) under argv[1] and below, lstat'ed, with the hidden .agentfs. */
  private static final String WALK = """
      import os, sys
      top = sys.argv[1]
      seen = set()
      def add(p):
          s = os.lstat(p); seen.add((s.st_dev, s.st_ino))
      for base in (top, os.path.join(top, '.agentfs')):
          if not os.path.lexists(base):
              continue
          add(base)
          for d, dirs, files in os.walk(base):
              for n in dirs + files:
                  add(os.path.join(d, n))
      for dev, ino in sorted(seen):
          print(dev, ino)
      """;

  @TempDir Path tmp;

  @BeforeEach
  void setUp() {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
  }

  private List<String> walk(Path dir) throws Exception {
    Path py = tmp.resolve("walk.py");
    Files.writeString(py, WALK);
    return Proc.run(tmp, List.of("python3", py.toString(), dir.toString())).ok().out().lines()
        .toList();
  }

  @Test
  void aStoreNextToTheMountIsNotReachableThroughIt() throws Exception {
    Path store = tmp.resolve("store");
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(open(store)))) {
      Proc.sh(m.dir(), "mkdir -p a/b && echo data > a/b/f && echo more > g && ln -s a l").ok();
      m.fs().snapshot("s1");
      List<String> storeFiles = walk(store);
      List<String> mountFiles = walk(m.dir());
      assertTrue(storeFiles.size() > 3, "the store holds the files: " + storeFiles);
      assertTrue(mountFiles.size() >= 6, mountFiles.toString());
      String dev = mountFiles.get(0).split(" ")[0];
      for (String f : mountFiles) {
        assertEquals(dev, f.split(" ")[0], "everything under the mount is on the mount");
        assertFalse(storeFiles.contains(f), f + " is a file of the store");
      }
    }
  }

  @Test
  void aMountPointAtOrAboveTheStoreIsRefused() throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    for (Path store : List.of(mnt.resolve(".store"), mnt.resolve("deep/er/store"), mnt)) {
      try (AgentFs fs = AgentFs.builder().backstore(open(store)).build()) {
        AgentFsException e = assertThrows(AgentFsException.class, () -> fs.mount(mnt));
        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("backstore"), e.getMessage());
        assertEquals(List.of(), mountsAt(mnt));
        e = assertThrows(AgentFsException.class, () -> fs.mountSnapshot(
            fs.snapshot("s").name(), mnt));
        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
      }
    }
    assertEquals(List.of(), mountsAt(mnt));
  }

  @Test
  void anOverlayWhoseLowerTreeHoldsTheStoreDoesNotShowIt() throws Exception {
    Path ws = Files.createDirectory(tmp.resolve("ws"));
    Files.createDirectories(ws.resolve("src"));
    Files.writeString(ws.resolve("src/a.txt"), "lower");
    Path store = ws.resolve(".agentfs-store");
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(open(store)).lower(ws))) {
      Proc.sh(m.dir(), "echo upper > src/a.txt && echo new > b.txt").ok();
      assertEquals("b.txt\nsrc\n", Proc.sh(m.dir(), "ls -A").ok().out());
      assertEquals(List.of("b.txt", "src"), m.fs().main().list("/").stream().sorted().toList());
      assertFalse(Files.exists(m.path(".agentfs-store")));
      assertTrue(Files.isDirectory(store.resolve("data")), "the store is really there");
      assertEquals("lower", Files.readString(ws.resolve("src/a.txt")), "the lower is untouched");
    }
  }

  @Test
  void dotDotOfTheMountRootIsTheMountPointsParent() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      Files.createDirectories(m.path("d/e"));
      String stat = "stat -c '%d %i' ";
      String parent = Proc.sh(tmp, stat + ".").ok().out();
      assertEquals(parent, Proc.sh(tmp, stat + m.dir() + "/..").ok().out());
      assertEquals(parent, Proc.sh(m.dir(), stat + "..").ok().out());
      assertEquals(parent, Proc.sh(m.path("d/e"), stat + "../../..").ok().out());
      assertEquals(parent, Proc.sh(tmp, stat + m.dir() + "/d/e/../../..").ok().out());
      assertFalse(parent.equals(Proc.sh(m.dir(), stat + ".").ok().out()));
      // The Java API has no outside: /.. is the root, as in a chroot.
      assertEquals(m.fs().main().stat("/").ino(), m.fs().main().stat("/..").ino());
      assertEquals(m.fs().main().stat("/").ino(), m.fs().main().stat("/d/e/../../..").ino());
    }
  }

  private static HostFsBackstore open(Path store) {
    try {
      return HostFsBackstore.open(store);
    } catch (AgentFsException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> mountsAt(Path dir) throws Exception {
    return Files.readAllLines(Path.of("/proc/mounts")).stream()
        .filter(l -> l.split(" ")[1].equals(dir.toString())).toList();
  }
}
