package dev.agentfs.core;

import static dev.agentfs.core.Fx.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Vfs;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link dev.agentfs.Feature#CONFINED_SYMLINKS} at the core: the lexical rule on its own,
 * the same rule through the Vfs, the path API and java.nio, a refused link changes nothing,
 * and without the feature every target is accepted as POSIX says.
 */
class ConfinedSymlinkTest {
  AgentFs confined;
  AgentFs posix;

  @BeforeEach
  void setUp() throws AgentFsException {
    confined = AgentFs.builder().enable(Feature.CONFINED_SYMLINKS).build();
    posix = AgentFs.builder().build();
    for (AgentFs fs : new AgentFs[] {confined, posix}) {
      fs.main().mkdirs("/a/b/c");
    }
  }

  @AfterEach
  void tearDown() {
    confined.close();
    posix.close();
  }

  /** Target, depth of the link's directory, whether it escapes. */
  @ParameterizedTest(name = "[{index}] ''{0}'' at depth {1} escapes: {2}")
  @CsvSource(delimiter = '|', value = {
      "x|0|false", "./x|0|false", "x/y/z|0|false", ".|0|false", "./.|0|false",
      "a/..|0|false", "a/../x|0|false", "a/b/../../x|0|false", ".//x//|0|false",
      "..|0|true", "./..|0|true", "../x|0|true", "a/../../x|0|true", "a/b/../../..|0|true",
      "/etc|0|true", "//etc|0|true", "/|0|true", "x/../../a|0|true",
      "..|1|false", "../..|1|true", "../x/../..|1|true", "../a/b/c|1|false",
      "../../a/b|2|false", "../../../a|2|true", "../../a/../b/../..|2|true",
      "../../a/../b|2|false", "....|0|false", "..x|0|false", "x..|0|false", "...|0|false",
      ".../..|0|false"})
  void theRuleCountsDotDotAgainstTheDepth(String target, int depth, boolean escapes) {
    assertEquals(escapes, SymlinkPolicy.escapes(b(target), depth), target + " at " + depth);
  }

  @Test
  void absoluteAndEscapingTargetsAreEpermThroughThePathApi() throws AgentFsException {
    Branch m = confined.main();
    Map<String, String> before = Fx.dump(confined.core().branch("main").st.table);
    String[][] refused = {
        {"/etc/passwd", "/l1"}, {"//etc", "/l2"}, {"..", "/l3"}, {"./..", "/l4"},
        {"a/../../x", "/l5"}, {"../../..", "/a/b/l6"}, {"../../../../x", "/a/b/c/l7"},
        {"../a/../../x", "/a/l8"}};
    for (String[] r : refused) {
      AgentFsException e = assertThrows(AgentFsException.class, () -> m.symlink(r[0], r[1]));
      assertEquals(Errno.EPERM, e.errno(), r[0]);
      assertEquals(r[1], e.path());
      // The path API names the link; the core's failure under it says why.
      Throwable why = e.getCause() != null ? e.getCause() : e;
      assertTrue(why.getMessage().contains("confined symlinks"), why.getMessage());
    }
    assertEquals(before, Fx.dump(confined.core().branch("main").st.table),
        "a refused symlink changed the tree");
    // Up and back down without ever passing the root; dangling targets are fine.
    String[][] allowed = {
        {"a/b/c", "/ok1"}, {"../../x", "/a/b/ok2"}, {"../../../a/b", "/a/b/c/ok3"},
        {"./b/../b/c", "/a/ok4"}, {"..", "/a/ok5"}, {"missing/../../a", "/a/ok6"}};
    for (String[] r : allowed) {
      m.symlink(r[0], r[1]);
      assertEquals(r[0], m.readlink(r[1]));
    }
  }

  @Test
  void theVfsAppliesItToEveryCaller() throws AgentFsException {
    BranchFs v = confined.core().branch("main");
    Caller alice = new Caller(100, 1000, 1000, new int[0]);
    long a = v.lookup(Caller.ROOT, Vfs.ROOT, b("a")).ino();
    v.setattr(Caller.ROOT, a, 0, dev.agentfs.vfs.SetAttr.mode(0777));
    assertEquals(Errno.EPERM, Fx.errno(() -> v.symlink(Caller.ROOT, Vfs.ROOT, b("r"), b("/"))));
    assertEquals(Errno.EPERM, Fx.errno(() -> v.symlink(alice, a, b("r"), b("../.."))));
    assertTrue(v.symlink(alice, a, b("r"), b("../a")).isSymlink());
  }

  @Test
  void javaNioObeysIt() throws Exception {
    Path root = confined.main().asFileSystem().getPath("/a");
    FileSystemException e = assertThrows(FileSystemException.class,
        () -> Files.createSymbolicLink(root.resolve("l"), root.getFileSystem().getPath("/etc")));
    assertFalse(Files.exists(root.resolve("l"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    assertTrue(e.getMessage() != null, "the exception says why");
    Files.createSymbolicLink(root.resolve("ok"), root.getFileSystem().getPath("b/c"));
    assertTrue(Files.isDirectory(root.resolve("ok")));
  }

  @Test
  void offByDefaultEveryTargetIsAccepted() throws AgentFsException {
    Branch m = posix.main();
    for (String t : new String[] {"/etc/passwd", "//etc", "..", "./..", "a/../../x"}) {
      String link = "/l" + Integer.toHexString(t.hashCode());
      m.symlink(t, link);
      assertEquals(t, m.readlink(link));
    }
  }

  @Test
  void aNulInTheTargetIsEinvalWithOrWithoutThePolicy() throws AgentFsException {
    for (AgentFs fs : new AgentFs[] {confined, posix}) {
      BranchFs v = fs.core().branch("main");
      assertEquals(Errno.EINVAL, Fx.errno(() -> v.symlink(Caller.ROOT, Vfs.ROOT, b("n"),
          new byte[] {'a', 0, 'b'})));
    }
  }
}
