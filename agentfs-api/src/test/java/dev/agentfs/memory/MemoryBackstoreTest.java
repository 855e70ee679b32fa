package dev.agentfs.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.BackstoreProvider;
import dev.agentfs.spi.Content;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** What the memory backstore promises beyond the SPI: exact accounting, chunking, spill. */
class MemoryBackstoreTest {
  private static final int K = 1024;
  private static final int CHUNK = 64 * K;
  private static final int MIB = 1024 * 1024;

  @TempDir Path tmp;

  // ---- accounting and chunk sharing ---------------------------------------------------------

  @Test
  void sharedChunksAreCountedOnce() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content a = s.newContent();
    write(a, 0, random(1, MIB));
    assertEquals(MIB, s.usedBytes());
    assertEquals(MIB, a.allocatedBytes());

    Content b = a.copy();
    assertEquals(MIB, s.usedBytes(), "copy must share chunks");
    assertEquals(MIB, b.allocatedBytes(), "each file reports its own blocks");

    write(b, 300_000, new byte[] {1});
    assertEquals(MIB + CHUNK, s.usedBytes(), "one byte after copy unshares one chunk");

    // The original is now the chunk's only owner: it writes in place, no copy.
    write(a, 300_000, new byte[] {2});
    assertEquals(MIB + CHUNK, s.usedBytes());
    assertEquals(1, read(b, 300_000, 1)[0]);
    assertEquals(2, read(a, 300_000, 1)[0]);

