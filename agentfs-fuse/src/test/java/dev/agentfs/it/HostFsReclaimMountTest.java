package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.spi.MountHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Storage comes back on the host once nothing reaches the data: 64 MiB written through a mount
 * on HostFs, held by a snapshot and a branch (which changes one file, so it owns a copy), the
 * files deleted, the snapshot deleted, the branch deleted. The backstore directory's allocated
 * size ({@code du -B1}, st_blocks) is measured after every step: it must stay while anything
 * reaches the data, drop back to within {@link #SLACK} of the empty store once nothing does,
 * while the mount runs, and stay there after reopening. Deletions whose reclaim waits for the
 * kernel (FORGET of an unlinked inode, RELEASE of its last handle, both asynchronous) are
 * waited for by polling the size with a deadline; before the snapshot the test waits for the
 * writer's passthrough files to be released, since a snapshot copies a file the kernel is
 * still writing directly.
 */
class HostFsReclaimMountTest {
  private static final long MIB = 1 << 20;

  /** What the metadata log and directories may grow by; data moves in 4 MiB files. */
  private static final long SLACK = 2 * MIB;

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(value = Passthrough.class, names = {"OFF", "REQUIRED"})
  void deletedDataIsReclaimedWhileRunningAndAfterReopen(Passthrough passthrough)
      throws Exception {
    Fuse.require();
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    long empty;
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store))
            .passthrough(passthrough).build();
        MountHandle h = fs.mount(mnt);
        FsOps ops = FsOps.start(mnt)) {
      empty = allocated(store);
      step("empty", empty);

      // Nothing but the file reaches its data: rm frees it, no snapshot involved.
      ops.call("mkdir scratch");
      for (int i = 0; i < 4; i++) {
        ops.call("write scratch/f" + i + " " + 4 * MIB);
      }
      assertAtLeast(store, empty + 16 * MIB, "16 MiB written");
      ops.call("rmtree scratch");
      awaitSize(store, s -> s <= empty + SLACK, "after rm of files nothing else reaches");

      ops.call("mkdir data");
      for (int i = 0; i < 16; i++) {
        ops.call("write data/f" + i + " " + 4 * MIB);
      }
      long written = assertAtLeast(store, empty + 64 * MIB, "64 MiB written");
      // A file the kernel still writes directly (passthrough, until RELEASE arrives) is copied
      // for the snapshot at once; wait for the writer's last close to reach the server.
      awaitNoBackings(mnt);
      assertAtMost(store, written + SLACK, "a snapshot copies nothing",
          () -> fs.main().snapshot("s1"));
      assertAtMost(store, written + SLACK, "a branch copies nothing",
          () -> fs.createBranch("b1", fs.getSnapshot("s1")));

      // The branch changes one file: the change is copied on write into a file of its own.
      try (FsOps inBranch = FsOps.start(mnt)) {
        fs.bind((int) inBranch.pid(), "b1");
        assertTrue(inBranch.call("patch data/f0 0 " + MIB).startsWith("synced patch"));
      }
      long withCopy = assertAtLeast(store, written + MIB, "the branch's copy of data/f0");

      ops.call("rmtree data");
      assertAtLeast(store, withCopy - SLACK, "deleted in main, but s1 and b1 still reach it");
      fs.deleteSnapshot("s1");
      // Only s1 reached the original data/f0; b1 reaches the other 15 and its own copy.
      awaitSize(store, s -> s <= withCopy - 4 * MIB + SLACK, "s1's own copy of data/f0 freed");
      assertAtLeast(store, empty + 64 * MIB - SLACK, "b1 still reaches 64 MiB");
      assertFalse(fs.main().exists("/data"));
      assertEquals(4 * MIB, fs.branch("b1").stat("/data/f15").size());

      deleteBranch(fs, "b1");
      awaitSize(store, s -> s <= empty + SLACK, "nothing reaches the data any more");
    }
    long reopened;
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build()) {
      reopened = allocated(store);
      step("reopened", reopened);
      assertTrue(reopened <= empty + SLACK, "after reopen: " + reopened + ", empty " + empty);
      assertEquals(List.of(), fs.main().list("/"));
      assertEquals(List.of("main"), fs.branches().stream().map(b -> b.name()).toList());
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The branch's files were closed by a process that has exited; RELEASE may still be on its way. */
  private static void deleteBranch(AgentFs fs, String name) throws Exception {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (true) {
      try {
        fs.deleteBranch(name);
        return;
      } catch (AgentFsException e) {
        if (e.errno() != Errno.EBUSY || System.nanoTime() > deadline) {
          throw e;
        }
        LockSupport.parkNanos(1_000_000);
      }
    }
  }

  private static void awaitNoBackings(Path mnt) {
    FuseSession s = FuseSession.live(mnt);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (s != null && s.passthroughBackings() != 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    assertTrue(s == null || s.passthroughBackings() == 0, "passthrough files still open");
  }

  @FunctionalInterface
  private interface Action {
    void run() throws Exception;
  }

  private static void assertAtMost(Path store, long max, String what, Action a) throws Exception {
    a.run();
    long s = allocated(store);
    step(what, s);
    assertTrue(s <= max, what + ": " + s + " > " + max);
  }

  private static long assertAtLeast(Path store, long min, String what) throws Exception {
    long s = allocated(store);
    step(what, s);
    assertTrue(s >= min, what + ": " + s + " < " + min);
    return s;
  }

  /** Polls the size until {@code ok} holds, for at most 20 s. */
  private static void awaitSize(Path store, LongPredicate ok, String what) throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + 20_000_000_000L;
    long s = allocated(store);
    while (!ok.test(s) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(20_000_000);
      s = allocated(store);
    }
    step(what + " (after " + (System.nanoTime() - t0) / 1_000_000 + " ms)", s);
    assertTrue(ok.test(s), what + ": still " + s + " bytes after 20 s");
  }

  private static void step(String what, long bytes) {
    System.out.printf("%-60s %10.2f MiB%n", what, bytes / (double) MIB);
  }

  /** Allocated bytes of the directory tree (st_blocks * 512), as du counts them. */
  static long allocated(Path dir) throws Exception {
    Proc.Result r = Proc.run(Path.of("/"), List.of("du", "-s", "-B1", dir.toString())).ok();
    return Long.parseLong(r.out().split("\\s+")[0]);
  }
}
