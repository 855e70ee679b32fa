package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.MountInfo;
import dev.agentfs.MountInfo.Health;
import dev.agentfs.MountInfo.Kind;
import dev.agentfs.Mounts;
import dev.agentfs.fuse.KernelMountDiscovery;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.Content;
import dev.agentfs.spi.MountHandle;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery through real mounts: live mounts of this JVM, a snapshot mount, a stale mount a
 * SIGKILLed child JVM left behind, and a server that does not answer. Only mount points below
 * this test's directory are looked at: other processes on the machine may have mounts too.
 */
class MountDiscoveryTest {
  @TempDir Path tmp;

  @BeforeEach
  void needFuse() {
    Fuse.require();
  }

  private List<MountInfo> mine() throws AgentFsException {
    List<MountInfo> out = new ArrayList<>();
    for (MountInfo m : Mounts.list()) {
      if (m.mountPoint().startsWith(tmp)) {
        out.add(m);
      }
    }
    return out;
  }

  private static MountInfo at(List<MountInfo> all, Path p) {
    return all.stream().filter(m -> m.mountPoint().equals(p)).findFirst()
        .orElseThrow(() -> new AssertionError("no mount at " + p + " in " + all));
  }

  /** A child JVM that mounts at {@code dir} and is then killed with SIGKILL. */
  private static Process mountInChild(Path dir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        MountLifecycleTest.ChildMount.class.getName(), dir.toString())
        .redirectErrorStream(true).start();
    BufferedReader r = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null && !line.equals("mounted")) {
      // skip log lines
    }
    assertEquals("mounted", line, "child did not mount");
    return child;
  }

  @Test
  void twoLiveMountsASnapshotMountAndAStaleOneAndOnlyTheStaleOneIsCleaned() throws Exception {
    Path staleDir = Files.createDirectory(tmp.resolve("stale"));
    Process child = mountInChild(staleDir);
    Process sleeper = new ProcessBuilder("sleep", "300").start();
    try (Fuse.Mounted a = Fuse.mount(tmp); Fuse.Mounted b = Fuse.mount(tmp)) {
      a.fs().createBranch("agent", a.fs().main());
      a.fs().bind((int) sleeper.pid(), "agent");
      Files.writeString(a.path("f"), "a");
      Files.writeString(b.path("f"), "b");
      a.fs().snapshot("s1");
      Path snapDir = Files.createDirectory(tmp.resolve("snap"));
      MountHandle snap = a.fs().mountSnapshot("s1", snapDir);
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));

      List<MountInfo> all = mine();
      assertEquals(4, all.size(), all.toString());
      assertEquals(3, all.stream().filter(m -> m.health() == Health.ALIVE).count());
      long me = ProcessHandle.current().pid();
      MountInfo ma = at(all, a.dir());
      assertEquals(Health.ALIVE, ma.health());
      assertEquals(Kind.MOUNT, ma.kind());
      assertEquals(me, ma.serverPid());
      assertEquals("memory", ma.store());
      assertEquals("main", ma.defaultBranch());
      assertEquals(List.of("agent", "main"), ma.branches());
      assertEquals(Map.of((int) sleeper.pid(), "agent"), ma.bound());
      assertNull(ma.detail());
      MountInfo mb = at(all, b.dir());
      assertEquals(Health.ALIVE, mb.health());
      assertEquals(List.of("main"), mb.branches());
      assertEquals(Map.of(), mb.bound());
      MountInfo ms = at(all, snapDir);
      assertEquals(Health.ALIVE, ms.health());
      assertEquals(Kind.SNAPSHOT, ms.kind());
      assertEquals("s1", ms.snapshot());
      assertEquals("agentfs-snapshot:s1", ms.source());
      MountInfo dead = at(all, staleDir);
      assertEquals(Health.STALE, dead.health());
      assertEquals(0, dead.serverPid());
      assertTrue(dead.detail().contains("not connected"), dead.detail());
      assertEquals("stale", dead.toJson().get("health"));

      assertEquals(List.of(staleDir), Mounts.unmountStale(p -> p.startsWith(tmp)));
      assertFalse(KernelMounts.isStale(staleDir));
      List<MountInfo> after = mine();
      assertEquals(3, after.size(), after.toString());
      assertTrue(after.stream().allMatch(m -> m.health() == Health.ALIVE), after.toString());
      assertEquals("a", Files.readString(a.path("f")));
      assertEquals("b", Files.readString(b.path("f")));
      assertEquals("a", Files.readString(snapDir.resolve("f")));
      assertEquals(List.of(), Mounts.unmountStale(p -> p.startsWith(tmp)), "nothing left");
      snap.close();
    } finally {
      sleeper.destroyForcibly();
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
      if (KernelMounts.isStale(staleDir)) {
        KernelMounts.unmountStale(staleDir);
      }
    }
  }

  @Test
  void aServerThatDoesNotAnswerIsUnreachableAndNotCleaned() throws Exception {
    StallingBackstore store = new StallingBackstore();
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(store))) {
      store.stall();
      List<MountInfo> all;
      try {
        all = new KernelMountDiscovery(Duration.ofMillis(500)).list();
      } finally {
        store.release();
      }
      MountInfo hung = at(all, m.dir());
      assertEquals(Health.UNREACHABLE, hung.health());
      assertTrue(hung.detail().contains("no answer within 500 ms"), hung.detail());
      assertFalse(new KernelMountDiscovery().unmountStale(m.dir()), "a live mount stays");
      assertEquals(Health.ALIVE, at(mine(), m.dir()).health());
      Files.writeString(m.path("still"), "works");
      assertEquals("works", m.fs().main().readString("/still"));
    }
  }

  @Test
  void theJavaApiAndTheSpiAgree() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      assertEquals(at(Mounts.list(), m.dir()).branches(),
          at(AgentFs.list(), m.dir()).branches());
    }
  }

  @Test
  void aMountWithAnotherSubtypeIsFoundByItsSource() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp,
        b -> b.configuration(dev.agentfs.Configuration.builder().subtype("mine").build()))) {
      MountInfo i = at(mine(), m.dir());
      assertEquals(Health.ALIVE, i.health());
      assertEquals(List.of("main"), i.branches());
      assertTrue(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
          .anyMatch(l -> l.contains(" " + m.dir() + " ") && l.contains(" fuse.mine ")));
    }
  }

  /** A memory backstore whose statfs answer (its capacity) can be held up. */
  private static final class StallingBackstore implements Backstore {
    private final Backstore inner = MemoryBackstore.create();
    private volatile CountDownLatch gate = new CountDownLatch(0);

    void stall() {
      gate = new CountDownLatch(1);
    }

    void release() {
      gate.countDown();
    }

    @Override
    public String name() {
      return "stalling";
    }

    @Override
    public Set<BackstoreFeature> features() {
      return inner.features();
    }

    @Override
    public Content newContent() throws AgentFsException {
      return inner.newContent();
    }

    @Override
    public long capacityBytes() {
      try {
        gate.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return inner.capacityBytes();
    }

    @Override
    public long usedBytes() {
      return inner.usedBytes();
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
