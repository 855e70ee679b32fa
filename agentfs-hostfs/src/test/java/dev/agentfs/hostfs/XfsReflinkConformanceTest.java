package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance kit on an XFS loop image, where copies are reflinks.
 *
 * <p>{@code copyOfLargeFileSharesStorage} is disabled: it measures sharing through {@link
 * Backstore#usedBytes()}, which counts each file's allocation, so a reflinked extent counts once
 * per file sharing it (exact shared-extent accounting would need FIEMAP and a map of physical
 * extents). {@link #copiesShareStorageOnXfs} checks the same property against the free space of
 * the XFS filesystem, which only this test uses.
 */
@ExtendWith(HostFsBackstoreConformanceTest.NeedsReflink.class)
class XfsReflinkConformanceTest extends AbstractBackstoreConformanceTest {
  @TempDir static Path scratch;
  private static Path mount;
  private static final AtomicInteger STORES = new AtomicInteger();

  @BeforeAll
  static void mountXfs() throws Exception {
    mount = scratch.resolve("mnt");
    Mounts.xfs(scratch.resolve("xfs.img"), mount, 1024);
  }

  @AfterAll
  static void unmountXfs() throws Exception {
    if (mount != null && Files.isDirectory(mount)) {
      Mounts.unmount(mount);
    }
  }

  @Override
  protected Backstore newBackstore() throws Exception {
    return HostFsBackstore.builder()
        .maxOpenFiles(16)
        .cloneMode(HostFsBackstore.CloneMode.REFLINK)
        .open(mount.resolve("store" + STORES.incrementAndGet()));
  }

  @Test
  void copiesAreReflinks() throws Exception {
    HostFsBackstore s = (HostFsBackstore) store;
    assertTrue(s.features().contains(BackstoreFeature.NATIVE_CLONE), "features " + s.features());
    var c = content();
    write(c, 0, new byte[100_000]);
    copyOf(c);
    assertTrue(s.clones() == 1 && s.copies() == 0, "clones " + s.clones() + " copies " + s.copies());
  }

  @Test
  void copiesShareStorageOnXfs() throws Exception {
    var fs = Files.getFileStore(mount);
    int mib = 1024 * 1024;
    var c = content();
    byte[] data = random(new java.util.Random(10), 8 * mib);
    write(c, 0, data);
    c.sync(false);
    long before = fs.getUsableSpace();
    var copy = copyOf(c);
    copy.sync(false);
    long afterCopy = fs.getUsableSpace();
    assertTrue(before - afterCopy < mib, "the copy took " + (before - afterCopy) + " bytes");
    write(copy, 4L * mib + 3, new byte[] {1});
    copy.sync(false);
    long afterWrite = fs.getUsableSpace();
    assertTrue(
        afterCopy - afterWrite < 2 * mib,
        "a 1-byte write after the copy took " + (afterCopy - afterWrite) + " bytes");
    assertBytes(new byte[] {1}, read(copy, 4L * mib + 3, 1), "written byte");
    assertBytes(data, read(c, 0, data.length), "the original after writing the copy");
  }
}
