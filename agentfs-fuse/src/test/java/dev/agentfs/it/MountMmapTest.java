package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.spi.MountHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared memory mappings of files on a mount over the HostFs backstore, with the kernel's
 * writeback cache off and on, and with passthrough (where the mapping is of the host file
 * itself). A MAP_SHARED write made durable with msync must be what read(2) in another process
 * returns, what the filesystem itself holds (read through the Java API, not the page cache),
 * and what a new mount of the same store shows after unmounting; a write(2) by another
 * process must show in a live mapping; a mapping that grows the file (ftruncate, then write)
 * and one that is unmapped without msync must both reach the store too.
 */
class MountMmapTest {
  enum Mode {
    PLAIN, WRITEBACK, PASSTHROUGH
  }

  @TempDir Path tmp;
  private Path store;
  private Path mnt;

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    store = tmp.resolve("store");
    mnt = Files.createDirectory(tmp.resolve("mnt"));
  }

  private AgentFs open(Mode mode) throws Exception {
    AgentFs.Builder b = AgentFs.builder().backstore(HostFsBackstore.open(store)).threads(2);
    switch (mode) {
      case WRITEBACK -> b.enable(Feature.WRITEBACK_CACHE);
      case PASSTHROUGH -> b.passthrough(Passthrough.REQUIRED);
      default -> { }
    }
    return b.build();
  }

  /** The bytes the python script writes: page-crossing runs at known offsets. */
  private static byte[] expected() {
    byte[] b = new byte[3 * 4096 + 100];
    put(b, 0, "head");
    put(b, 4090, "crosses-a-page"); // 4090..4103: bytes in two pages
    put(b, 8192, "page-three");
    put(b, 3 * 4096 + 90, "grown-tail"); // written after ftruncate grew the file
    put(b, 5000, "pwrite-by-B");
    return b;
  }

  private static void put(byte[] b, int off, String s) {
    byte[] x = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(x, 0, b, off, x.length);
  }

  /**
   * Process A maps the file MAP_SHARED, writes, msyncs; process B (a child of A, while the
   * mapping lives) reads it with read(2) and writes a run with pwrite(2), which A must then
   * see in its mapping. A then grows the file, maps the new length and writes the tail.
   */
  private static final String SCRIPT = String.join("\n",
      "import mmap, os, subprocess, sys",
      "fd = os.open('f', os.O_RDWR | os.O_CREAT, 0o644)",
      "os.ftruncate(fd, 3 * 4096)",
      "m = mmap.mmap(fd, 3 * 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)",
      "m[0:4] = b'head'",
      "m[4090:4104] = b'crosses-a-page'",
      "m[8192:8202] = b'page-three'",
      "m.flush()",  // msync(MS_SYNC)
      "child = '''",
      "import os",
      "fd = os.open('f', os.O_RDWR)",
      "d = os.pread(fd, 3 * 4096, 0)",
      "assert d[0:4] == b'head', d[:16]",
      "assert d[4090:4104] == b'crosses-a-page' and d[8192:8202] == b'page-three'",
      "os.pwrite(fd, b'pwrite-by-B', 5000)",
      "print('B saw the mapping')",
      "'''",
      "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,",
      "    check=True).stdout.strip())",
      "assert m[5000:5011] == b'pwrite-by-B', m[5000:5011]",
      "print('A saw the pwrite')",
      "m.close()",
      "os.ftruncate(fd, 3 * 4096 + 100)",
      "g = mmap.mmap(fd, 3 * 4096 + 100, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)",
      "g[3 * 4096 + 90:3 * 4096 + 100] = b'grown-tail'",
      "g.flush()",
      "g.close()",
      // Unmapped without msync: close and unmount must still write it back.
      "os.ftruncate(os.open('u', os.O_RDWR | os.O_CREAT, 0o644), 4096)",
      "ufd = os.open('u', os.O_RDWR)",
      "u = mmap.mmap(ufd, 4096, mmap.MAP_SHARED)",
      "u[100:110] = b'no-msync!!'",
      "u.close()",
      "os.close(ufd)",
      "os.close(fd)",
      "print('done')");

  @ParameterizedTest
  @EnumSource(Mode.class)
  void sharedMappingsAreCoherentAndDurable(Mode mode) throws Exception {
    byte[] want = expected();
    try (AgentFs fs = open(mode); MountHandle h = fs.mount(mnt)) {
      if (mode == Mode.WRITEBACK) {
        assertTrue(h.grantedFeatures().contains("WRITEBACK_CACHE"), h.grantedFeatures()
            .toString());
      }
      if (mode == Mode.PASSTHROUGH) {
        assertTrue(h.grantedFeatures().contains("PASSTHROUGH"), h.grantedFeatures()
            .toString());
      }
      Proc.Result r = Proc.python(mnt, SCRIPT).ok();
      assertEquals(List.of("B saw the mapping", "A saw the pwrite", "done"),
          r.out().lines().toList(), r.toString());
      // Through the mount (another process, read(2)) and in the filesystem itself.
      assertEquals(hex(want), Proc.python(mnt,
          "import sys; sys.stdout.write(open('f', 'rb').read().hex())").ok().out());
      assertEquals(hex(want), hex(fs.main().read("/f")), "what the filesystem holds");
    }
    // A new instance over the same store, a new mount: the same bytes.
    try (AgentFs fs = open(mode); MountHandle h = fs.mount(mnt)) {
      assertArrayEquals(want, Files.readAllBytes(mnt.resolve("f")));
      byte[] u = Files.readAllBytes(mnt.resolve("u"));
      assertEquals(4096, u.length);
      assertEquals("no-msync!!", new String(u, 100, 10,
          java.nio.charset.StandardCharsets.US_ASCII), "munmap and close without msync");
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
