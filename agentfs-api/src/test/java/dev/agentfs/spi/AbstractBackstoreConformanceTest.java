package dev.agentfs.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backstore conformance kit: the behaviour the copy-on-write core relies on from every
 * {@link Backstore} and {@link Content}. Shipped in the agentfs-api test-jar; a backstore author
 * extends it, implements {@link #newBackstore()} and, when the store can be bounded, {@link
 * #newBoundedBackstore(long)}, and runs it with JUnit 5.
 *
 * <p>The tests use only the SPI, avoid assumptions about chunk or block sizes (offsets are chosen
 * to straddle the usual 512 B to 1 MiB granularities), compare against a plain byte-array model,
 * and are deterministic: randomised tests print their seed on failure.
 */
public abstract class AbstractBackstoreConformanceTest {
  private static final int KIB = 1024;
  private static final int MIB = 1024 * 1024;

  /** A new, empty backstore; the kit closes it after each test. */
  protected abstract Backstore newBackstore() throws Exception;

  /**
   * A new, empty backstore holding at most {@code capacity} bytes, or null when the backstore
   * cannot be bounded (the ENOSPC tests are then skipped).
   */
  protected @Nullable Backstore newBoundedBackstore(long capacity) throws Exception {
    return null;
  }

  /**
   * Whether holes are real: seekData/seekHole find them and punchHole/truncate release storage.
   * A backstore that reports everything as data may return false; the contract still holds.
   */
  protected boolean reportsHoles() {
    return true;
  }

  /** Operations in each randomised model run. */
  protected int modelOperations() {
    return 3000;
  }

  /** The backstore under test in the current test method. */
  protected Backstore store;

  private final List<Backstore> stores = new ArrayList<>();
  private final List<Content> contents = new ArrayList<>();

  @BeforeEach
  void openStore() throws Exception {
    store = track(newBackstore());
  }

  @AfterEach
  void closeStores() {
    for (Content c : contents) {
      c.release();
    }
    for (Backstore s : stores) {
      s.close();
    }
  }

  private Backstore track(Backstore s) {
    stores.add(s);
    return s;
  }

  /** A new content of {@code s} that the kit releases after the test. */
  protected Content content(Backstore s) throws AgentFsException {
    Content c = s.newContent();
    contents.add(c);
    return c;
  }

  protected Content content() throws AgentFsException {
    return content(store);
  }

  protected Content copyOf(Content c) throws AgentFsException {
    Content copy = c.copy();
    contents.add(copy);
    return copy;
  }

  private @Nullable Backstore bounded(long capacity) throws Exception {
    Backstore s = newBoundedBackstore(capacity);
    return s == null ? null : track(s);
  }

  // ---- basic I/O ----------------------------------------------------------------------------

  @Test
  void newContentIsEmpty() throws Exception {
    Content c = content();
    assertEquals(0, c.size());
    assertEquals(0, c.allocatedBytes());
    assertEquals(0, c.read(0, ByteBuffer.allocate(10)));
    assertEquals(0, c.read(12345, ByteBuffer.allocate(10)));
  }

  @ParameterizedTest
  @ValueSource(
      longs = {0, 1, 511, 512, 4095, 4096, 65535, 65536, 65537, MIB - 1, MIB + 3, 3L * MIB + 7})
  void roundTripAtOffset(long offset) throws Exception {
    Random r = new Random(offset);
    for (int len : new int[] {1, 7, 512, 4096, 65536, 65537, 200_000}) {
      Content c = content();
      byte[] data = random(r, len);
      write(c, offset, data);
      assertEquals(offset + len, c.size(), "size after write of " + len + " at " + offset);
      assertBytes(data, read(c, offset, len), "round trip of " + len + " at " + offset);
      assertBytes(new byte[(int) offset], read(c, 0, (int) offset), "bytes before the write");
    }
  }

  @Test
  void overlappingWritesMatchModel() throws Exception {
    Random r = new Random(42);
    Content c = content();
    byte[] model = new byte[2 * MIB];
    for (int i = 0; i < 200; i++) {
      int off = r.nextInt(model.length - 70_000);
      byte[] data = random(r, 1 + r.nextInt(70_000));
      System.arraycopy(data, 0, model, off, data.length);
      write(c, off, data);
    }
    byte[] actual = read(c, 0, (int) c.size());
    assertBytes(Arrays.copyOf(model, (int) c.size()), actual, "after overlapping writes");
  }

  @Test
  void readPastEndIsShort() throws Exception {
    Content c = content();
    byte[] data = random(new Random(1), 100);
    write(c, 0, data);
    ByteBuffer dst = ByteBuffer.allocate(100);
    assertEquals(50, c.read(50, dst));
    assertEquals(50, dst.position());
    assertBytes(Arrays.copyOfRange(data, 50, 100), Arrays.copyOf(dst.array(), 50), "tail");
    assertEquals(0, c.read(100, ByteBuffer.allocate(10)));
    assertEquals(0, c.read(1_000_000, ByteBuffer.allocate(10)));
    assertEquals(0, c.read(0, ByteBuffer.allocate(0)));
  }

  @Test
  void directReadOnlyAndOffsetBuffers() throws Exception {
    Content c = content();
    byte[] data = random(new Random(2), 100_000);
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length);
    direct.put(data).flip();
    c.write(10, direct);
    assertFalse(direct.hasRemaining(), "write consumes the source");
    // A read-only view of a slice with a non-zero array offset and position.
    byte[] framed = new byte[data.length + 20];
    System.arraycopy(data, 0, framed, 10, data.length);
    ByteBuffer ro = ByteBuffer.wrap(framed, 5, data.length + 10).slice().asReadOnlyBuffer();
    ro.position(5).limit(5 + data.length);
    c.write(200_000, ro);
    assertFalse(ro.hasRemaining());

    ByteBuffer dst = ByteBuffer.allocateDirect(data.length);
    assertEquals(data.length, c.read(10, dst));
    dst.flip();
    byte[] got = new byte[data.length];
    dst.get(got);
    assertBytes(data, got, "direct read");
    assertBytes(data, read(c, 200_000, data.length), "read-only source");
    // A destination with a non-zero position keeps its prefix.
    ByteBuffer partial = ByteBuffer.allocate(30);
    partial.put(new byte[] {9, 9, 9});
    assertEquals(27, c.read(10, partial));
    assertEquals(9, partial.get(0));
    assertEquals(data[0], partial.get(3));
  }

  @Test
  void zeroLengthWriteChangesNothing() throws Exception {
    Content c = content();
    c.write(1000, ByteBuffer.allocate(0));
    assertEquals(0, c.size());
    write(c, 0, new byte[] {1, 2, 3});
    c.write(10, ByteBuffer.allocate(0));
    assertEquals(3, c.size());
  }

  @Test
  void writePastMaximumFailsWithEfbig() throws Exception {
    Content c = content();
    AgentFsException e =
        assertThrows(
            AgentFsException.class, () -> c.write(Long.MAX_VALUE - 10, ByteBuffer.allocate(100)));
    assertEquals(Errno.EFBIG, e.errno());
    assertEquals(0, c.size());
  }

  @Test
  void syncKeepsData() throws Exception {
    Content c = content();
    byte[] data = random(new Random(3), 5000);
    write(c, 0, data);
    c.sync(false);
    c.sync(true);
    assertBytes(data, read(c, 0, data.length), "after sync");
  }

  // ---- holes and sizes ----------------------------------------------------------------------

  @Test
  void holesReadAsZeros() throws Exception {
    Content c = content();
    byte[] a = random(new Random(4), 1000);
    byte[] b = random(new Random(5), 1000);
    write(c, 0, a);
    write(c, 10L * MIB, b);
    assertEquals(10L * MIB + 1000, c.size());
    assertBytes(new byte[10 * MIB - 1000], read(c, 1000, 10 * MIB - 1000), "the hole");
    assertBytes(b, read(c, 10L * MIB, 1000), "after the hole");
    if (reportsHoles()) {
      assertTrue(c.allocatedBytes() < 4 * MIB, "hole allocated: " + c.allocatedBytes());
    }
  }

  @Test
  void sparseWriteFarOut() throws Exception {
    Content c = content();
    long far = 1L << 40;
    write(c, far, new byte[] {7});
    assertEquals(far + 1, c.size());
    assertBytes(new byte[] {0, 7}, read(c, far - 1, 2), "around 1 TiB");
    assertBytes(new byte[4096], read(c, far / 2, 4096), "middle of the hole");
    assertTrue(c.allocatedBytes() < 16 * MIB, "allocated: " + c.allocatedBytes());
    assertTrue(store.usedBytes() < 16 * MIB, "used: " + store.usedBytes());
  }

  @Test
  void truncateShrinkThenGrowReadsZeros() throws Exception {
    Content c = content();
    byte[] data = random(new Random(6), 300_000);
    write(c, 0, data);
    c.truncate(100_001);
    assertEquals(100_001, c.size());
    assertBytes(Arrays.copyOf(data, 100_001), read(c, 0, 200_000), "after shrink");
    c.truncate(300_000);
    assertEquals(300_000, c.size());
    byte[] expect = Arrays.copyOf(Arrays.copyOf(data, 100_001), 300_000);
    assertBytes(expect, read(c, 0, 300_000), "after grow");
    // Writing past the end after a shrink must not resurrect the old tail either.
    c.truncate(50_000);
    write(c, 250_000, new byte[] {1});
    byte[] expect2 = new byte[250_001];
    System.arraycopy(data, 0, expect2, 0, 50_000);
    expect2[250_000] = 1;
    assertBytes(expect2, read(c, 0, 250_001), "after shrink and far write");
  }

  @Test
  void truncateToZeroAndRewrite() throws Exception {
    Content c = content();
    write(c, 0, random(new Random(7), 100_000));
    c.truncate(0);
    assertEquals(0, c.size());
    if (reportsHoles()) {
      assertEquals(0, c.allocatedBytes());
    }
    write(c, 10, new byte[] {5});
    assertBytes(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, read(c, 0, 11), "rewrite");
  }

  @Test
  void truncateGrowIsSparse() throws Exception {
    Content c = content();
    long used = store.usedBytes();
    c.truncate(1L << 30);
    assertEquals(1L << 30, c.size());
    assertBytes(new byte[8192], read(c, 500_000_000L, 8192), "grown range");
    if (reportsHoles()) {
      assertTrue(c.allocatedBytes() < MIB, "allocated: " + c.allocatedBytes());
      assertTrue(store.usedBytes() - used < MIB, "used grew by " + (store.usedBytes() - used));
    }
  }

  // ---- copies -------------------------------------------------------------------------------

  @Test
  void copyIsIsolatedBothWays() throws Exception {
    Random r = new Random(8);
    Content base = content();
    byte[] data = random(r, 500_000);
    write(base, 0, data);
    Content copy = copyOf(base);
    assertEquals(base.size(), copy.size());
    assertBytes(data, read(copy, 0, data.length), "fresh copy");

    byte[] patch = random(r, 70_000);
    write(copy, 100_000, patch);
    assertBytes(data, read(base, 0, data.length), "base after writing the copy");

    byte[] patch2 = random(r, 1000);
    write(base, 130_000, patch2);
    byte[] copyModel = data.clone();
    System.arraycopy(patch, 0, copyModel, 100_000, patch.length);
    assertBytes(copyModel, read(copy, 0, data.length), "copy after writing the base");

    copy.truncate(1000);
    copy.punchHole(0, 10);
    byte[] baseModel = data.clone();
    System.arraycopy(patch2, 0, baseModel, 130_000, patch2.length);
    assertEquals(data.length, base.size());
    assertBytes(baseModel, read(base, 0, data.length), "base after truncating the copy");

    base.truncate(10);
    base.punchHole(0, 5);
    byte[] copyExpect = Arrays.copyOf(copyModel, 1000);
    Arrays.fill(copyExpect, 0, 10, (byte) 0);
    assertBytes(copyExpect, read(copy, 0, 1000), "copy after truncating the base");
  }

  @Test
  void manyGenerationsOfCopies() throws Exception {
    Random r = new Random(9);
    int generations = 24;
    List<Content> gens = new ArrayList<>();
    List<byte[]> models = new ArrayList<>();
    Content first = content();
    byte[] m0 = random(r, 400_000);
    write(first, 0, m0);
    gens.add(first);
    models.add(m0);
    for (int g = 1; g < generations; g++) {
      // Branch from a random earlier generation, not only the last, to build a tree of shares.
      int parent = r.nextInt(gens.size());
      Content child = copyOf(gens.get(parent));
      byte[] model = models.get(parent).clone();
      int off = r.nextInt(model.length - 5000);
      byte[] patch = random(r, 1 + r.nextInt(5000));
      write(child, off, patch);
      System.arraycopy(patch, 0, model, off, patch.length);
      gens.add(child);
      models.add(model);
    }
    for (int g = 0; g < generations; g++) {
      assertBytes(models.get(g), read(gens.get(g), 0, models.get(g).length), "generation " + g);
    }
    // Releasing in random order must not disturb the survivors.
    List<Integer> order = new ArrayList<>();
    for (int g = 0; g < generations; g++) {
      order.add(g);
    }
    java.util.Collections.shuffle(order, r);
    for (int i = 0; i < generations / 2; i++) {
      gens.get(order.get(i)).release();
    }
    for (int i = generations / 2; i < generations; i++) {
      int g = order.get(i);
      assertBytes(models.get(g), read(gens.get(g), 0, models.get(g).length), "survivor " + g);
    }
  }

  @Test
  void copyOfLargeFileSharesStorage() throws Exception {
    Content c = content();
    write(c, 0, random(new Random(10), 8 * MIB));
    long before = store.usedBytes();
    Content copy = copyOf(c);
    long afterCopy = store.usedBytes();
    assertTrue(afterCopy - before < MIB, "copy used " + (afterCopy - before) + " bytes");
    write(copy, 4 * MIB + 3, new byte[] {1});
    assertTrue(
        store.usedBytes() - afterCopy < 2 * MIB,
        "1-byte write after copy used " + (store.usedBytes() - afterCopy) + " bytes");
    assertEquals(c.size(), copy.size());
  }

  @Test
  void copyOfSparseFileIsCheap() throws Exception {
    Content c = content();
    write(c, 0, new byte[] {1});
    write(c, 1L << 40, new byte[] {2});
    long before = store.usedBytes();
    Content copy = copyOf(c);
    assertTrue(store.usedBytes() - before < MIB, "copy used " + (store.usedBytes() - before));
    assertBytes(new byte[] {2}, read(copy, 1L << 40, 1), "far byte in copy");
    assertEquals(c.size(), copy.size());
  }

  @Test
  void releaseReturnsUsedBytes() throws Exception {
    long baseline = store.usedBytes();
    Content c = store.newContent();
    write(c, 0, random(new Random(11), 4 * MIB));
    assertTrue(store.usedBytes() >= baseline + 4 * MIB, "used: " + store.usedBytes());
    Content copy = c.copy();
    write(copy, 0, random(new Random(12), 100_000));
    c.release();
    assertTrue(store.usedBytes() >= baseline + 4 * MIB - 200_000, "the copy still needs its data");
    assertBytes(random(new Random(12), 100_000), read(copy, 0, 100_000), "copy after release");
    copy.release();
    assertEquals(baseline, store.usedBytes());
    copy.release();
    c.release();
    assertEquals(baseline, store.usedBytes());
  }

  @Test
  void capacityAndFeaturesAgree() throws Exception {
    assertNotNull(store.name());
    if (!store.features().contains(BackstoreFeature.BOUNDED)) {
      assertEquals(Long.MAX_VALUE, store.capacityBytes());
    }
    assertEquals(
        Math.max(0, store.capacityBytes() - store.usedBytes()), store.availableBytes());
    Backstore b = bounded(4 * MIB);
    assumeTrue(b != null, "backstore cannot be bounded");
    assertTrue(b.features().contains(BackstoreFeature.BOUNDED));
    assertTrue(b.capacityBytes() <= 4 * MIB, "capacity " + b.capacityBytes());
  }

  @Test
  void importFileCopiesAHostFileAndAReflinkEitherWorksOrStoresNothing(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    byte[] data = random(new Random(11), 3 * MIB + 17);
    java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("host.bin"), data);
    Content c = store.importFile(file, false);
    contents.add(c);
    assertBytes(data, read(c, 0, data.length + 1), "imported bytes");
    assertEquals(data.length, c.size());
    java.nio.file.Files.write(file, new byte[] {9}); // the import is a copy, not a view
    assertBytes(data, read(c, 0, data.length + 1), "after the host file changed");
    java.nio.file.Files.write(file, data);
    long used = store.usedBytes();
    try {
      Content clone = store.importFile(file, true);
      contents.add(clone);
      assertBytes(data, read(clone, 0, data.length + 1), "reflinked bytes");
    } catch (AgentFsException e) {
      assertTrue(e.errno() == Errno.ENOTSUP || e.errno() == Errno.EXDEV, e.getMessage());
      assertEquals(file.toString(), e.path(), "the error names the host file");
      assertEquals(used, store.usedBytes(), "a refused reflink stores nothing");
    }
    AgentFsException missing = assertThrows(AgentFsException.class,
        () -> store.importFile(dir.resolve("missing"), false));
    assertEquals(Errno.ENOENT, missing.errno());
  }

  // ---- ENOSPC -------------------------------------------------------------------------------

  @Test
  void enospcLeavesContentUnchanged() throws Exception {
    Backstore b = bounded(MIB);
    assumeTrue(b != null, "backstore cannot be bounded");
    Random r = new Random(13);
    Content c = content(b);
    byte[] model = new byte[0];
    AgentFsException full = null;
    for (int i = 0; i < 1000 && full == null; i++) {
      byte[] chunk = random(r, 64 * KIB);
      try {
        write(c, (long) i * 64 * KIB, chunk);
        model = Arrays.copyOf(model, (i + 1) * 64 * KIB);
        System.arraycopy(chunk, 0, model, i * 64 * KIB, chunk.length);
      } catch (AgentFsException e) {
        full = e;
      }
    }
    assertNotNull(full, "a 1 MiB store accepted 64 MB");
    assertEquals(Errno.ENOSPC, full.errno());
    assertTrue(b.usedBytes() <= b.capacityBytes(), "used " + b.usedBytes());
    assertEquals(model.length, c.size(), "failed write changed the size");
    assertBytes(model, read(c, 0, model.length), "after ENOSPC");

    // A big write that overlaps existing data and would also extend it fails as a whole.
    byte[] big = random(r, 2 * MIB);
    AgentFsException e2 = assertThrows(AgentFsException.class, () -> write(c, 1000, big));
    assertEquals(Errno.ENOSPC, e2.errno());
    assertEquals(model.length, c.size());
    assertBytes(model, read(c, 0, model.length), "after failed overlapping write");

    // Freeing space makes writes possible again.
    c.truncate(0);
    write(c, 0, random(r, 256 * KIB));
    assertEquals(256 * KIB, c.size());
  }

  @Test
  void enospcOnCopyOnWriteLeavesBothUnchanged() throws Exception {
    Backstore b = bounded(MIB);
    assumeTrue(b != null, "backstore cannot be bounded");
    Random r = new Random(14);
    Content base = content(b);
    byte[] data = random(r, 768 * KIB);
    write(base, 0, data);
    Content copy = copyOf(base);
    byte[] patch = random(r, 768 * KIB);
    AgentFsException e = assertThrows(AgentFsException.class, () -> write(copy, 0, patch));
    assertEquals(Errno.ENOSPC, e.errno());
    assertBytes(data, read(base, 0, data.length), "base");
    assertBytes(data, read(copy, 0, data.length), "copy");
    // A small write still fits: only the touched part is unshared.
    write(copy, 10, new byte[] {1, 2, 3});
    assertBytes(data, read(base, 0, data.length), "base after small write to copy");
  }

  @Test
  void allocateBeyondCapacityFails() throws Exception {
    Backstore b = bounded(MIB);
    assumeTrue(b != null, "backstore cannot be bounded");
    Content c = content(b);
    write(c, 0, new byte[] {1, 2, 3});
    AgentFsException e =
        assertThrows(AgentFsException.class, () -> c.allocate(0, 4 * MIB, false));
    assertEquals(Errno.ENOSPC, e.errno());
    assertEquals(3, c.size());
    assertBytes(new byte[] {1, 2, 3}, read(c, 0, 3), "after failed allocate");
  }

  // ---- seek, punch, allocate ----------------------------------------------------------------

  @Test
  void seekDataAndHole() throws Exception {
    Content c = content();
    long far = 8L * MIB;
    write(c, 0, random(new Random(15), 4096));
    write(c, far, random(new Random(16), 4096));
    long size = far + 4096;
    assertEquals(size, c.size());
    assertEquals(0, c.seekData(0));
    assertEquals(100, c.seekData(100));
    assertEquals(-1, c.seekData(size), "seekData at the size");
    assertEquals(-1, c.seekData(size + 100));
    long holeAtSize = c.seekHole(size);
    assertTrue(holeAtSize == -1 || holeAtSize == size, "seekHole(size) = " + holeAtSize);
    assertEquals(size, c.seekHole(far), "the file ends in data; the size is a hole");
    assertEquals(far + 100, c.seekData(far + 100));
    long h = c.seekHole(0);
    assertTrue(h >= 4096 && h <= far, "seekHole(0) = " + h);
    if (reportsHoles()) {
      assertTrue(h <= MIB, "seekHole(0) = " + h);
      assertEquals(MIB, c.seekHole(MIB), "inside the hole");
      long d = c.seekData(MIB);
      assertTrue(d > MIB && d <= far, "seekData(1 MiB) = " + d);
      assertEquals(d, c.seekData(d), "seekData of a data offset is itself");
    }
    // With a trailing hole there is no more data.
    c.truncate(size + 4 * MIB);
    if (reportsHoles()) {
      assertEquals(-1, c.seekData(size + 2 * MIB));
      assertEquals(size + 2 * MIB, c.seekHole(size + 2 * MIB));
    }
    long t = c.seekHole(far);
    assertTrue(t >= size && t <= c.size(), "seekHole(far) after grow = " + t);
  }

  @Test
  void punchHoleZerosRangeAndKeepsSize() throws Exception {
    Content c = content();
    byte[] data = random(new Random(17), 2 * MIB);
    write(c, 0, data);
    long allocated = c.allocatedBytes();
    c.punchHole(100, 1_500_000);
    Arrays.fill(data, 100, 1_500_100, (byte) 0);
    assertEquals(2 * MIB, c.size());
    assertBytes(data, read(c, 0, data.length), "after punch");
    if (reportsHoles()) {
      assertTrue(c.allocatedBytes() < allocated, "punch freed nothing");
      long d = c.seekData(200_000);
      assertTrue(d > 200_000, "seekData inside the punched range = " + d);
    }
    // Punching past the end neither grows the file nor fails.
    c.punchHole(3 * MIB, MIB);
    assertEquals(2 * MIB, c.size());
    // Tiny unaligned punches at chunk-ish boundaries.
    for (long off : new long[] {511, 4095, 65535, MIB - 1}) {
      c.punchHole(off, 3);
      for (int i = 0; i < 3; i++) {
        data[(int) off + i] = 0;
      }
    }
    assertBytes(data, read(c, 0, data.length), "after small punches");
    c.punchHole(0, 2 * MIB);
    assertBytes(new byte[2 * MIB], read(c, 0, 2 * MIB), "after punching everything");
    if (reportsHoles()) {
      assertTrue(c.allocatedBytes() < 64 * KIB, "allocated " + c.allocatedBytes());
    }
  }

  @Test
  void allocateKeepSize() throws Exception {
    Content c = content();
    c.allocate(0, MIB, true);
    assertEquals(0, c.size());
    assertTrue(c.allocatedBytes() >= MIB, "allocated " + c.allocatedBytes());
    assertEquals(0, c.read(0, ByteBuffer.allocate(10)));
    c.truncate(MIB);
    assertBytes(new byte[MIB], read(c, 0, MIB), "preallocated range");
  }

  @Test
  void allocateExtendsAndKeepsData() throws Exception {
    Content c = content();
    byte[] data = random(new Random(18), 100_000);
    write(c, 0, data);
    c.allocate(50_000, 2 * MIB, false);
    assertEquals(50_000 + 2 * MIB, c.size());
    assertTrue(c.allocatedBytes() >= 2 * MIB, "allocated " + c.allocatedBytes());
    assertBytes(data, read(c, 0, data.length), "data under allocate");
    assertBytes(new byte[MIB], read(c, 100_000, MIB), "allocated range");
    // Allocating inside the file does not change the size.
    c.allocate(0, 10, false);
    assertEquals(50_000 + 2 * MIB, c.size());
  }

  // ---- concurrency --------------------------------------------------------------------------

  @Test
  void concurrentReadersAndWriterOnOneContent() throws Exception {
    Content c = content();
    byte[] stable = random(new Random(19), MIB);
    write(c, 0, stable);
    long wOff = 2L * MIB + 17;
    int wLen = 300_000;
    int rounds = 200;
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger lastDone = new AtomicInteger(-1);
    int readers = 3;
    CyclicBarrier start = new CyclicBarrier(readers + 1);
    List<Callable<Void>> tasks = new ArrayList<>();
    tasks.add(
        () -> {
          start.await();
          try {
            for (int g = 0; g < rounds; g++) {
              byte[] fill = new byte[wLen];
              Arrays.fill(fill, (byte) (g + 1));
              write(c, wOff, fill);
              lastDone.set(g + 1);
            }
          } finally {
            done.set(true);
          }
          return null;
        });
    for (int t = 0; t < readers; t++) {
      tasks.add(
          () -> {
            start.await();
            int iterations = 0;
            while (!done.get() || iterations < 20) {
              assertBytes(stable, read(c, 0, stable.length), "stable range during writes");
              int floor = lastDone.get();
              byte[] w = read(c, wOff, wLen);
              for (int i = 0; i < w.length; i += 4093) {
                int v = w[i] & 0xff;
                if (v < floor || v > rounds) {
                  fail("byte " + i + " of the written range is " + v + ", floor " + floor);
                }
              }
              iterations++;
            }
            return null;
          });
    }
    runAll(tasks);
    byte[] last = new byte[wLen];
    Arrays.fill(last, (byte) rounds);
    assertBytes(last, read(c, wOff, wLen), "final written range");
    assertBytes(stable, read(c, 0, stable.length), "final stable range");
  }

  @Test
  void concurrentWritersOnCopiesSharingStorage() throws Exception {
    long baseline = store.usedBytes();
    Content base = store.newContent();
    byte[] data = random(new Random(20), 2 * MIB);
    write(base, 0, data);
    int writers = 4;
    List<Content> copies = new ArrayList<>();
    for (int t = 0; t < writers; t++) {
      copies.add(base.copy());
    }
    CyclicBarrier start = new CyclicBarrier(writers + 1);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger finished = new AtomicInteger();
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < writers; t++) {
      int id = t;
      tasks.add(
          () -> {
            start.await();
            try {
              Content mine = copies.get(id);
              Random r = new Random(100 + id);
              for (int off = 0; off < data.length; off += 61 * KIB) {
                byte[] fill = new byte[Math.min(61 * KIB, data.length - off)];
                Arrays.fill(fill, (byte) (id + 1));
                write(mine, off, fill);
                // Snapshots of a copy taken while others unshare the same chunks.
                Content snap = mine.copy();
                int poke = r.nextInt(data.length);
                byte before = read(mine, poke, 1)[0];
                write(snap, poke, new byte[] {42});
                assertEquals(poke == off ? 42 : id + 1, read(snap, off, 1)[0]);
                assertEquals(before, read(mine, poke, 1)[0], "snapshot write leaked");
                snap.release();
              }
            } finally {
              if (finished.incrementAndGet() == writers) {
                done.set(true);
              }
            }
            return null;
          });
    }
    tasks.add(
        () -> {
          start.await();
          int iterations = 0;
          while (!done.get() || iterations < 5) {
            assertBytes(data, read(base, 0, data.length), "base while copies are written");
            iterations++;
          }
          return null;
        });
    runAll(tasks);
    for (int t = 0; t < writers; t++) {
      byte[] expect = new byte[data.length];
      Arrays.fill(expect, (byte) (t + 1));
      assertBytes(expect, read(copies.get(t), 0, data.length), "copy " + t);
    }
    assertBytes(data, read(base, 0, data.length), "base");
    for (Content copy : copies) {
      copy.release();
    }
    base.release();
    assertEquals(baseline, store.usedBytes(), "used bytes after releasing everything");
  }

  // ---- the model test -----------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 0xC0FFEE})
  void randomOperationsMatchByteArrayModel(long seed) throws Exception {
    new ModelRun(seed).run();
  }

  /**
   * Random operations on a few live contents (a tree of copies) mirrored on byte arrays. Every
   * read is checked, periodic full compares catch damage to bytes nobody read back, and the
   * seed is in every failure message.
   */
  private final class ModelRun {
    private static final int MAX_SIZE = 3 * MIB;
    private final long seed;
    private final Random r;
    private final List<Content> live = new ArrayList<>();
    private final List<Model> models = new ArrayList<>();

    ModelRun(long seed) {
      this.seed = seed;
      this.r = new Random(seed);
    }

    void run() throws Exception {
      long baseline = store.usedBytes();
      live.add(store.newContent());
      models.add(new Model());
      int ops = modelOperations();
      for (int op = 0; op < ops; op++) {
        int i = r.nextInt(live.size());
        @Nullable Content c = live.get(i);
        Model m = models.get(i);
        String where = "seed " + seed + " op " + op + " on content " + i;
        int kind = r.nextInt(100);
        if (kind < 35) {
          long off = offset();
          int len = length();
          byte[] data = r.nextInt(5) == 0 ? new byte[len] : random(r, len);
          write(c, off, data);
          m.write(off, data);
        } else if (kind < 55) {
          long off = r.nextInt(4) == 0 ? m.size : offset();
          int len = length();
          byte[] got = read(c, off, len);
          assertBytes(m.read(off, len), got, where + ": read " + len + " at " + off);
        } else if (kind < 63) {
          long size = r.nextBoolean() ? offset() : (long) r.nextInt(MAX_SIZE);
          c.truncate(size);
          m.truncate(size);
        } else if (kind < 71) {
          long off = offset();
          int len = 1 + length();
          c.punchHole(off, len);
          m.punch(off, len);
        } else if (kind < 76) {
          long off = offset();
          int len = 1 + length();
          boolean keep = r.nextBoolean();
          c.allocate(off, len, keep);
          m.allocate(off, len, keep);
        } else if (kind < 84) {
          if (live.size() < 6) {
            live.add(c.copy());
            models.add(m.copy());
          }
        } else if (kind < 88) {
          if (live.size() > 1) {
            c.release();
            live.remove(i);
            models.remove(i);
            c = null; // nothing left to check on a released content
          }
        } else {
          checkSeek(c, m, where);
        }
        if (c != null) {
          assertEquals(m.size, c.size(), where + ": size");
        }
        if (op % 250 == 249) {
          compareAll("seed " + seed + " after op " + op);
        }
      }
      compareAll("seed " + seed + " at the end");
      for (Content c : live) {
        c.release();
      }
      assertEquals(baseline, store.usedBytes(), "seed " + seed + ": used after release");
    }

    private void checkSeek(Content c, Model m, String where) throws AgentFsException {
      if (m.size == 0) {
        assertEquals(-1, c.seekData(0), where + ": seekData on empty");
        return;
      }
      long off = (long) (r.nextDouble() * m.size);
      long d = c.seekData(off);
      long h = c.seekHole(off);
      assertTrue(h >= off && h <= m.size, where + ": seekHole(" + off + ") = " + h);
      long zerosUpTo = d == -1 ? m.size : d;
      assertTrue(d == -1 || (d >= off && d < m.size), where + ": seekData(" + off + ") = " + d);
      for (long p = off; p < zerosUpTo; p++) {
        if (m.bytes[(int) p] != 0) {
          fail(where + ": seekData(" + off + ") = " + d + " skips data at " + p);
        }
      }
    }

    private void compareAll(String where) throws AgentFsException {
      for (int i = 0; i < live.size(); i++) {
        Model m = models.get(i);
        assertEquals(m.size, live.get(i).size(), where + ": size of " + i);
        assertBytes(
            m.read(0, (int) m.size), read(live.get(i), 0, (int) m.size), where + ": content " + i);
      }
    }

    /** Offsets cluster around power-of-two boundaries, where chunked stores have edge cases. */
    private long offset() {
      if (r.nextInt(3) == 0) {
        long boundary = (long) (1 + r.nextInt(MAX_SIZE / 4096 - 2)) * 4096;
        long unit = 1L << (9 + r.nextInt(8)); // 512 B .. 32 KiB
        boundary = (boundary / unit) * unit;
        return Math.max(0, boundary + r.nextInt(9) - 4);
      }
      return r.nextInt(MAX_SIZE - 310_000);
    }

    private int length() {
      switch (r.nextInt(3)) {
        case 0:
          return 1 + r.nextInt(100);
        case 1:
          return 1 + r.nextInt(70_000);
        default:
          return 1 + r.nextInt(300_000);
      }
    }
  }

  /** The reference: a byte array and a size; bytes past the size are kept zero. */
  private static final class Model {
    byte[] bytes = new byte[4 * MIB];
    long size;

    void write(long off, byte[] data) {
      System.arraycopy(data, 0, bytes, (int) off, data.length);
      size = Math.max(size, off + data.length);
    }

    byte[] read(long off, int len) {
      int n = (int) Math.max(0, Math.min(len, size - off));
      return n == 0 ? new byte[0] : Arrays.copyOfRange(bytes, (int) off, (int) off + n);
    }

    void truncate(long newSize) {
      if (newSize < size) {
        Arrays.fill(bytes, (int) newSize, (int) size, (byte) 0);
      }
      size = newSize;
    }

    void punch(long off, int len) {
      int end = (int) Math.min(off + len, bytes.length);
      if (off < end) {
        Arrays.fill(bytes, (int) off, end, (byte) 0);
      }
    }

    void allocate(long off, int len, boolean keepSize) {
      if (!keepSize) {
        size = Math.max(size, off + len);
      }
    }

    Model copy() {
      Model m = new Model();
      m.bytes = bytes.clone();
      m.size = size;
      return m;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  protected static byte[] random(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  protected static void write(Content c, long off, byte[] data) throws AgentFsException {
    ByteBuffer src = ByteBuffer.wrap(data);
    c.write(off, src);
    assertFalse(src.hasRemaining(), "write left bytes in the source");
  }

  /** Reads up to {@code len} bytes at {@code off}: a short array means the end was reached. */
  protected static byte[] read(Content c, long off, int len) throws AgentFsException {
    ByteBuffer dst = ByteBuffer.allocate(len);
    while (dst.hasRemaining()) {
      int n = c.read(off + dst.position(), dst);
      if (n <= 0) {
        break;
      }
    }
    return Arrays.copyOf(dst.array(), dst.position());
  }

  /** Equality without dumping megabytes: the message names the first differing offset. */
  protected static void assertBytes(byte[] expected, byte[] actual, String what) {
    int at = Arrays.mismatch(expected, actual);
    if (at >= 0) {
      fail(
          what
              + ": first difference at "
              + at
              + " (expected length "
              + expected.length
              + ", actual "
              + actual.length
              + ")"
              + (at < Math.min(expected.length, actual.length)
                  ? ", expected " + expected[at] + " got " + actual[at]
                  : ""));
    }
  }

  private static void runAll(List<Callable<Void>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      List<Future<Void>> futures = new ArrayList<>();
      for (Callable<Void> t : tasks) {
        futures.add(pool.submit(t));
      }
      for (Future<Void> f : futures) {
        // A generous bound only turns a deadlock into a failure; it asserts nothing about speed.
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
