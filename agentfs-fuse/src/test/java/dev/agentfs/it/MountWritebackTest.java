package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel writeback cache owns sizes and write positions: partial-page writes make it READ
 * through the writing handle (also an O_WRONLY one), and O_APPEND is resolved by the kernel,
 * so pages are flushed at their real offsets. Same script on ext4 (the oracle) and the mount.
 */
class MountWritebackTest {
  private static final String SCRIPT = """
      import os
      def show(p):
          with open(p, 'rb') as f:
              print(p, f.read())
      with open('f', 'w') as f: f.write('dd\\n')
      fd = os.open('f', os.O_WRONLY); print('pwrite', os.pwrite(fd, b'x', 1)); os.close(fd)
      show('f')
      fd = os.open('f', os.O_WRONLY | os.O_APPEND); print('append', os.write(fd, b'Y')); os.close(fd)
      show('f')
      with open('g', 'w') as f: f.write('0123456789')
      fd = os.open('g', os.O_RDWR | os.O_APPEND)
      os.write(fd, b'Z'); os.pwrite(fd, b'Q', 2)  # Linux: pwrite on O_APPEND appends too
      os.fsync(fd); os.close(fd)
      show('g')
      fd = os.open('h', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
      for i in range(3): os.write(fd, b'%d' % i)
      os.close(fd)
      show('h')
      """;

  @TempDir Path tmp;
  Fuse.Mounted m;

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    m = Fuse.mount(tmp, b -> b.enable(Feature.WRITEBACK_CACHE, Feature.ALLOW_OTHER));
  }

  @AfterEach
  void tearDown() {
    if (m != null) {
      m.close();
    }
  }

  @Test
  void partialPageWritesAndAppendsMatchExt4() throws Exception {
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    String expected = Proc.python(nativeDir, SCRIPT).ok().out();
    assertEquals("pwrite 1\nf b'dx\\n'\nappend 1\nf b'dx\\nY'\ng b'0123456789ZQ'\nh b'012'\n",
        expected);
    assertEquals(expected, Proc.python(m.dir(), SCRIPT).ok().out());
    assertEquals("0123456789ZQ", m.fs().main().readString("/g"));
  }

  /** Root creates a 0666 file; another uid, with write permission only, runs this. */
  private static final String NON_OWNER = """
      import os, errno
      def t(name, fn):
          try:
              fn(); print(name, 'OK')
          except OSError as e:
              print(name, errno.errorcode[e.errno])
      t('utime-now-now', lambda: os.utime('pub', None))
      t('utime-explicit', lambda: os.utime('pub', (1, 1)))
      def append():
          fd = os.open('pub', os.O_WRONLY | os.O_APPEND); os.write(fd, b'x'); os.fsync(fd); os.close(fd)
      t('append-fsync', append)
      t('truncate', lambda: os.truncate('pub', 1))
      def write_close(p):
          fd = os.open(p, os.O_WRONLY); os.write(fd, b'y'); os.close(fd)
      t('write-close-setid', lambda: write_close('sid'))
      print('sid mode', oct(os.stat('sid').st_mode & 0o7777))
      """;

  /**
   * pjdfstest utimensat/06.t: UTIME_NOW for both needs only write permission; so do truncate
   * and writes, whose mtime the writeback kernel sends as an explicit time.
   */
  @Test
  void nonOwnerWithWritePermissionMatchesExt4() throws Exception {
    assumeTrue(Proc.has("setpriv"), "setpriv is not installed");
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    Files.writeString(tmp.resolve("nonowner.py"), NON_OWNER);
    String py = "python3 " + tmp.resolve("nonowner.py");
    String out = null;
    for (Path dir : new Path[] {nativeDir, m.dir()}) {
      Proc.sh(dir, "echo d > pub && chmod 0666 pub && echo s > sid && chmod 6777 sid").ok();
      String o = Proc.shAs(dir, 65534, 65534, py).ok().out();
      if (out == null) {
        assertEquals("utime-now-now OK\nutime-explicit EPERM\nappend-fsync OK\ntruncate OK\n"
            + "write-close-setid OK\nsid mode 0o777\n", o);
        out = o;
      } else {
        assertEquals(out, o);
      }
    }
  }
}
