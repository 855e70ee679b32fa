package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full disk, made with an 8 MiB tmpfs: ENOSPC surfaces as ENOSPC and changes nothing. */
class HostFsEnospcTest {
  @TempDir Path dir;
  private Path mount;
  private HostFsBackstore store;

  @BeforeEach
  void mountSmallTmpfs() throws Exception {
    mount = dir.resolve("mnt");
    Mounts.tmpfs(mount, "8m");
    store = HostFsBackstore.builder().statsInterval(java.time.Duration.ZERO).open(mount.resolve("s"));
  }

  @AfterEach
  void unmount() throws Exception {
    if (store != null) {
      store.close();
    }
    if (mount != null && Files.isDirectory(mount)) {
      Mounts.unmount(mount);
    }
  }

  @Test
  void fullDiskFailsWritesWithEnospcAndKeepsContent() throws Exception {
    assertTrue(store.capacityBytes() <= 8L << 20, "capacity " + store.capacityBytes());
    HostContent c = store.newContent();
    Random r = new Random(1);
    byte[] model = new byte[0];
    AgentFsException full = null;
    for (int i = 0; i < 1000 && full == null; i++) {
      byte[] chunk = new byte[256 * 1024];
      r.nextBytes(chunk);
      try {
        c.write((long) i * chunk.length, ByteBuffer.wrap(chunk));
        model = Arrays.copyOf(model, (i + 1) * chunk.length);
        System.arraycopy(chunk, 0, model, i * chunk.length, chunk.length);
      } catch (AgentFsException e) {
        full = e;
      }
    }
    assertNotNull(full, "an 8 MiB tmpfs took 250 MiB");
    assertEquals(Errno.ENOSPC, full.errno());
    assertEquals(c.hostPath().toString(), full.path());
    assertEquals(model.length, c.size(), "the failed write changed the size");
    ByteBuffer got = ByteBuffer.allocate(model.length);
    c.read(0, got);
    assertArrayEquals(model, got.array(), "content after ENOSPC");
    assertTrue(store.availableBytes() < 256 * 1024, "available " + store.availableBytes());

    // An overlapping write that would also extend the file fails as a whole.
    byte[] big = new byte[2 << 20];
    r.nextBytes(big);
    long overlap = model.length - 1000;
    AgentFsException e2 =
        assertThrows(AgentFsException.class, () -> c.write(overlap, ByteBuffer.wrap(big)));
    assertEquals(Errno.ENOSPC, e2.errno());
    assertEquals(model.length, c.size());
    got.clear();
    c.read(0, got);
    assertArrayEquals(model, got.array(), "content after the failed overlapping write");

    AgentFsException e3 = assertThrows(AgentFsException.class, () -> c.allocate(0, 64L << 20, false));
    assertEquals(Errno.ENOSPC, e3.errno());
    assertEquals(model.length, c.size(), "failed allocate changed the size");

    AgentFsException e4 = assertThrows(AgentFsException.class, c::copy);
    assertEquals(Errno.ENOSPC, e4.errno());
    assertEquals(1, store.liveContents(), "the failed copy was cleaned up");

    // The log reports it too, and a later append after freeing space works.
    AgentFsException e5 =
        assertThrows(
            AgentFsException.class,
            () -> store.metadataLog().append(List.of(ByteBuffer.allocate(1 << 20)), true));
    assertEquals(Errno.ENOSPC, e5.errno());

    c.truncate(0);
    c.write(0, ByteBuffer.wrap(new byte[512 * 1024]));
    assertEquals(512 * 1024, c.size());
    store.metadataLog().append(List.of(ByteBuffer.wrap(new byte[] {1})), true);
    int[] batches = {0};
    store.metadataLog().replay(b -> batches[0]++);
    assertEquals(1, batches[0], "the failed append left no batch");
  }
}
