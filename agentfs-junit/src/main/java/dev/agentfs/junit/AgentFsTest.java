package dev.agentfs.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a JUnit 5 test a fresh {@link dev.agentfs.AgentFs}, closed (and unmounted) after the
 * test whatever its outcome, with its temporary directories deleted.
 *
 * <pre>{@code
 * @AgentFsTest
 * class MyAgentTest {
 *   @Test
 *   void writesAReport(AgentFs fs) throws Exception {        // in memory, one per test
 *     fs.main().write("/report.md", "# ok");
 *   }
 *
 *   @Test
 *   @AgentFsTest(mounted = true, lower = AgentFsTest.SAMPLE)
 *   void toolsSeeTheWorkspace(TestFs t) throws Exception {     // FUSE mount of an overlay
 *     assertTrue(Files.exists(t.path("src/main/java/com/example/App.java")));
 *   }
 * }
 * }</pre>
 *
 * <p><b>What is injected.</b> Test, lifecycle and constructor parameters of type {@link
 * dev.agentfs.AgentFs}, {@link dev.agentfs.Branch} (its main branch) and {@link TestFs} (the
 * filesystem with its mount point and lower workspace); and, before each test, every non-static,
 * non-final instance field of type {@code AgentFs} or {@code TestFs} that is still null (reset
 * to null after the test). Within one test method every injection is the same filesystem.
 * Parameters of {@code @BeforeAll} methods (and constructors under {@code
 * Lifecycle.PER_CLASS}) get one filesystem for the whole class, which its tests then share.
 *
 * <p><b>Where it applies.</b> On a class (also through {@code @Nested} classes and
 * meta-annotations) or on a single method; the annotation nearest the test wins as a whole.
 *
 * <p><b>FUSE.</b> With {@code mounted = true} a test is skipped where {@code /dev/fuse} is
 * missing, and fails instead when the environment variable {@code CI} is {@code true}, so a CI
 * machine without FUSE cannot silently skip mount tests. Mounting needs root (or fusermount3).
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(AgentFsExtension.class)
public @interface AgentFsTest {
  /** The value of {@link #lower()} that asks for a generated {@link SampleWorkspace}. */
  String SAMPLE = "<sample>";

  /** Mount the main branch at a temporary directory ({@link TestFs#mountPoint()}). */
  boolean mounted() default false;

  /** Where file content lives. */
  Store backstore() default Store.MEMORY;

  /**
   * Overlay mode: a host directory the tree starts as (relative paths resolve against the
   * working directory, in Maven the module directory), or {@link #SAMPLE} for a freshly
   * generated sample workspace in a temporary directory. Empty: no overlay. The lower
   * directory is never modified unless the test calls {@code commitToLower}.
   */
  String lower() default "";

  /** The backstores a test can ask for. */
  enum Store {
    /** The in-memory backstore (the default). */
    MEMORY,
    /**
     * The durable host-directory backstore in a temporary directory; needs the agentfs-hostfs
     * module on the test class path.
     */
    HOSTFS
  }
}
