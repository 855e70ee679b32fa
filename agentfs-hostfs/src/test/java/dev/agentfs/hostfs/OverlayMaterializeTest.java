package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.Materialize;
import dev.agentfs.vfs.Attr;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Arrays;
import java.util.Comparator;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlay materialisation modes: EAGER copies the whole lower into the backstore when the
 * filesystem is built, after which the lower may change or vanish (also across a restart of a
 * HostFs store); CLONE does it by FICLONE and is refused with ENOTSUP or EXDEV naming the
 * lower file where the host cannot reflink (ext4 here, another filesystem, the in-memory
 * backstore), leaving nothing behind; on an XFS loop image with reflink=1 it works.
 */
class OverlayMaterializeTest {
  @TempDir Path tmp;
  private Path xfs;

  @AfterEach
  void unmountXfs() throws Exception {
    if (xfs != null) {
      Mounts.unmount(xfs);
    }
  }

  /** Files (one large, one empty, a hard link), a symlink, nested dirs, an xattr, a mode. */
  private static Path workspace(Path dir) throws Exception {
    Files.createDirectories(dir.resolve("src/pkg/deep"));
    Files.writeString(dir.resolve("README"), "readme\n");
    Files.writeString(dir.resolve("src/pkg/A.java"), "class A {}\n");
    Files.writeString(dir.resolve("src/pkg/deep/B.java"), "class B {}\n");
    byte[] big = new byte[3 << 20];
    new java.util.Random(3).nextBytes(big);
    Files.write(dir.resolve("src/big.bin"), big);
    Files.createFile(dir.resolve("empty"));
    Files.createSymbolicLink(dir.resolve("link"), Path.of("src/pkg/A.java"));
    Files.createLink(dir.resolve("src/hard"), dir.resolve("README"));
    Files.setPosixFilePermissions(dir.resolve("src/pkg/A.java"),
        PosixFilePermissions.fromString("rwx------"));
    Files.getFileAttributeView(dir.resolve("README"), UserDefinedFileAttributeView.class)
        .write("origin", StandardCharsets.UTF_8.encode("lower"));
    return dir;
  }

  /** Regular files with bytes, counted once per inode: README (+hard), A, B, big.bin. */
  private static final int FILES_WITH_BYTES = 4;

  /** Everything observable about a branch's tree. */
  static String dump(Branch b) throws AgentFsException {
    StringBuilder sb = new StringBuilder();
    dump(b, "/", sb);
    return sb.toString();
  }

  private static void dump(Branch b, String path, StringBuilder sb) throws AgentFsException {
    Attr a = b.lstat(path);
    sb.append(path).append(' ').append(Integer.toOctalString(a.mode())).append(" n=")
        .append(a.nlink()).append(" s=").append(a.size()).append(" m=").append(a.mtimeNs())
        .append(" i=").append(a.ino());
    if (a.isSymlink()) {
      sb.append(" -> ").append(b.readlink(path));
    } else {
      TreeMap<String, String> xs = new TreeMap<>();
      for (String x : b.listxattr(path)) {
        xs.put(x, new String(b.getxattr(path, x), StandardCharsets.UTF_8));
      }
      sb.append(' ').append(xs);
    }
    if (a.isRegular()) {
      sb.append(" data=").append(Arrays.hashCode(b.read(path)));
    }
    sb.append('\n');
    if (a.isDirectory()) {
      for (String c : b.list(path).stream().sorted().toList()) {
        dump(b, path.equals("/") ? "/" + c : path + "/" + c, sb);
      }
    }
  }

