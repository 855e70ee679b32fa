package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Errno;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.it.FaultyBackstore.Call;
import dev.agentfs.memory.MemoryBackstore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failing or stalled backstore under a real mount: processes get exactly the errno the store
 * failed with (EIO, ENOSPC) from write, fsync, open(O_TRUNC), ftruncate and read (and EIO when
 * the store throws an unchecked exception instead); the mount
 * stays up and works again once the fault is gone; data committed before the fault is intact
 * byte for byte; a store stuck on one file does not stop other workers from answering
 * requests on other files; a durable store whose metadata log fails reports it from fsync and
 * still keeps the data once a later fsync succeeds.
 */
class MountFaultTest {
  @TempDir Path tmp;

  @BeforeEach
  void needFuse() {
    Fuse.require();
  }

  /** Runs python statements; prints "ok", or the errno name of the OSError they raised. */
  private static String attempt(Path cwd, String statements)
      throws IOException, InterruptedException {
    return attempts(cwd, statements).get(0);
  }

  /**
   * Runs blocks of python statements one after the other in one process; for each, "ok" or
   * the errno name of the OSError that ended it.
   */
  private static List<String> attempts(Path cwd, String... blocks)
      throws IOException, InterruptedException {
    StringBuilder code = new StringBuilder("import os, errno\n");
    for (String block : blocks) {
      code.append("try:\n");
      for (String line : block.split("\n")) {
        code.append("    ").append(line).append('\n');
      }
      code.append("    print('ok')\nexcept OSError as e:\n")
          .append("    print(errno.errorcode.get(e.errno, str(e.errno)))\n");
    }
    return List.of(Proc.python(cwd, code.toString()).ok().out().trim().split("\n"));
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void eioAndEnospcReachTheCallerExactlyAndTheMountSurvives() throws Exception {
    FaultyBackstore store = new FaultyBackstore(MemoryBackstore.create());
    byte[] kept = random(1 << 20, 11);
    String original = "original contents, committed before any fault\n";
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(store).threads(4))) {
      Path dir = m.dir();
      Files.write(m.path("kept.bin"), kept);
      Files.writeString(m.path("victim.txt"), original);
      assertEquals("ok", attempt(dir, "fd = os.open('victim.txt', os.O_RDWR)\nos.fsync(fd)"));
      // Written through the API, so no page of it is in the kernel's cache: reads reach us.
      m.fs().main().write("/cold.bin", random(256 << 10, 12));

      Map<String, String> outcomes = new LinkedHashMap<>();
      int snapshots = 0;
      for (Errno e : new Errno[] {Errno.EIO, Errno.ENOSPC}) {
        Map<String, Call> cases = new LinkedHashMap<>();
        cases.put("fd = os.open('victim.txt', os.O_WRONLY)\nos.pwrite(fd, b'CHANGED', 0)",
            Call.WRITE);
        cases.put("fd = os.open('new-" + e + "', os.O_WRONLY | os.O_CREAT | os.O_EXCL)\n"
            + "os.write(fd, b'x')", Call.NEW_CONTENT);
        cases.put("fd = os.open('victim.txt', os.O_RDWR)\nos.fsync(fd)", Call.SYNC);
        cases.put("fd = os.open('victim.txt', os.O_RDWR)\nos.fdatasync(fd)", Call.SYNC);
        cases.put("os.open('victim.txt', os.O_WRONLY | os.O_TRUNC)", Call.TRUNCATE);
        cases.put("fd = os.open('victim.txt', os.O_RDWR)\nos.ftruncate(fd, 3)", Call.TRUNCATE);
        cases.put("os.truncate('victim.txt', 5)", Call.TRUNCATE);
        cases.put("fd = os.open('cold.bin', os.O_RDONLY)\nos.read(fd, 65536)", Call.READ);
        cases.put("fd = os.open('victim.txt', os.O_RDWR)\nos.posix_fallocate(fd, 0, 1 << 20)",
            Call.ALLOCATE);
        // After a snapshot the first write must copy the shared bytes: that copy fails.
        cases.put("SNAPSHOT\nfd = os.open('victim.txt', os.O_WRONLY)\nos.pwrite(fd, b'C', 0)",
            Call.COPY);
        for (Map.Entry<String, Call> c : cases.entrySet()) {
          String code = c.getKey();
          if (code.startsWith("SNAPSHOT\n")) {
            m.fs().main().snapshot("before-" + e + "-" + snapshots++);
            code = code.substring("SNAPSHOT\n".length());
          }
          store.fail(e, c.getValue());
          // While the store fails, requests that do not touch file bytes are answered.
          List<String> got = attempts(dir, code, "os.stat('victim.txt')\nos.listdir('.')\n"
              + "os.mkdir('d')\nos.rmdir('d')");
          store.heal();
          outcomes.put(e + " " + c.getValue() + ": " + code.replace('\n', ';'), got.get(0));
          assertEquals(e.name(), got.get(0), "injected " + e + " into " + c.getValue()
              + " for: " + code);
          assertEquals("ok", got.get(1), "metadata requests while " + c.getValue() + " fails");
          assertTrue(m.handle().isAlive(), "the mount died after " + c.getValue());
        }
      }
      // A store that breaks its contract (an unchecked exception instead of an errno) is a
      // bug the caller sees as EIO; the mount and the file's locks survive it.
      store.breakWithBug(Call.WRITE, Call.SYNC);
      List<String> bug = attempts(dir, "fd = os.open('victim.txt', os.O_WRONLY)\n"
          + "os.pwrite(fd, b'BUG', 0)", "fd = os.open('victim.txt', os.O_RDWR)\nos.fsync(fd)");
      store.heal();
      outcomes.put("unchecked exception in WRITE", bug.get(0));
      outcomes.put("unchecked exception in SYNC", bug.get(1));
      assertEquals(List.of("EIO", "EIO"), bug);
      outcomes.forEach((k, v) -> System.out.println("MountFaultTest: " + k + " -> " + v));
      for (Call c : Call.values()) {
        System.out.println("MountFaultTest: injected " + c + " x" + store.injected(c));
      }

      // Fault gone: everything works, and nothing committed before was touched.
      assertEquals(original, Files.readString(m.path("victim.txt")));
      assertEquals(original, m.fs().main().readString("/victim.txt"));
      String sha = Proc.python(dir, "import hashlib\n"
          + "print(hashlib.sha256(open('kept.bin','rb').read()).hexdigest())").ok().out().trim();
      assertEquals(sha256(kept), sha);
      assertArrayEquals(kept, m.fs().main().read("/kept.bin"));
      assertEquals("ok", attempt(dir, "fd = os.open('after', os.O_RDWR | os.O_CREAT)\n"
          + "os.write(fd, b'after the fault')\nos.fsync(fd)\nos.ftruncate(fd, 9)\n"
          + "assert os.pread(fd, 100, 0) == b'after the'\nos.close(fd)\n"
          + "os.open('victim.txt', os.O_RDONLY)\nos.read(os.open('cold.bin', os.O_RDONLY), 10)"));
      assertEquals("after the", m.fs().main().readString("/after"));
    }
  }

  /** Not injected: a bounded store that really fills up answers ENOSPC and loses nothing. */
  @Test
  void aFullStoreAnswersEnospcAndRecoversAfterDeletion() throws Exception {
    MemoryBackstore mem = MemoryBackstore.builder().capacity(4L << 20).build();
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(mem))) {
      byte[] kept = random(1 << 20, 21);
      Files.write(m.path("kept.bin"), kept);
      String out = attempt(m.dir(), "fd = os.open('fill', os.O_WRONLY | os.O_CREAT)\n"
          + "n = 0\nwhile n < (64 << 20):\n    n += os.write(fd, b'z' * 65536)");
      assertEquals("ENOSPC", out);
      assertArrayEquals(kept, Files.readAllBytes(m.path("kept.bin")));
      Files.delete(m.path("fill"));
      assertEquals("ok", attempt(m.dir(), "fd = os.open('again', os.O_WRONLY | os.O_CREAT)\n"
          + "os.write(fd, b'y' * (2 << 20))\nos.fsync(fd)"));
      assertEquals(2L << 20, Files.size(m.path("again")));
      assertArrayEquals(kept, m.fs().main().read("/kept.bin"));
    }
  }

  @Test
  void aStalledFileDoesNotStopOtherWorkers() throws Exception {
    FaultyBackstore store = new FaultyBackstore(MemoryBackstore.create());
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Process stuck = null;
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(store).threads(4))) {
      store.tagNextContent("slow");
      Files.writeString(m.path("slow.txt"), "first");
      store.hold("slow", Call.WRITE, Call.READ);
      stuck = new ProcessBuilder("python3", "-c", "import os\n"
          + "fd = os.open('slow.txt', os.O_WRONLY)\nos.pwrite(fd, b'second', 0)\n"
          + "os.close(fd)\nprint('done')").directory(m.dir().toFile())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      assertTrue(store.awaitHeld(1, Duration.ofSeconds(60)),
          "the write to slow.txt never reached the backstore");

      // Meanwhile, a second process works on other files through the other workers.
      Future<Proc.Result> other = pool.submit(() -> Proc.python(m.dir(), "import os\n"
          + "data = os.urandom(1 << 20)\n"
          + "fd = os.open('other.bin', os.O_RDWR | os.O_CREAT)\nos.write(fd, data)\n"
          + "os.fsync(fd)\nassert os.pread(fd, 1 << 20, 0) == data\nos.close(fd)\n"
          + "os.mkdir('dir')\nos.rename('other.bin', 'dir/moved.bin')\n"
          + "assert os.stat('dir/moved.bin').st_size == len(data)\n"
          + "assert sorted(os.listdir('.')) == ['dir', 'slow.txt']\n"
          + "os.unlink('dir/moved.bin')\nos.rmdir('dir')\nos.stat('slow.txt')\nprint('ok')"));
      Proc.Result r = other.get(120, TimeUnit.SECONDS);
      assertEquals("ok", r.ok().out().trim(), r.err());
      // ... and the Java side too, through the same mount.
      Files.writeString(m.path("java.txt"), "from java");
      assertEquals("from java", Files.readString(m.path("java.txt")));
      assertTrue(stuck.isAlive(), "the held write finished while the store held it");
      assertEquals(1, store.held());

      store.release();
      assertTrue(stuck.waitFor(60, TimeUnit.SECONDS), "the held write never finished");
      assertEquals(0, stuck.exitValue());
      assertEquals("done", new String(stuck.getInputStream().readAllBytes(),
          StandardCharsets.UTF_8).trim());
      assertEquals("second", Files.readString(m.path("slow.txt")));
      assertTrue(m.handle().isAlive());
      System.out.println("MountFaultTest: a write held in the backstore for slow.txt; another "
          + "process meanwhile wrote, synced, read, renamed and listed other files");
    } finally {
      store.release();
      if (stuck != null) {
        stuck.destroyForcibly();
      }
      pool.shutdownNow();
    }
  }

  @Test
  void aFailingMetadataLogIsReportedByFsyncAndTheDataSurvivesARestart() throws Exception {
    Path storeDir = tmp.resolve("store");
    List<String> seen = new ArrayList<>();
    FaultyBackstore store = new FaultyBackstore(HostFsBackstore.open(storeDir));
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(store))) {
      Path dir = m.dir();
      assertEquals("ok", attempt(dir, "fd = os.open('a.txt', os.O_WRONLY | os.O_CREAT)\n"
          + "os.write(fd, b'synced before')\nos.fsync(fd)"));
      for (Errno e : new Errno[] {Errno.EIO, Errno.ENOSPC}) {
        store.fail(e, Call.LOG_APPEND, Call.LOG_SYNC);
        String got = attempt(dir, "fd = os.open('" + e + ".txt', os.O_WRONLY | os.O_CREAT)\n"
            + "os.write(fd, b'written while the log fails: " + e + "')\nos.fsync(fd)");
        seen.add(e + " -> " + got);
        assertEquals(e.name(), got, "fsync while the metadata log fails with " + e);
        store.heal();
        assertEquals("ok", attempt(dir, "fd = os.open('" + e + ".txt', os.O_RDONLY)\n"
            + "os.fsync(fd)"));
      }
      assertTrue(m.handle().isAlive());
    }
    System.out.println("MountFaultTest: fsync with a failing metadata log: " + seen);
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(storeDir)).build()) {
      assertEquals("synced before", fs.main().readString("/a.txt"));
      assertEquals("written while the log fails: EIO", fs.main().readString("/EIO.txt"));
      assertEquals("written while the log fails: ENOSPC",
          fs.main().readString("/ENOSPC.txt"));
    }
  }

  private static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }
}
