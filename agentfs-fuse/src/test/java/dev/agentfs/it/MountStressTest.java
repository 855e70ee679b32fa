package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Passthrough;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.it.stress.Actor;
import dev.agentfs.it.stress.ChildOps;
import dev.agentfs.it.stress.NioOps;
import dev.agentfs.it.stress.Rec;
import dev.agentfs.it.stress.Tally;
import dev.agentfs.it.stress.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many writers at once through a real mount, with an end state that can be checked exactly.
 * 16 Java threads and 2 python processes (see {@link Actor}) create, write, read, truncate,
 * rename (across directories, over their own names), unlink, link, mkdir, rmdir, symlink and
 * chmod their own names in shared directories for {@code agentfs.stress.seconds} (default 10)
 * and log what completed; the logs are replayed on a native directory and both trees must
 * have the same fingerprint, which must also equal the tree the filesystem itself holds.
 * Meanwhile all actors race on a few names in a contended area, where only the errnos POSIX
 * gives such races are accepted. At the end the whole tree must be consistent (every entry
 * lstats, link counts add up) and every handle the kernel opened must be released.
 * Runs on the memory backstore and on HostFs with kernel passthrough; the seed is printed
 * and can be given back with {@code agentfs.stress.seed}.
 */
class MountStressTest {
  private static final int THREADS = 16;
  private static final int CHILDREN = 2;
  private static final long SECONDS = Long.getLong("agentfs.stress.seconds", 10);

  @TempDir Path tmp;

  @BeforeEach
  void needFuse() {
    Fuse.require();
  }

  @Test
  void memoryBackstore() throws Exception {
    run("memory", b -> { });
  }

  @Test
  void hostFsWithPassthrough() throws Exception {
    HostFsBackstore store = HostFsBackstore.open(tmp.resolve("store"));
    run("hostfs+passthrough", b -> b.backstore(store).passthrough(Passthrough.REQUIRED));
  }

  private void run(String label, Consumer<AgentFs.Builder> config) throws Exception {
    long seed = Long.getLong("agentfs.stress.seed", System.nanoTime());
    String tag = "MountStressTest[" + label + "]";
    System.out.println(tag + ": seed " + seed + " (-Dagentfs.stress.seed=" + seed + "), "
        + SECONDS + " s, " + THREADS + " threads + " + CHILDREN + " processes");
    Path replayRoot = replayRoot();
    try (Fuse.Mounted m = Fuse.mount(tmp, config)) {
      for (Path root : List.of(m.dir(), replayRoot)) {
        for (String s : Actor.SHARED) {
          Files.createDirectories(root.resolve(s));
        }
      }
      Files.createDirectory(m.path(Actor.RACE));

      Tally tally = new Tally();
      List<Actor> actors = runActors(m.dir(), seed, tally);
      report(tag, tally);
      assertEquals(List.of(), tally.failures(), tally.failureCount() + " failures");

      // Replay every actor's log on a native directory: their names never collide, so the
      // order between actors does not matter.
      NioOps nativeOps = new NioOps(replayRoot);
      int replayed = 0;
      for (Actor a : actors) {
        for (Rec r : a.log()) {
          try {
            r.apply(nativeOps);
            replayed++;
          } catch (AgentFsException e) {
            fail("replaying " + a.who() + "'s " + r + " natively failed: " + e.getMessage());
          }
        }
      }
      Set<String> skip = Set.of(Actor.RACE);
      List<String> mounted = Trees.fingerprint(m.dir(), skip);
      List<String> expected = Trees.fingerprint(replayRoot, skip);
      assertSame("the mount and the native replay", expected, mounted);
      assertSame("the mount and the filesystem's own view", mounted,
          Trees.fingerprint(m.fs().main(), skip));

      Trees.Check c = Trees.check(m.dir());
      System.out.println(tag + ": replayed " + replayed + " mutations natively ("
          + Files.getFileStore(replayRoot).type() + "); "
          + mounted.size() + " entries outside the contended area have equal fingerprints; "
          + "whole tree: " + c.entries() + " entries (" + c.dirs() + " dirs, " + c.files()
          + " files, " + c.symlinks() + " symlinks, " + c.multiLinked()
          + " inodes with several names), " + c.problems().size() + " inconsistencies");
      assertEquals(List.of(), c.problems());
      assertHandlesReleased(m.fs());
    } finally {
      if (!replayRoot.startsWith(tmp)) {
        deleteTree(replayRoot);
      }
    }
  }

  /**
   * Where the logs are replayed: tmpfs (/dev/shm) when there is one, since replaying some
   * 50,000 operations one after the other takes seconds there but can take a minute on a busy
   * disk; the test's temporary directory otherwise. Both are native kernel filesystems.
   */
  private Path replayRoot() throws IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, "agentfs-stress-");
    }
    return Files.createDirectory(tmp.resolve("native"));
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static List<Actor> runActors(Path mount, long seed, Tally tally) throws Exception {
    long deadline = System.nanoTime() + SECONDS * 1_000_000_000L;
    List<Actor> actors = new ArrayList<>();
    List<ChildOps> children = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    try {
      for (int i = 0; i < THREADS; i++) {
        actors.add(new Actor(i, "thread " + i, new NioOps(mount), seed + i, deadline, tally));
      }
      for (int i = 0; i < CHILDREN; i++) {
        ChildOps child = new ChildOps(mount, mount.getParent().resolve("child" + i + ".err"));
        children.add(child);
        int id = THREADS + i;
        actors.add(new Actor(id, "process " + child.pid(), child, seed + id, deadline, tally));
      }
      for (Actor a : actors) {
        Thread t = new Thread(a, "stress-" + a.who());
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        // Generous: only a hung request keeps an actor past its deadline this long.
        t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000) + 120_000);
        assertTrue(!t.isAlive(), t.getName() + " is still running two minutes past the end");
      }
    } finally {
      children.forEach(ChildOps::close);
    }
    return actors;
  }

  private static void report(String tag, Tally t) {
    System.out.println(tag + ": " + t.totalOps() + " operations on own names: " + t.ops());
    System.out.println(tag + ": " + t.totalRace() + " operations in the contended area, "
        + "errors by errno " + t.raceErrnos());
    System.out.println(tag + ": contended outcomes " + t.race());
  }

  private static void assertSame(String what, List<String> expected, List<String> actual) {
    if (expected.equals(actual)) {
      return;
    }
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    List<String> extra = new ArrayList<>(actual);
    extra.removeAll(expected);
    fail(what + " differ: " + expected.size() + " vs " + actual.size() + " entries\n"
        + "only in the first (up to 10): " + missing.stream().limit(10).toList() + "\n"
        + "only in the second (up to 10): " + extra.stream().limit(10).toList());
  }

  /** RELEASE reaches the server after close(2) returns: wait for the count, with a deadline. */
  static void assertHandlesReleased(AgentFs fs) throws AgentFsException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (fs.core().openHandles("main") != 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    assertEquals(0, fs.core().openHandles("main"), "handles still open after every close");
  }
}