    b.release();
    assertEquals(MIB, s.usedBytes());
    a.release();
    assertEquals(0, s.usedBytes());
    assertEquals(0, s.heapBytes());
  }

  @Test
  void writeAfterCopyOfLargeFileCopiesOneChunk() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content a = s.newContent();
    byte[] block = random(2, MIB);
    for (int i = 0; i < 64; i++) {
      write(a, (long) i * MIB, block);
    }
    long used = s.usedBytes();
    assertEquals(64L * MIB, used);
    Content b = a.copy();
    write(b, 40L * MIB + 12345, new byte[] {7});
    assertEquals(used + CHUNK, s.usedBytes());
    // A write straddling two chunks unshares exactly those two.
    write(b, 20L * MIB - 1, new byte[] {7, 7});
    assertEquals(used + 3 * CHUNK, s.usedBytes());
    a.release();
    b.release();
    assertEquals(0, s.usedBytes());
  }

  @Test
  void smallFilesStoreOnlyWhatTheyNeed() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    write(c, 0, new byte[] {1});
    assertEquals(512, c.allocatedBytes());
    write(c, 0, new byte[1000]);
    write(c, 999, new byte[] {9});
    assertEquals(1024, c.allocatedBytes());
    write(c, 69_999, new byte[] {9}); // chunk 1 needs 4464 bytes -> 8 KiB
    assertEquals(1024 + 8192, c.allocatedBytes());
    assertEquals(c.allocatedBytes(), s.usedBytes());
    // Truncating gives back what is no longer needed.
    c.truncate(10);
    assertEquals(512, c.allocatedBytes());
    assertEquals(512, s.usedBytes());
  }

  @Test
  void zerosIntoHolesAllocateNothing() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    write(c, 0, new byte[3 * CHUNK + 5]);
    assertEquals(3 * CHUNK + 5, c.size());
    assertEquals(0, c.allocatedBytes());
    assertEquals(0, s.usedBytes());
    byte[] mixed = new byte[2 * CHUNK];
    mixed[CHUNK + 1] = 1; // only the second chunk needs storage, up to the end of the write
    write(c, 0, mixed);
    assertEquals(CHUNK, c.allocatedBytes());
    assertEquals(CHUNK, c.seekData(0));
  }

  @Test
  void truncateOfSharedBoundaryChunkCopiesOnlyItsPrefix() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content a = s.newContent();
    byte[] data = random(3, 4 * CHUNK);
    write(a, 0, data);
    Content b = a.copy();
    b.truncate(CHUNK + 4464); // keep 4464 bytes of chunk 1 -> an 8 KiB private copy
    assertEquals(4 * CHUNK + 8192, s.usedBytes());
    assertEquals(CHUNK + 8192, b.allocatedBytes());
    b.truncate(3 * CHUNK);
    assertArrayEquals(Arrays.copyOf(data, CHUNK + 4464), Arrays.copyOf(read(b, 0, 3 * CHUNK), CHUNK + 4464));
    assertArrayEquals(new byte[2 * CHUNK - 4464], Arrays.copyOfRange(read(b, 0, 3 * CHUNK), CHUNK + 4464, 3 * CHUNK));
    assertArrayEquals(data, read(a, 0, data.length));
    b.release();
    assertEquals(4 * CHUNK, s.usedBytes());
  }

  @Test
  void punchOfSharedPartialChunkCopiesIt() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content a = s.newContent();
    byte[] data = random(4, 3 * CHUNK);
    write(a, 0, data);
    Content b = a.copy();
    b.punchHole(100, 2 * CHUNK); // partial chunk 0, whole chunk 1, partial chunk 2
    // Chunk 0 keeps only its first 100 bytes (a 512-byte copy), chunk 2 is copied whole.
    assertEquals(3 * CHUNK + 512 + CHUNK, s.usedBytes(), "chunks 0 and 2 unshared");
    assertEquals(512 + CHUNK, b.allocatedBytes());
    byte[] expect = data.clone();
    Arrays.fill(expect, 100, 100 + 2 * CHUNK, (byte) 0);
    assertArrayEquals(expect, read(b, 0, data.length));
    assertArrayEquals(data, read(a, 0, data.length));
  }

  @Test
  void enospcIsExactAndOverwritesStillWork() throws Exception {
    MemoryBackstore s = MemoryBackstore.builder().capacity(2 * CHUNK).build();
    assertEquals(Set.of(BackstoreFeature.BOUNDED), s.features());
    Content c = s.newContent();
    write(c, 0, random(5, 2 * CHUNK));
    assertEquals(0, s.availableBytes());
    AgentFsException e = assertThrows(AgentFsException.class, () -> write(c, 2 * CHUNK, new byte[] {1}));
    assertEquals(Errno.ENOSPC, e.errno());
    write(c, 10, new byte[] {1, 2, 3}); // in place: no new storage
    // Zeros into a hole need no storage, so they succeed even when full.
    write(c, 5L * CHUNK, new byte[100]);
    assertEquals(5L * CHUNK + 100, c.size());
    Content copy = c.copy();
    AgentFsException e2 = assertThrows(AgentFsException.class, () -> copy.truncate(100));
    assertEquals(Errno.ENOSPC, e2.errno(), "a shared boundary chunk needs a private copy");
    assertEquals(5L * CHUNK + 100, copy.size());
    copy.truncate(CHUNK); // an aligned shrink needs no copy
    assertEquals(CHUNK, copy.size());
  }

  @Test
  void allocateThatCannotFitTheHeapFailsWithEnospc() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    AgentFsException e = assertThrows(AgentFsException.class, () -> c.allocate(0, 1L << 50, false));
    assertEquals(Errno.ENOSPC, e.errno());
    assertEquals(0, c.size());
    assertEquals(0, s.usedBytes());
  }

  @Test
  void allocateGrowsShortChunksAndLeavesSharedOnes() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    write(c, 0, new byte[] {1});
    assertEquals(512, c.allocatedBytes());
    c.allocate(0, 2 * CHUNK + 1, true);
    assertEquals(2 * CHUNK + 512, c.allocatedBytes());
    assertEquals(1, c.size());
    Content d = c.copy();
    d.allocate(0, 2 * CHUNK + 1, false);
    assertEquals(2 * CHUNK + 512, s.usedBytes(), "allocate does not unshare");
    assertEquals(2 * CHUNK + 1, d.size());
  }

  @Test
  void seekGranularityIsTheChunk() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    write(c, 100_000, new byte[] {1});
    write(c, 200_000, new byte[] {1});
    assertEquals(CHUNK, c.seekData(0));
    assertEquals(0, c.seekHole(0));
    assertEquals(2 * CHUNK, c.seekHole(70_000));
    assertEquals(3 * CHUNK, c.seekData(2 * CHUNK));
    assertEquals(c.size(), c.seekHole(3 * CHUNK));
    assertEquals(-1, c.seekData(c.size()));
    assertEquals(-1, c.seekHole(c.size()));
  }

  // ---- limits and argument checks -----------------------------------------------------------

  @Test
  void maxFileSizeIsEnforced() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    long max = MemoryBackstore.MAX_FILE_SIZE;
    write(c, max - 1, new byte[] {5});
    assertEquals(max, c.size());
    assertEquals(5, read(c, max - 1, 10)[0]);
    assertErrno(Errno.EFBIG, () -> write(c, max - 1, new byte[2]));
    assertErrno(Errno.EFBIG, () -> c.truncate(max + 1));
    assertErrno(Errno.EFBIG, () -> c.allocate(max, 1, true));
    assertErrno(Errno.EFBIG, () -> c.punchHole(max - 1, 2));
    c.truncate(max);
    assertEquals(max - CHUNK, c.seekData(max - CHUNK - 1));
    assertTrue(c.allocatedBytes() <= CHUNK);
  }

  @Test
  void badArgumentsAreEinval() throws Exception {
    Content c = MemoryBackstore.create().newContent();
    assertErrno(Errno.EINVAL, () -> c.read(-1, ByteBuffer.allocate(1)));
    assertErrno(Errno.EINVAL, () -> c.write(-1, ByteBuffer.allocate(1)));
    assertErrno(Errno.EINVAL, () -> c.truncate(-1));
    assertErrno(Errno.EINVAL, () -> c.allocate(0, 0, false));
    assertErrno(Errno.EINVAL, () -> c.allocate(-1, 10, false));
    assertErrno(Errno.EINVAL, () -> c.punchHole(0, 0));
    assertErrno(Errno.EINVAL, () -> c.seekData(-1));
    assertErrno(Errno.EINVAL, () -> c.seekHole(-1));
  }

  @Test
  void releasedContentIsStale() throws Exception {
    MemoryBackstore s = MemoryBackstore.create();
    Content c = s.newContent();
    write(c, 0, new byte[] {1});
    c.release();
    c.release();
    assertEquals(0, s.usedBytes());
    assertErrno(Errno.ESTALE, () -> c.read(0, ByteBuffer.allocate(1)));
    assertErrno(Errno.ESTALE, () -> write(c, 0, new byte[] {1}));
    assertErrno(Errno.ESTALE, c::copy);
  }

  @Test
  void closedStoreRefusesNewContent() {
    MemoryBackstore s = MemoryBackstore.create();
    s.close();
    assertErrno(Errno.EIO, s::newContent);
  }

  @Test
  void builderChecksItsArguments() {
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstore.builder().capacity(0));
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstore.builder().chunkSize(1000));
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstore.builder().chunkSize(256));
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstore.builder().spillThreshold(-1));
    assertThrows(
        IllegalStateException.class, () -> MemoryBackstore.builder().spillThreshold(10).build());
    MemoryBackstore s = MemoryBackstore.create();
    assertEquals("memory", s.name());
    assertTrue(s.features().isEmpty());
    assertEquals(Long.MAX_VALUE, s.capacityBytes());
    assertEquals(MemoryBackstore.DEFAULT_CHUNK_SIZE, s.chunkSize());
  }

  // ---- spill --------------------------------------------------------------------------------

  @Test
  void chunksPastTheThresholdSpillAndComeBack() throws Exception {
    MemoryBackstore s =
        MemoryBackstore.builder()
            .capacity(8L * MIB)
            .spillDirectory(tmp)
            .spillThreshold(256 * K)
            .build();
    Content c = s.newContent();
    byte[] data = random(6, 2 * MIB);
    for (int off = 0; off < data.length; off += CHUNK) {
      write(c, off, Arrays.copyOfRange(data, off, off + CHUNK));
    }
    assertEquals(256 * K, s.heapBytes());
    assertEquals(2 * MIB - 256 * K, s.spilledBytes());
    assertEquals(s.heapBytes() + s.spilledBytes(), s.usedBytes());
    assertTrue(s.spillFileBytes() >= 2 * MIB - 256 * K, "spill file " + s.spillFileBytes());
    assertArrayEquals(data, read(c, 0, data.length));

    // Copy-on-write of spilled chunks, and in-place writes to private spilled chunks.
    Content d = c.copy();
    write(d, MIB + 5, new byte[] {1, 2, 3});
    write(c, MIB + 5 + CHUNK, new byte[] {4});
    byte[] dExpect = data.clone();
    dExpect[MIB + 5] = 1;
    dExpect[MIB + 6] = 2;
    dExpect[MIB + 7] = 3;
    byte[] cExpect = data.clone();
    cExpect[MIB + 5 + CHUNK] = 4;
    assertArrayEquals(dExpect, read(d, 0, data.length));
    assertArrayEquals(cExpect, read(c, 0, data.length));

    c.release();
    d.release();
    assertEquals(0, s.usedBytes());
    assertEquals(0, s.spilledBytes());
    long fileSize = s.spillFileBytes();

    // Freed slots are reused: writing the same amount again does not grow the file.
    Content e = s.newContent();
    for (int off = 0; off < data.length; off += CHUNK) {
      write(e, off, Arrays.copyOfRange(data, off, off + CHUNK));
    }
    assertArrayEquals(data, read(e, 0, data.length));
    assertEquals(fileSize, s.spillFileBytes(), "freed slots were not reused");
    s.close();
    try (var left = Files.list(tmp)) {
      assertEquals(0, left.count(), "spill file left behind");
    }
  }

  @Test
  void reusedSpillSlotsReadAsZerosPastNewData() throws Exception {
    MemoryBackstore s =
        MemoryBackstore.builder().chunkSize(4096).spillDirectory(tmp).spillThreshold(0).build();
    Content a = s.newContent();
    write(a, 0, random(7, 4096));
    a.release();
    // The freed slot still holds random bytes; a new chunk in it must not expose them.
    Content b = s.newContent();
    write(b, 0, new byte[] {1});
    b.truncate(4096);
    byte[] expect = new byte[4096];
    expect[0] = 1;
    assertArrayEquals(expect, read(b, 0, 4096));
    write(b, 4000, new byte[] {2}); // grows the chunk in its slot
    expect[4000] = 2;
    assertArrayEquals(expect, read(b, 0, 4096));
    s.close();
  }

  @Test
  void spillStillStopsAtCapacity() throws Exception {
    MemoryBackstore s =
        MemoryBackstore.builder()
            .capacity(512 * K)
            .spillDirectory(tmp)
            .spillThreshold(128 * K)
            .build();
    Content c = s.newContent();
    List<byte[]> written = new ArrayList<>();
    AgentFsException full = null;
    for (int i = 0; i < 100 && full == null; i++) {
      byte[] block = random(100 + i, CHUNK);
      try {
        write(c, (long) i * CHUNK, block);
        written.add(block);
      } catch (AgentFsException e) {
        full = e;
      }
    }
    assertTrue(full != null && full.errno() == Errno.ENOSPC, "expected ENOSPC, got " + full);
    assertEquals(8, written.size());
    assertEquals(128 * K, s.heapBytes());
    assertEquals(384 * K, s.spilledBytes());
    for (int i = 0; i < written.size(); i++) {
      assertArrayEquals(written.get(i), read(c, (long) i * CHUNK, CHUNK));
    }
    s.close();
  }

  @Test
  void contentWithSpilledChunksFailsWithEioAfterClose() throws Exception {
    MemoryBackstore s =
        MemoryBackstore.builder().spillDirectory(tmp).spillThreshold(0).build();
    Content c = s.newContent();
    write(c, 0, new byte[] {1});
    s.close();
    assertErrno(Errno.EIO, () -> read(c, 0, 1));
    c.release();
  }

  // ---- provider -----------------------------------------------------------------------------

  @Test
  void providerIsFoundAndParsesOptions() throws Exception {
    BackstoreProvider p = null;
    for (BackstoreProvider candidate : ServiceLoader.load(BackstoreProvider.class)) {
      if (candidate.scheme().equals("memory")) {
        p = candidate;
      }
    }
    assertTrue(p != null, "no 'memory' provider in META-INF/services");
    try (Backstore b = p.open("")) {
      assertEquals(Long.MAX_VALUE, b.capacityBytes());
      assertEquals("memory", b.name());
    }
    try (Backstore b = p.open("capacity=64m")) {
      assertEquals(64L * MIB, b.capacityBytes());
      assertTrue(b.features().contains(BackstoreFeature.BOUNDED));
    }
    String spec = "capacity=1m, chunk=4k, spill=" + tmp + ", spillThreshold=0";
    try (Backstore b = p.open(spec)) {
      MemoryBackstore m = (MemoryBackstore) b;
      assertEquals(4096, m.chunkSize());
      assertEquals(tmp, m.spillDirectory().orElseThrow());
      assertEquals(0, m.spillThreshold());
    }
    BackstoreProvider provider = p;
    assertErrno(Errno.EINVAL, () -> provider.open("bogus=1"));
    assertErrno(Errno.EINVAL, () -> provider.open("capacity"));
    assertErrno(Errno.EINVAL, () -> provider.open("capacity=lots"));
    assertErrno(Errno.EINVAL, () -> provider.open("chunk=1000"));
    assertErrno(Errno.EINVAL, () -> provider.open("chunk=8g"));
    assertErrno(Errno.EINVAL, () -> provider.open("spillThreshold=1m"));
  }

  @Test
  void sizesParse() {
    assertEquals(4096, MemoryBackstoreProvider.parseSize("4096"));
    assertEquals(64 * K, MemoryBackstoreProvider.parseSize("64k"));
    assertEquals(64L * MIB, MemoryBackstoreProvider.parseSize("64M"));
    assertEquals(2L << 30, MemoryBackstoreProvider.parseSize("2GB"));
    assertEquals(1L << 40, MemoryBackstoreProvider.parseSize("1t"));
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstoreProvider.parseSize("-1"));
    assertThrows(IllegalArgumentException.class, () -> MemoryBackstoreProvider.parseSize("k"));
    assertThrows(
        IllegalArgumentException.class, () -> MemoryBackstoreProvider.parseSize("99999999t"));
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static void assertErrno(Errno errno, Executable call) {
    AgentFsException e = assertThrows(AgentFsException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  private static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void write(Content c, long off, byte[] data) throws AgentFsException {
    c.write(off, ByteBuffer.wrap(data));
  }

  private static byte[] read(Content c, long off, int len) throws AgentFsException {
    ByteBuffer dst = ByteBuffer.allocate(len);
    while (dst.hasRemaining() && c.read(off + dst.position(), dst) > 0) {
      // keep reading
    }
    return Arrays.copyOf(dst.array(), dst.position());
  }
}
