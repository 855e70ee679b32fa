package dev.agentfs.core;

import static dev.agentfs.core.Fx.ROOT;
import static dev.agentfs.vfs.Modes.O_CREAT;
import static dev.agentfs.vfs.Modes.O_WRONLY;
import static dev.agentfs.vfs.Modes.S_IFIFO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.vfs.Vfs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Malformed names given straight to the core, which the kernel never sends: a '/' or NUL in a
 * name is EINVAL for every call that makes or moves a name, 256 bytes is ENAMETOOLONG, and
 * bytes that are not UTF-8 are kept as they are unless STRICT_UTF8_NAMES asks for EILSEQ.
 * Every refused call leaves the tree as it was.
 */
class NameRulesTest {
  private static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xe9};      // "café" in Latin-1
  private static final byte[] BAD_UTF8 = {(byte) 0xff, (byte) 0xfe, 'x'};
  private static final byte[] OVERLONG = {(byte) 0xc0, (byte) 0xaf};      // "/" spelled overlong

  /** Every call that takes a new or existing name, with {@code name} in that place. */
  private static List<Executable> callsWith(BranchFs v, long dir, long file, byte[] name) {
    return List.of(
        () -> v.mkdir(ROOT, dir, name, 0755, 0),
        () -> v.create(ROOT, dir, name, 0644, O_CREAT | O_WRONLY, 0),
        () -> v.mknod(ROOT, dir, name, S_IFIFO | 0644, 0, 0),
        () -> v.symlink(ROOT, dir, name, Fx.b("t")),
        () -> v.link(ROOT, file, dir, name),
        () -> v.rename(ROOT, dir, Fx.b("f"), dir, name, 0));
  }

  private static void refusedEverywhere(AgentFs fs, byte[] name, Errno want)
      throws AgentFsException {
    BranchFs v = fs.core().branch("main");
    long file = Fx.file(v, ROOT, Vfs.ROOT, "f", 0644, "x");
    Map<String, String> before = Fx.dump(v.st.table);
    List<Executable> calls = callsWith(v, Vfs.ROOT, file, name);
    List<String> got = new ArrayList<>();
    for (Executable c : calls) {
      got.add(Fx.errno(c).name());
    }
    assertEquals(java.util.Collections.nCopies(calls.size(), want.name()), got,
        Arrays.toString(name));
    assertEquals(before, Fx.dump(v.st.table), "a refused name changed the tree");
  }

  @Test
  void slashAndNulAreEinval() throws AgentFsException {
    for (byte[] name : new byte[][] {Fx.b("a/b"), Fx.b("/"), Fx.b("x/"), {'a', 0, 'b'}, {0}}) {
      try (AgentFs fs = AgentFs.builder().build()) {
        refusedEverywhere(fs, name, Errno.EINVAL);
      }
    }
  }

  @Test
  void aNulInAPathOfThePathApiIsEinval() throws AgentFsException {
    try (AgentFs fs = AgentFs.builder().build()) {
      Fx.expect(Errno.EINVAL, () -> fs.main().write("/a\0b", "x"));
      Fx.expect(Errno.EINVAL, () -> fs.main().mkdir("/d\0"));
      assertEquals(List.of(), fs.main().list("/"));
    }
  }

  @Test
  void nameMaxIs255Bytes() throws AgentFsException {
    byte[] n255 = new byte[255];
    Arrays.fill(n255, (byte) 'a');
    byte[] n256 = Arrays.copyOf(n255, 256);
    n256[255] = 'a';
    try (AgentFs fs = AgentFs.builder().build()) {
      refusedEverywhere(fs, n256, Errno.ENAMETOOLONG);
      BranchFs v = fs.core().branch("main");
      v.mkdir(ROOT, Vfs.ROOT, n255, 0755, 0);
      Fx.expect(Errno.ENAMETOOLONG, () -> v.lookup(ROOT, Vfs.ROOT, n256));
    }
    // 255 bytes of a two-byte character is 510 bytes: the limit is on bytes, as on ext4.
    byte[] wide = new byte[256];
    for (int i = 0; i < wide.length; i += 2) {
      wide[i] = (byte) 0xc3;
      wide[i + 1] = (byte) 0xa9;
    }
    try (AgentFs fs = AgentFs.builder().enable(Feature.STRICT_UTF8_NAMES).build()) {
      refusedEverywhere(fs, wide, Errno.ENAMETOOLONG);
    }
  }

  @Test
  void bytesThatAreNotUtf8AreKeptByDefault() throws AgentFsException {
    try (AgentFs fs = AgentFs.builder().build()) {
      BranchFs v = fs.core().branch("main");
      for (byte[] name : new byte[][] {LATIN1, BAD_UTF8, OVERLONG}) {
        long ino = v.mkdir(ROOT, Vfs.ROOT, name, 0755, 0).ino();
        assertEquals(ino, v.lookup(ROOT, Vfs.ROOT, name).ino());
      }
      List<byte[]> listed = new ArrayList<>();
      v.readdir(ROOT, Vfs.ROOT, 0, 0, false, (n, ino, mode, off, a) -> {
        listed.add(n);
        return true;
      });
      assertEquals(5, listed.size(), "., .. and the three names");
      assertArrayEquals(BAD_UTF8, listed.stream().filter(n -> n[0] == (byte) 0xff)
          .findFirst().orElseThrow());
    }
  }

  @Test
  void strictUtf8NamesRefusesThemWithEilseq() throws AgentFsException {
    for (byte[] name : new byte[][] {LATIN1, BAD_UTF8, OVERLONG}) {
      try (AgentFs fs = AgentFs.builder().enable(Feature.STRICT_UTF8_NAMES).build()) {
        refusedEverywhere(fs, name, Errno.EILSEQ);
      }
    }
    try (AgentFs fs = AgentFs.builder().enable(Feature.STRICT_UTF8_NAMES).build()) {
      fs.main().write("/café ☕", "valid UTF-8 is fine");
      assertEquals(List.of("café ☕"), fs.main().list("/"));
    }
  }
}
