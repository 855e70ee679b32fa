package dev.agentfs.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

@AgentFsTest
class AgentFsExtensionTest {
  AgentFs field;
  TestFs fieldTestFs;
  AgentFs seenInBeforeEach;

  @BeforeEach
  void before(AgentFs fs) {
    seenInBeforeEach = fs;
  }

  @Test
  void oneFilesystemPerTestForEveryInjection(AgentFs fs, Branch main, TestFs t) throws Exception {
    assertSame(fs, field);
    assertSame(fs, seenInBeforeEach);
    assertSame(fs, t.fs());
    assertSame(t, fieldTestFs);
    assertEquals("main", main.name());
    assertEquals("memory", fs.backstore().name().split(":")[0]);
    assertFalse(t.isMounted());
    assertTrue(t.lower().isEmpty());
    assertThrows(IllegalStateException.class, t::mountPoint);
    assertEquals(List.of(), main.list("/"));
  }

  @Test
  void eachTestStartsEmptyA(AgentFs fs) throws Exception {
    assertFalse(fs.main().exists("/marker"));
    fs.main().write("/marker", "a");
  }

  @Test
  void eachTestStartsEmptyB(AgentFs fs) throws Exception {
    assertFalse(fs.main().exists("/marker"));
    fs.main().write("/marker", "b");
  }

  @Test
  @AgentFsTest(backstore = AgentFsTest.Store.HOSTFS)
  void hostfsBackstoreInATemporaryDirectory(TestFs t) throws Exception {
    assertTrue(t.fs().backstore().name().startsWith("hostfs"), t.fs().backstore().name());
    t.main().write("/f", "durable");
    assertEquals("durable", t.main().readString("/f"));
    assertTrue(Files.isDirectory(t.tempDir().resolve("backstore")));
  }

  @Test
  @AgentFsTest(lower = AgentFsTest.SAMPLE)
  void sampleWorkspaceOverlay(TestFs t) throws Exception {
    Path lower = t.lower().orElseThrow();
    for (Map.Entry<String, String> e : SampleWorkspace.FILES.entrySet()) {
      assertEquals(e.getValue(), t.main().readString("/" + e.getKey()));
    }
    Branch task = t.fs().createBranch("task", t.main());
    task.write("/README.md", "changed");
    assertEquals(SampleWorkspace.FILES.get("README.md"),
        Files.readString(lower.resolve("README.md")));
    assertEquals(1, t.fs().commitToLower("task", false).applied().size());
    assertEquals("changed", Files.readString(lower.resolve("README.md")));
  }

  @Test
  @AgentFsTest(lower = "src/main/java/dev/agentfs/junit")
  void lowerPathRelativeToTheModule(Branch main) throws Exception {
    assertTrue(main.readString("/AgentFsTest.java").contains("@interface AgentFsTest"));
  }

  @Test
  @AgentFsTest(mounted = true)
  void mountedMainBranch(TestFs t) throws Exception {
    Files.writeString(t.path("hello.txt"), "from the kernel");
    assertEquals("from the kernel", t.main().readString("/hello.txt"));
    t.main().write("/from-java", "x");
    assertEquals("x", Files.readString(t.path("from-java")));
    assertTrue(mounted(t.mountPoint()));
  }

  @Test
  void aMissingFuseDeviceSkipsOrFailsUnderCi(@TempDir Path tmp) {
    Path none = tmp.resolve("fuse");
    assertThrows(TestAbortedException.class, () -> AgentFsExtension.requireFuse(none, null));
    assertThrows(TestAbortedException.class, () -> AgentFsExtension.requireFuse(none, "false"));
    assertThrows(AssertionFailedError.class, () -> AgentFsExtension.requireFuse(none, "true"));
    AgentFsExtension.requireFuse(tmp, "true");
  }

  @Test
  void aLowerThatIsNotADirectoryIsAConfigurationError() {
    Exception e = assertThrows(RuntimeException.class, () -> AgentFsExtension.open(
        new AgentFsExtension.Config(false, AgentFsTest.Store.MEMORY, "no/such/dir")));
    assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
  }

  @Nested
  class NestedClasses {
    @Test
    void inheritTheOuterAnnotationAndShareTheFilesystemWithOuterFields(AgentFs fs) {
      assertSame(fs, field);
    }
  }

  // ---------------------------------------------------------------- teardown after failures

  /** Run only by the launcher below: its tests fail on purpose. */
  @AgentFsTest(mounted = true, lower = AgentFsTest.SAMPLE)
  @EnabledIf("launched")
  static class FailingFixture {
    static volatile boolean launched;
    static final List<TestFs> SEEN = new ArrayList<>();

    static boolean launched() {
      return launched;
    }

    static final List<String> AFTER_EACH = new ArrayList<>();
    TestFs t;

    @Test
    void fails() throws IOException {
      SEEN.add(t);
      Files.writeString(t.path("x"), "x");
      throw new AssertionError("boom");
    }

    @Test
    void throwsAnError() {
      SEEN.add(t);
      throw new IllegalStateException("bang");
    }

    @AfterEach
    void stillMountedInAfterEach() throws IOException {
      AFTER_EACH.add(Files.readString(t.path("README.md")));
    }
  }

  @Test
  void failingTestsAreStillUnmountedAndCleanedUp() throws Exception {
    AgentFsExtension.requireFuse();
    TestExecutionSummary s;
    FailingFixture.launched = true;
    try {
      s = run(FailingFixture.class);
    } finally {
      FailingFixture.launched = false;
    }
    assertEquals(2, s.getTestsFailedCount(), () -> failures(s));
    assertEquals(2, FailingFixture.SEEN.size());
    assertEquals(List.of(SampleWorkspace.FILES.get("README.md"),
        SampleWorkspace.FILES.get("README.md")), FailingFixture.AFTER_EACH);
    for (TestFs t : FailingFixture.SEEN) {
      assertFalse(mounted(t.mountPoint()), t.mountPoint() + " is still mounted");
      assertFalse(Files.exists(t.tempDir()), t.tempDir() + " was not deleted");
      assertTrue(t.fs().mounts().isEmpty());
    }
  }

  static TestExecutionSummary run(Class<?> c) {
    LauncherDiscoveryRequest req = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectClass(c)).build();
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener l = new SummaryGeneratingListener();
    launcher.execute(req, l);
    return l.getSummary();
  }

  private static String failures(TestExecutionSummary s) {
    StringBuilder sb = new StringBuilder();
    s.getFailures().forEach(f -> sb.append(f.getTestIdentifier().getDisplayName()).append(": ")
        .append(f.getException()).append('\n'));
    return sb.toString();
  }

  static boolean mounted(Path dir) throws IOException {
    String mp = " " + dir.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(mp));
  }
}
