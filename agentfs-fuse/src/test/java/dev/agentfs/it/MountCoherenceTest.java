package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.core.FsCore;
import dev.agentfs.fuse.session.FuseSession;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One branch seen three ways at once: the kernel mount, the in-process java.nio FileSystem and
 * the Java API. A change through any is visible through the others immediately; locks agree.
 */
class MountCoherenceTest {
  @TempDir Path tmp;
  Fuse.Mounted m;
  FileSystem nio;

  @BeforeEach
  void mount() throws Exception {
    m = Fuse.mount(tmp);
    nio = m.fs().main().asFileSystem();
  }

  @AfterEach
  void unmount() throws Exception {
    if (nio != null) {
      nio.close();
    }
    if (m != null) {
      m.close();
    }
  }

  @Test
  void writesThroughNioAreVisibleThroughTheMountAndBack() throws Exception {
    Path viaNio = nio.getPath("/shared.txt");
    Path viaKernel = m.path("shared.txt");
    Files.writeString(viaNio, "from nio");
    assertEquals("from nio", Files.readString(viaKernel));
    Files.writeString(viaKernel, "from the kernel, longer");
    assertEquals("from the kernel, longer", Files.readString(viaNio));
    // Overwrite through NIO again: the kernel's page cache of the file must be dropped.
    Files.writeString(viaNio, "third");
    assertEquals("third", Files.readString(viaKernel));
    Files.createDirectories(nio.getPath("/d/e"));
    assertTrue(Files.isDirectory(m.path("d/e")));
    Files.delete(nio.getPath("/d/e"));
    assertFalse(Files.exists(m.path("d/e")));
    Files.move(viaNio, nio.getPath("/d/moved.txt"));
    assertFalse(Files.exists(viaKernel));
    assertEquals("third", Files.readString(m.path("d/moved.txt")));
  }

  @Test
  void aCachedAbsenceEndsWhenTheNameAppearsThroughTheApiOrAReset() throws Exception {
    FuseSession s = FuseSession.live(m.dir());
    assertNotNull(s);
    Files.createDirectory(m.path("dir"));
    m.fs().snapshot("empty");
    m.fs().main().write("/dir/restored", "from the snapshot");
    m.fs().snapshot("full");
    Path later = m.path("dir/later.txt");
    long before = s.requestCounts().getOrDefault("LOOKUP", 0L);
    for (int i = 0; i < 100; i++) {
      assertFalse(Files.exists(later));
    }
    // The kernel remembers the absence: one LOOKUP for a hundred stats.
    assertEquals(1, s.requestCounts().getOrDefault("LOOKUP", 0L) - before);
    m.fs().main().write("/dir/later.txt", "via the API");
    assertEquals("via the API", Files.readString(later));
    m.fs().main().delete("/dir/restored");
    assertFalse(Files.exists(m.path("dir/restored")));
    m.fs().resetBranch("main", "full");
    assertEquals("from the snapshot", Files.readString(m.path("dir/restored")));
    assertFalse(Files.exists(later));
    m.fs().resetBranch("main", "empty");
    assertFalse(Files.exists(m.path("dir/restored")));
  }

  @Test
  void aLockTakenThroughTheMountBlocksTheSameRangeThroughNio() throws Exception {
    Files.writeString(m.path("locked"), "data");
    // A child process holds an fcntl lock through the kernel until we let it go.
    Process holder = new ProcessBuilder("python3", "-c", """
        import fcntl, sys
        f = open(sys.argv[1], 'r+')
        fcntl.lockf(f, fcntl.LOCK_EX, 0, 0)
        print('locked', flush=True)
        sys.stdin.read()
        """, m.path("locked").toString()).start();
    try {
      assertEquals("locked", new String(holder.getInputStream().readNBytes(6)));
      try (FileChannel ch = FileChannel.open(nio.getPath("/locked"), StandardOpenOption.WRITE)) {
        FileLock l = ch.tryLock();
        assertEquals(null, l, "the kernel-side lock must be seen by the NIO channel");
      }
      holder.getOutputStream().close();
      assertEquals(0, holder.waitFor());
      try (FileChannel ch = FileChannel.open(nio.getPath("/locked"), StandardOpenOption.WRITE);
          FileLock l = ch.tryLock()) {
        assertTrue(l != null && l.isValid());
      }
    } finally {
      holder.destroyForcibly();
    }
  }

  @Test
  void aHundredThousandCreatesAndDeletesLeaveNoInodeBehind() throws Exception {
    FsCore core = m.fs().core();
    int before = core.liveInodes("main");
    Path d = Files.createDirectory(m.path("many"));
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      Files.createFile(d.resolve("f" + i));
    }
    assertEquals(before + n + 1, core.liveInodes("main"));
    for (int i = 0; i < n; i++) {
      Files.delete(d.resolve("f" + i));
    }
    Files.delete(d);
    // FORGET travels asynchronously (the kernel batches it): wait for it with a deadline.
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (core.liveInodes("main") != before && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    assertEquals(before, core.liveInodes("main"), "inodes left in the table or as orphans");
    assertEquals(0, core.kernelReferences("main", 100), "kernel references not forgotten");
  }
}
