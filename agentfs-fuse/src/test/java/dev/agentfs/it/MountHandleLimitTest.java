package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The open-handle limit seen by a real process: python3 opens files on a mount with a small
 * {@code maxOpenHandles} until open(2) fails, and must get ENFILE after exactly that many,
 * from open, opendir and O_CREAT alike, with the refused create leaving no file; closing one
 * handle makes room for one more; the Java API shares the same table.
 */
class MountHandleLimitTest {
  private static final int LIMIT = 40;

  @TempDir Path tmp;

  @Test
  void aProcessOpeningFilesUntilTheTableIsFullGetsEnfile() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.maxOpenHandles(LIMIT))) {
      for (int i = 0; i < LIMIT + 5; i++) {
        m.fs().main().write("/f" + i, "x");
      }
      Proc.Result r = Proc.run(tmp, List.of("python3", "-c", """
          import errno, os, sys, time
          d = sys.argv[1]
          held = []
          err = None
          for i in range(%d):
              try:
                  held.append(os.open(os.path.join(d, 'f%%d' %% i), os.O_RDONLY))
              except OSError as e:
                  err = e.errno
                  break
          print('opened', len(held), errno.errorcode.get(err, err))
          for what, call in (('opendir', lambda: os.listdir(d)),
                             ('create', lambda: os.open(os.path.join(d, 'new'),
                                                        os.O_CREAT | os.O_WRONLY, 0o644))):
              try:
                  call()
                  print(what, 'ok')
              except OSError as e:
                  print(what, errno.errorcode[e.errno])
          print('new exists', os.path.exists(os.path.join(d, 'new')))
          os.close(held.pop())
          # The kernel sends RELEASE after close(2) returns: retry until it has arrived.
          deadline = time.monotonic() + 20
          while True:
              try:
                  held.append(os.open(os.path.join(d, 'f0'), os.O_RDONLY))
                  break
              except OSError as e:
                  if e.errno != errno.ENFILE or time.monotonic() > deadline:
                      raise
          print('after close one', len(held))
          for fd in held:
              os.close(fd)
          """.formatted(LIMIT + 5), m.dir().toString())).ok();
      assertEquals(List.of(
          "opened " + LIMIT + " ENFILE",
          "opendir ENFILE",
          "create ENFILE",
          "new exists False",
          "after close one " + LIMIT), r.out().lines().toList(), r.err());
      // RELEASE follows close(2) asynchronously: wait for the table to empty, with a deadline.
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (m.fs().core().openHandles() != 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(1_000_000);
      }
      assertEquals(0, m.fs().core().openHandles());
      assertFalse(Files.exists(m.path("new")));
      // The Java API draws on the same table as the mount.
      var v = m.fs().main().vfs();
      long ino = m.fs().main().lstat("/f0").ino();
      long[] fhs = new long[LIMIT];
      for (int i = 0; i < LIMIT; i++) {
        fhs[i] = v.open(dev.agentfs.vfs.Caller.ROOT, ino, 0);
      }
      Proc.Result p = Proc.python(tmp, "import errno, os\n"
          + "try:\n  os.open('" + m.path("f1") + "', os.O_RDONLY); print('opened')\n"
          + "except OSError as e:\n  print(errno.errorcode[e.errno])\n");
      assertEquals("ENFILE", p.out().strip(), p.err());
      for (long fh : fhs) {
        v.release(ino, fh);
      }
      assertEquals("x", m.fs().main().readString("/f1"), "the slots came back");
    }
  }
}
