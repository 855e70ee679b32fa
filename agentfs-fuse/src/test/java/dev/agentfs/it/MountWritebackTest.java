package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
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
    m = Fuse.mount(tmp, b -> b.enable(Feature.WRITEBACK_CACHE));
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
}
