package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Feature#CONFINED_SYMLINKS} seen by real processes: python's os.symlink and coreutils'
 * ln -s get EPERM for absolute targets and targets that climb above the mount root from the
 * link's directory, a refused name stays absent, targets that go up and come back down inside
 * work; without the feature the same script makes every link, as on ext4.
 */
class MountConfinedSymlinkTest {
  /** Directory of the link, target. */
  private static final String[][] CASES = {
      {".", "/etc/passwd"}, {".", "//etc"}, {".", "/"}, {".", ".."}, {".", "./.."},
      {".", "a/../../x"}, {".", "a/b/../../../x"}, {"a", "../.."}, {"a/b", "../../../etc"},
      {"a/b", "../x/../../.."},
      {".", "a/b"}, {".", "a/.."}, {".", "./a/../a/b"}, {"a", ".."}, {"a/b", "../../a/b"},
      {"a/b", "../../x/../a"}, {"a/b", "../../missing"}, {".", "...."}};

  private static final String SCRIPT = """
      import os, sys, errno, subprocess
      cases = [l.split(' ', 1) for l in sys.argv[1].strip().split('\\n')]
      os.makedirs('a/b')
      for i, (d, t) in enumerate(cases):
          link = os.path.join(d, 'l%d' % i)
          try:
              os.symlink(t, link)
              r = 'OK ' + os.readlink(link)
          except OSError as e:
              r = errno.errorcode[e.errno] + (' absent' if not os.path.lexists(link) else ' PRESENT')
          print(d, t, r)
      p = subprocess.run(['ln', '-s', '/etc', 'a/ln-abs'], capture_output=True, text=True)
      print('ln -s /etc:', p.returncode, p.stderr.strip().split(': ')[-1])
      p = subprocess.run(['ln', '-s', '../a', 'a/ln-ok'], capture_output=True, text=True)
      print('ln -s ../a:', p.returncode, os.path.isdir('a/ln-ok/b'))
      """;

  @TempDir Path tmp;

  @BeforeEach
  void setUp() {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
  }

  private String run(Path dir) throws Exception {
    StringBuilder cases = new StringBuilder();
    for (String[] c : CASES) {
      cases.append(c[0]).append(' ').append(c[1]).append('\n');
    }
    Path py = tmp.resolve("links.py");
    Files.writeString(py, SCRIPT);
    return Proc.run(dir, java.util.List.of("python3", py.toString(), cases.toString()))
        .ok().out();
  }

  @Test
  void escapingTargetsAreEpermThroughTheMount() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.enable(Feature.CONFINED_SYMLINKS))) {
      String out = run(m.dir());
      assertEquals("""
          . /etc/passwd EPERM absent
          . //etc EPERM absent
          . / EPERM absent
          . .. EPERM absent
          . ./.. EPERM absent
          . a/../../x EPERM absent
          . a/b/../../../x EPERM absent
          a ../.. EPERM absent
          a/b ../../../etc EPERM absent
          a/b ../x/../../.. EPERM absent
          . a/b OK a/b
          . a/.. OK a/..
          . ./a/../a/b OK ./a/../a/b
          a .. OK ..
          a/b ../../a/b OK ../../a/b
          a/b ../../x/../a OK ../../x/../a
          a/b ../../missing OK ../../missing
          . .... OK ....
          ln -s /etc: 1 Operation not permitted
          ln -s ../a: 0 True
          """, out);
      // The API sees the same tree: only the allowed links exist.
      assertTrue(m.fs().main().lstat("/a/b/l14").isSymlink());
      assertEquals(java.util.List.of("a", "l10", "l11", "l12", "l17"),
          m.fs().main().list("/").stream().sorted().toList());
    }
  }

  @Test
  void withoutTheFeatureEveryLinkIsMadeAsOnExt4() throws Exception {
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    String expected = run(nativeDir);
    assertTrue(expected.contains(". /etc/passwd OK /etc/passwd"), expected);
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      assertEquals(expected, run(m.dir()));
    }
  }
}
