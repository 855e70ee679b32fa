package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed names from real processes: 256-byte names are ENAMETOOLONG for every call that
 * makes, moves or looks up a name, as on ext4; bytes that are not UTF-8 are kept as they are
 * by default (the same listing as ext4) and refused with EILSEQ under STRICT_UTF8_NAMES,
 * which judges names only: a symlink's target stays free bytes. ('/' and NUL never reach the
 * filesystem from the kernel; {@code NameRulesTest} covers them at the core.)
 */
class MountNamesTest {
  private static final String SCRIPT = """
      import os, errno
      def t(name, fn):
          try:
              fn()
              print(name, 'OK')
          except OSError as e:
              print(name, errno.errorcode[e.errno])
      def mk(p):
          os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
      os.mkdir(b'd'); mk(b'f')
      for n in (255, 256):
          L = b'n' * n
          t('stat-%d' % n, lambda: os.stat(L))
          t('create-%d' % n, lambda: mk(b'd/c' + L[1:]))
          t('mkdir-%d' % n, lambda: os.mkdir(b'd/m' + L[1:]))
          t('symlink-%d' % n, lambda: os.symlink(b'f', b'd/s' + L[1:]))
          t('link-%d' % n, lambda: os.link(b'f', b'd/h' + L[1:]))
          t('mkfifo-%d' % n, lambda: os.mkfifo(b'd/p' + L[1:]))
          t('rename-to-%d' % n, lambda: (mk(b'g'), os.rename(b'g', b'd/r' + L[1:])))
          t('stat-in-dir-%d' % n, lambda: os.stat(b'd/c' + L[1:]))
      # 0xff, Latin-1, an overlong '/', a UTF-16 surrogate: none of them is UTF-8.
      for i, n in enumerate((b'\\xff\\xfe', b'caf\\xe9', b'\\xc0\\xaf', b'\\xed\\xa0\\x80')):
          t('create-bad%d' % i, lambda: mk(n))
          t('mkdir-bad%d' % i, lambda: os.mkdir(n + b'.d'))
          t('link-bad%d' % i, lambda: os.link(b'f', n + b'.h'))
          t('rename-to-bad%d' % i, lambda: (mk(b'g'), os.rename(b'g', n + b'.r')))
          t('symlink-bad%d' % i, lambda: os.symlink(b'f', n + b'.l'))
          t('stat-bad%d' % i, lambda: os.stat(n))
      t('symlink-with-bad-target', lambda: os.symlink(b'\\xff-target', b'ok-link'))
      t('readlink-bad-target', lambda: print(os.readlink(b'ok-link')))
      for n in sorted(os.listdir(b'.')):
          print(n)
      """;

  @TempDir Path tmp;

  @BeforeEach
  void setUp() {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
  }

  private String run(Path dir) throws Exception {
    Path py = tmp.resolve("names.py");
    Files.writeString(py, SCRIPT);
    return Proc.run(dir, List.of("python3", py.toString())).ok().out();
  }

  @Test
  void longAndNonUtf8NamesBehaveAsOnExt4() throws Exception {
    String expected = run(Files.createDirectory(tmp.resolve("native")));
    assertTrue(expected.contains("create-256 ENAMETOOLONG"), expected);
    assertTrue(expected.contains("create-bad0 OK"), expected);
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      assertEquals(expected, run(m.dir()));
    }
  }

  @Test
  void strictUtf8NamesRefusesNonUtf8NamesWithEilseq() throws Exception {
    String ext4 = run(Files.createDirectory(tmp.resolve("native")));
    String end = "readlink-bad-target OK\n";
    StringBuilder want = new StringBuilder();
    for (String l : ext4.substring(0, ext4.indexOf(end)).split("\n")) {
      if (l.matches("(create|mkdir|link|rename-to|symlink)-bad\\d OK")) {
        want.append(l, 0, l.length() - 2).append("EILSEQ\n");
      } else if (l.matches("stat-bad\\d OK")) {
        want.append(l, 0, l.length() - 2).append("ENOENT\n");
      } else {
        want.append(l).append('\n');
      }
    }
    // Only the UTF-8 names are left, and g, which no rename could move to a bad name.
    want.append(end).append("b'd'\nb'f'\nb'g'\nb'ok-link'\n");
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.enable(Feature.STRICT_UTF8_NAMES))) {
      String actual = run(m.dir());
      assertTrue(actual.contains("create-bad1 EILSEQ"), actual);
      assertEquals(want.toString(), actual);
    }
  }
}
