package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.ChangeListener;
import dev.agentfs.vfs.Vfs;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Deterministic reproductions of bugs the randomized tests found. */
class RegressionTest {
  @Test
  void renameOntoAncestorIsEnotemptyAndIntoOwnSubtreeIsEinval() throws AgentFsException {
    Fx fx = new Fx();
    var br = fx.fs.main();
    br.mkdirs("/a/b/c");
    br.write("/a/f", "f");
    expect(Errno.ENOTEMPTY, () -> br.rename("/a/f", "/a"));
    expect(Errno.ENOTEMPTY, () -> br.rename("/a/b/c", "/a"));
    expect(Errno.EINVAL, () -> br.rename("/a/b/c", "/a", RENAME_EXCHANGE));
    br.write("/a/b/c/file", "x");
    expect(Errno.EINVAL, () -> br.rename("/a", "/a/b/c/file"));
    expect(Errno.EINVAL, () -> br.rename("/a", "/a/b/new"));
    assertEquals(java.util.List.of(), check(fx.main().st.table));
  }

  @Test
  void writeThroughDanglingSymlinkCreatesTheTarget() throws AgentFsException {
    Fx fx = new Fx();
    var br = fx.fs.main();
    br.mkdir("/d");
    br.symlink("target", "/d/link");
    br.write("/d/link", "via link");
    assertEquals("via link", br.readString("/d/target"));
    assertEquals("target", br.readlink("/d/link"));
    br.symlink("/d/abs", "/abs");
    br.append("/abs", "A".getBytes());
    assertEquals("A", br.readString("/d/abs"));
    br.symlink("missing/x", "/d/l2");
    expect(Errno.ENOENT, () -> br.write("/d/l2", "x"));
    br.symlink("loop", "/d/loop");
    expect(Errno.ELOOP, () -> br.write("/d/loop", "x"));
  }

  @Test
  void mknodDoesNotChangeASnapshotTakenAsItReturns() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    AtomicReference<Map<String, String>> atSnapshot = new AtomicReference<>();
    fx.core.addListener(new ChangeListener() {
      @Override
      public void inodeChanged(long ino) {}

      @Override
      public void entryChanged(long parent, byte[] name) {
        if (atSnapshot.get() == null) {
          try {
            fx.core.snapshot("main", "s");
            atSnapshot.set(dump(fx.core.tableOf("s")));
          } catch (AgentFsException e) {
            throw new AssertionError(e);
          }
        }
      }
    });
    v.mknod(ROOT, Vfs.ROOT, b("dev"), S_IFCHR | 0600, 0x0501, 0);
    assertEquals(atSnapshot.get(), dump(fx.core.tableOf("s")),
        "the snapshot changed after it was taken");
    assertEquals(0x0501, attr(v, v.lookupNoRef(ROOT, Vfs.ROOT, b("dev"))).rdev());
  }

  @Test
  void createBranchRacingDeleteSnapshotKeepsTheBranchContent() throws Exception {
    java.util.concurrent.atomic.AtomicReference<Runnable> hook = new AtomicReference<>();
    java.util.function.LongSupplier clock = () -> {
      Runnable h = hook.getAndSet(null);
      if (h != null) {
        h.run();
      }
      return 1_000_000_000L;
    };
    dev.agentfs.AgentFs fs = dev.agentfs.AgentFs.builder().clock(clock).build();
    FsCore core = fs.core();
    fs.main().write("/f", "precious");
    core.snapshot("main", "s");
    fs.main().write("/f", "changed");
    Thread[] deleter = new Thread[1];
    // createBranch reads the clock after it looked the snapshot up: delete it right then
    hook.set(() -> {
      deleter[0] = new Thread(() -> {
        try {
          core.deleteSnapshot("s");
        } catch (AgentFsException e) {
          throw new AssertionError(e);
        }
      });
      deleter[0].start();
      try {
        deleter[0].join(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    core.createBranch("b", "s");
    deleter[0].join();
    assertEquals("precious", fs.branch("b").readString("/f"));
    assertEquals("changed", fs.main().readString("/f"));
  }

  @Test
  void copyFileRangeWithHugeLengthWithinOneFile() throws Exception {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "0123456789");
    long fh = v.open(ROOT, f, O_RDWR);
    java.util.concurrent.Future<Errno> r = java.util.concurrent.Executors
        .newSingleThreadExecutor(x -> {
          Thread t = new Thread(x);
          t.setDaemon(true);
          return t;
        })
        .submit(() -> errno(() -> v.copyFileRange(ROOT, f, fh, 0, f, fh, 5, Long.MAX_VALUE, 0)));
    // the source range is clamped to the file size (10 bytes) and then overlaps: EINVAL
    assertEquals(Errno.EINVAL, r.get(20, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals(10, attr(v, f).size());
    // clamped ranges that do not overlap copy what the source has
    assertEquals(10, v.copyFileRange(ROOT, f, fh, 0, f, fh, 10, Long.MAX_VALUE, 0));
    assertEquals("01234567890123456789", readIno(v, f));
    assertEquals(0, v.copyFileRange(ROOT, f, fh, 100, f, fh, 0, Long.MAX_VALUE, 0));
    v.release(f, fh);
  }

  @Test
  void linkIntoRemovedDirectoryIsEnoent() throws AgentFsException {
    Fx fx = new Fx();
    BranchFs v = fx.main();
    long f = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "x");
    long d = v.mkdir(ROOT, Vfs.ROOT, b("d"), 0755, 0).ino(); // keeps a kernel reference
    v.rmdir(ROOT, Vfs.ROOT, b("d"));
    expect(Errno.ENOENT, () -> v.link(ROOT, f, d, b("x")));
    expect(Errno.ENOENT, () -> v.tmpfile(ROOT, d, 0600, O_RDWR, 0));
    assertEquals(1, attr(v, f).nlink());
    assertEquals(java.util.List.of(), check(v.st.table));
  }
}