  private static void deleteTree(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static String lazyDump(Path ws) throws Exception {
    try (AgentFs lazy = AgentFs.builder().lower(ws).build()) {
      return dump(lazy.main());
    }
  }

  @Test
  void eagerCopiesTheWholeLowerSoTheLowerMayVanish() throws Exception {
    Path ws = workspace(tmp.resolve("ws"));
    String expected = lazyDump(ws);
    try (AgentFs fs = AgentFs.builder().lower(ws, Materialize.EAGER).build()) {
      assertEquals(FILES_WITH_BYTES, fs.core().materialized());
      assertEquals(FILES_WITH_BYTES, fs.core().liveContents());
      assertEquals(0, fs.core().copyUps());
      Files.writeString(ws.resolve("README"), "changed by the host\n");
      Files.writeString(ws.resolve("src/new"), "new\n");
      assertEquals(expected, dump(fs.main()), "a lower change is not seen");
      deleteTree(ws);
      assertEquals(expected, dump(fs.main()), "nor is the lower vanishing");
      fs.main().append("/README", "more\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("readme\nmore\n", fs.main().readString("/src/hard"));
      assertEquals(0, fs.core().copyUps(), "the branch owns its bytes already");
    }
  }

  @Test
  void eagerOverHostFsReopensWithoutTheLower() throws Exception {
    Path ws = workspace(tmp.resolve("ws"));
    String expected = lazyDump(ws);
    Path storeDir = tmp.resolve("store");
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(storeDir))
        .lower(ws, Materialize.EAGER).build()) {
      HostFsBackstore store = (HostFsBackstore) fs.backstore();
      assertEquals(FILES_WITH_BYTES, store.liveContents());
      assertEquals(FILES_WITH_BYTES, store.clones() + store.copies());
      assertEquals(expected, dump(fs.main()));
    }
    deleteTree(ws);
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(storeDir)).build()) {
      assertEquals(expected, dump(fs.main()), "the store alone holds the tree");
    }
  }

  @Test
  void cloneIsRefusedWhereTheHostCannotReflink() throws Exception {
    Path ws = workspace(tmp.resolve("ws"));
    // ext4 (this machine's disk) has no reflinks: ENOTSUP (EOPNOTSUPP) and the file.
    Path storeDir = tmp.resolve("store");
    try (HostFsBackstore store = HostFsBackstore.open(storeDir)) {
      AgentFsException e = assertThrows(AgentFsException.class,
          () -> AgentFs.builder().backstore(store).lower(ws, Materialize.CLONE).open());
      assertEquals(Errno.ENOTSUP, e.errno(), e.getMessage());
      assertNotNull(e.path());
      assertTrue(e.path().startsWith(ws.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("FICLONE"), e.getMessage());
      assertEquals(0, store.liveContents(), "a refused clone leaves no content behind");
      try (Stream<Path> s = Files.walk(storeDir.resolve("data"))) {
        assertEquals(0, s.filter(Files::isRegularFile).count());
      }
    }
    // The in-memory backstore keeps no host files.
    IllegalArgumentException mem = assertThrows(IllegalArgumentException.class,
        () -> AgentFs.builder().lower(ws, Materialize.CLONE).build());
    AgentFsException cause = assertInstanceOf(AgentFsException.class, mem.getCause());
    assertEquals(Errno.ENOTSUP, cause.errno());
    // A lower on another filesystem (tmpfs) than the store: EXDEV.
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(tmp))) {
      Path other = Files.createTempDirectory(shm, "agentfs-ws");
      try {
        workspace(other.resolve("ws"));
        try (HostFsBackstore store = HostFsBackstore.open(tmp.resolve("store2"))) {
          AgentFsException x = assertThrows(AgentFsException.class, () -> AgentFs.builder()
              .backstore(store).lower(other.resolve("ws"), Materialize.CLONE).open());
          assertEquals(Errno.EXDEV, x.errno(), x.getMessage());
          assertTrue(x.path().startsWith(other.toString()), x.getMessage());
        }
      } finally {
        deleteTree(other);
      }
    }
  }

  @Test
  void cloneOnXfsWithReflinksSharesTheLowerFiles() throws Exception {
    Path mnt = tmp.resolve("xfs");
    Mounts.xfs(tmp.resolve("xfs.img"), mnt, 512);
    xfs = mnt;
    Path ws = workspace(mnt.resolve("ws"));
    String expected = lazyDump(ws);
    long free = Files.getFileStore(mnt).getUsableSpace();
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(mnt.resolve("store")))
        .lower(ws, Materialize.CLONE).build()) {
      HostFsBackstore store = (HostFsBackstore) fs.backstore();
      assertEquals(FILES_WITH_BYTES, store.clones());
      assertEquals(0, store.copies());
      assertEquals(FILES_WITH_BYTES, fs.core().materialized());
      assertTrue(free - Files.getFileStore(mnt).getUsableSpace() < (1 << 20),
          "3 MiB of files cloned without taking their space again");
      byte[] big = Files.readAllBytes(ws.resolve("src/big.bin"));
      Files.write(ws.resolve("src/big.bin"), new byte[10]); // the host changes its copy
      assertEquals(expected, dump(fs.main()));
      assertTrue(Arrays.equals(big, fs.main().read("/src/big.bin")));
      deleteTree(ws);
      assertEquals(expected, dump(fs.main()));
      assertFalse(Files.exists(ws));
    }
  }
}
