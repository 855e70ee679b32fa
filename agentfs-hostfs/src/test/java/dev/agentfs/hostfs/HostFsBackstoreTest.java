package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.BackstoreProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostFsBackstoreTest {
  @TempDir Path dir;

  private static void write(HostContent c, long off, byte[] data) throws AgentFsException {
    c.write(off, ByteBuffer.wrap(data));
  }

  private static byte[] read(HostContent c, long off, int len) throws AgentFsException {
    ByteBuffer b = ByteBuffer.allocate(len);
    c.read(off, b);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static long contentFiles(Path store) throws IOException {
    try (Stream<Path> s = Files.walk(store.resolve("data"))) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void layoutNameAndFeatures() throws Exception {
    Path store = dir.resolve("s");
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      assertEquals("hostfs:" + store.toAbsolutePath(), s.name());
      assertTrue(Files.exists(store.resolve("LOCK")));
      assertTrue(Files.exists(store.resolve("meta.log")));
      assertTrue(Files.isDirectory(store.resolve("data/00")));
      assertTrue(Files.isDirectory(store.resolve("data/ff")));
      assertTrue(s.features().containsAll(Set.of(BackstoreFeature.DURABLE, BackstoreFeature.HOST_FILES)));
      assertNotNull(s.metadataLog());
      HostContent c = s.newContent();
      assertTrue(c.id().matches("[0-9a-f]{16}"), c.id());
      assertEquals(store.toAbsolutePath().resolve("data").resolve(c.id().substring(0, 2)).resolve(c.id()), c.hostPath());
      assertTrue(Files.exists(c.hostPath()));
      assertTrue(s.capacityBytes() >= s.usedBytes());
      assertTrue(s.availableBytes() > 0);
    }
  }

  @Test
  void contentSurvivesReopen() throws Exception {
    Path store = dir.resolve("s");
    byte[] data = new byte[300_000];
    new Random(1).nextBytes(data);
    String id;
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      HostContent c = s.newContent();
      write(c, 5, data);
      c.sync(false);
      id = c.id();
    }
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      HostContent c = s.openContent(id);
      assertSame(c, s.openContent(id), "one object per id");
      assertEquals(300_005, c.size());
      assertArrayEquals(data, read(c, 5, data.length));
      assertTrue(s.usedBytes() >= 300_000, "re-opened content is counted: " + s.usedBytes());
      AgentFsException missing = assertThrows(AgentFsException.class, () -> s.openContent("0123456789abcdef"));
      assertEquals(Errno.ENOENT, missing.errno());
      assertTrue(missing.getMessage().contains("0123456789abcdef"), missing.getMessage());
      AgentFsException bad = assertThrows(AgentFsException.class, () -> s.openContent("../../etc/passwd"));
      assertEquals(Errno.EINVAL, bad.errno());
    }
  }

  @Test
  void secondOpenerInTheSameJvmGetsEbusy() throws Exception {
    Path store = dir.resolve("s");
    HostFsBackstore first = HostFsBackstore.open(store);
    try {
      AgentFsException e = assertThrows(AgentFsException.class, () -> HostFsBackstore.open(store));
      assertEquals(Errno.EBUSY, e.errno());
      assertEquals(store.toAbsolutePath().resolve("LOCK").toString(), e.path());
      assertTrue(e.getMessage().contains("already open"), e.getMessage());
      assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
      // The failed attempt must not have dropped the first opener's lock.
      assertEquals(Errno.EBUSY, assertThrows(AgentFsException.class, () -> HostFsBackstore.open(store)).errno());
      first.newContent(); // still usable
    } finally {
      first.close();
    }
    HostFsBackstore.open(store).close();
  }

  @Test
  void secondOpenerInAnotherProcessGetsEbusy() throws Exception {
    Path store = dir.resolve("s");
    // This JVM holds it: the child is refused.
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      Process child = Children.start("try", store);
      String line = Children.lines(child).readLine();
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
      assertNotNull(line);
      assertTrue(line.startsWith("EBUSY "), line);
      assertTrue(line.contains("pid " + ProcessHandle.current().pid()), line);
    }
    // The child holds it: this JVM is refused, then gets it once the child lets go.
    Process holder = Children.start("hold", store);
    try {
      BufferedReader out = Children.lines(holder);
      assertEquals("locked", out.readLine());
      AgentFsException e = assertThrows(AgentFsException.class, () -> HostFsBackstore.open(store));
      assertEquals(Errno.EBUSY, e.errno());
      assertTrue(e.getMessage().contains("pid " + holder.pid()), e.getMessage());
      holder.getOutputStream().close();
      assertTrue(holder.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, holder.exitValue());
    } finally {
      holder.destroyForcibly();
    }
    HostFsBackstore.open(store).close();
  }

  @Test
  void descriptorCacheStaysBounded() throws Exception {
    int limit = 64;
    int files = 5000;
    Path store = dir.resolve("s");
    try (HostFsBackstore s = HostFsBackstore.builder().maxOpenFiles(limit).open(store)) {
      long baseline = openFds();
      long peak = baseline;
      List<HostContent> cs = new ArrayList<>();
      Random r = new Random(7);
      for (int i = 0; i < files; i++) {
        HostContent c = s.newContent();
        write(c, 0, stamp(i, 0));
        cs.add(c);
        assertTrue(s.openFiles() <= limit, "open " + s.openFiles() + " after creating " + i);
        if (i % 250 == 0) {
          peak = Math.max(peak, openFds());
        }
      }
      int[] version = new int[files];
      for (int op = 0; op < 4 * files; op++) {
        int i = r.nextInt(files);
        HostContent c = cs.get(i);
        if (r.nextBoolean()) {
          version[i]++;
          write(c, 0, stamp(i, version[i]));
        } else {
          assertArrayEquals(stamp(i, version[i]), read(c, 0, 64), "file " + i);
        }
        assertTrue(s.openFiles() <= limit, "open " + s.openFiles() + " at op " + op);
        if (op % 250 == 0) {
          peak = Math.max(peak, openFds());
        }
      }
      for (int i = 0; i < files; i++) {
        assertArrayEquals(stamp(i, version[i]), read(cs.get(i), 0, 64), "file " + i + " at the end");
      }
      peak = Math.max(peak, openFds());
      assertTrue(peak - baseline <= limit + 8, "descriptors grew by " + (peak - baseline));
      for (HostContent c : cs) {
        c.release();
      }
      assertEquals(0, s.openFiles(), "released content keeps no descriptor");
      assertEquals(0, contentFiles(store));
    }
  }

  private static byte[] stamp(int file, int version) {
    byte[] b = new byte[64];
    ByteBuffer.wrap(b).putInt(file).putInt(version).putLong(file * 31L + version);
    return b;
  }

  private static long openFds() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  @Test
  void copyIsIsolatedAndSparseAndCounted() throws Exception {
    try (HostFsBackstore s =
        HostFsBackstore.builder().cloneMode(HostFsBackstore.CloneMode.COPY).open(dir.resolve("s"))) {
      assertFalse(s.features().contains(BackstoreFeature.NATIVE_CLONE));
      HostContent a = s.newContent();
      byte[] data = new byte[100_000];
      new Random(3).nextBytes(data);
      write(a, 0, data);
      write(a, 1L << 36, new byte[] {9});
      HostContent b = a.copy();
      assertEquals(1, s.copies());
      assertEquals(0, s.clones());
      assertTrue(s.copiedBytes() < 1 << 20, "copied " + s.copiedBytes() + " bytes of a sparse file");
      assertEquals(a.size(), b.size());
      assertTrue(b.allocatedBytes() < 1 << 20, "copy allocated " + b.allocatedBytes());
      write(b, 10, new byte[] {1, 2, 3});
      assertArrayEquals(data, read(a, 0, data.length), "original after writing the copy");
      assertArrayEquals(new byte[] {9}, read(b, 1L << 36, 1));
      write(a, 20, new byte[] {4});
      byte[] expect = data.clone();
      expect[10] = 1;
      expect[11] = 2;
      expect[12] = 3;
      assertArrayEquals(expect, read(b, 0, data.length), "copy after writing the original");
    }
  }

  @Test
  void releaseDeletesAndRetainOnlyRemovesStrays() throws Exception {
    Path store = dir.resolve("s");
    String kept;
    String logged;
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      HostContent gone = s.newContent();
      write(gone, 0, new byte[5000]);
      Path p = gone.hostPath();
      long used = s.usedBytes();
      gone.release();
      gone.release();
      assertFalse(Files.exists(p), "released content file deleted");
      assertTrue(s.usedBytes() < used, "used " + s.usedBytes() + " was " + used);
      AgentFsException e = assertThrows(AgentFsException.class, () -> read(gone, 0, 1));
      assertEquals(Errno.ESTALE, e.errno());
      assertEquals(Errno.ESTALE, assertThrows(AgentFsException.class, () -> write(gone, 0, new byte[1])).errno());
      logged = s.newContent().id();
      s.newContent(); // never logged: a stray after "restart"
      kept = s.newContent().id(); // open in this session: retainOnly must not touch it
      s.retainOnly(Set.of(logged));
      assertEquals(3, contentFiles(store), "open content is kept");
    }
    Files.write(store.resolve("data/ab/not-an-id.tmp"), new byte[1]);
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      s.retainOnly(Set.of(logged));
      assertEquals(1, contentFiles(store));
      assertEquals(0, s.openContent(logged).size());
      assertEquals(Errno.ENOENT, assertThrows(AgentFsException.class, () -> s.openContent(kept)).errno());
    }
  }

  @Test
  void closedBackstoreFailsOperations() throws Exception {
    HostFsBackstore s = HostFsBackstore.open(dir.resolve("s"));
    HostContent c = s.newContent();
    write(c, 0, new byte[] {1});
    s.close();
    s.close();
    assertEquals(Errno.EIO, assertThrows(AgentFsException.class, () -> read(c, 0, 1)).errno());
    assertEquals(Errno.EIO, assertThrows(AgentFsException.class, s::newContent).errno());
    assertEquals(1, c.size(), "size falls back to the last known value");
  }

  @Test
  void providerIsFoundByScheme() throws Exception {
    BackstoreProvider provider =
        ServiceLoader.load(BackstoreProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.scheme().equals("hostfs"))
            .findFirst()
            .orElseThrow();
    Path store = dir.resolve("via-provider");
    try (Backstore b = provider.open(store.toString())) {
      assertEquals("hostfs:" + store.toAbsolutePath(), b.name());
    }
    assertEquals(Errno.EINVAL, assertThrows(AgentFsException.class, () -> provider.open("")).errno());
  }

  @Test
  void reflinkModeFailsClearlyWhereTheFilesystemCannot() throws Exception {
    // The build disk (ext4 here) cannot reflink; where it can, this opens fine.
    try {
      HostFsBackstore.builder().cloneMode(HostFsBackstore.CloneMode.REFLINK).open(dir.resolve("s")).close();
    } catch (AgentFsException e) {
      assertEquals(Errno.ENOTSUP, e.errno());
      assertTrue(e.getMessage().contains("reflink"), e.getMessage());
    }
    // Either way the directory is not left locked.
    HostFsBackstore.open(dir.resolve("s")).close();
  }
}
