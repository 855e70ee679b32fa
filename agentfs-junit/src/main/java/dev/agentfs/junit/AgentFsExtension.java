package dev.agentfs.junit;

import dev.agentfs.AgentFs;
import dev.agentfs.Backstores;
import dev.agentfs.Branch;
import dev.agentfs.spi.MountHandle;
import java.io.IOException;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;

/**
 * The extension behind {@link AgentFsTest}; see there for what it injects. Each filesystem is
 * kept in the JUnit store of the test (or class) that asked for it, so JUnit closes it when
 * that test ends, after every {@code @AfterEach}, also when the test failed.
 */
public final class AgentFsExtension
    implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(AgentFsExtension.class);
  private static final String KEY = "fs";

  /** The settings of one {@link AgentFsTest}; the defaults when there is none. */
  record Config(boolean mounted, AgentFsTest.Store backstore, String lower) {
    static final Config DEFAULT = new Config(false, AgentFsTest.Store.MEMORY, "");

    static Config of(AgentFsTest a) {
      return new Config(a.mounted(), a.backstore(), a.lower());
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (classConfig(context).mounted()) {
      requireFuse();
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IllegalAccessException {
    if (config(context).mounted()) {
      requireFuse();
    }
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      for (Field f : ReflectionSupport.findFields(instance.getClass(),
          AgentFsExtension::injectable, HierarchyTraversalMode.TOP_DOWN)) {
        f.setAccessible(true);
        if (f.get(instance) != null) {
          continue;
        }
        TestFs t = testFs(context);
        f.set(instance, f.getType() == TestFs.class ? t : t.fs());
        t.onClose(() -> {
          try {
            f.set(instance, null);
          } catch (IllegalAccessException e) {
            // accessible was set above; nothing to undo
          }
        });
      }
    }
  }

  private static boolean injectable(Field f) {
    int m = f.getModifiers();
    return !Modifier.isStatic(m) && !Modifier.isFinal(m)
        && (f.getType() == AgentFs.class || f.getType() == TestFs.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext context) {
    Class<?> t = p.getParameter().getType();
    return t == AgentFs.class || t == Branch.class || t == TestFs.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext context) {
    TestFs t = testFs(context);
    Class<?> type = p.getParameter().getType();
    if (type == TestFs.class) {
      return t;
    }
    return type == Branch.class ? t.main() : t.fs();
  }

  /** The filesystem of this test (or class), made on first use. */
  private static TestFs testFs(ExtensionContext context) {
    return context.getStore(NS).getOrComputeIfAbsent(KEY, k -> new Resource(open(config(context))),
        Resource.class).testFs;
  }

  /**
   * Closed by JUnit with the store. Implements the pre-5.13 {@code CloseableResource} too, so
   * the filesystem is closed whether or not the store closes plain {@code AutoCloseable}s.
   */
  @SuppressWarnings("deprecation")
  private record Resource(TestFs testFs)
      implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      testFs.close();
    }
  }

  static TestFs open(Config c) {
    Path tmp;
    try {
      tmp = Files.createTempDirectory("agentfs-test-");
    } catch (IOException e) {
      throw new ExtensionConfigurationException("cannot create a temporary directory", e);
    }
    AgentFs fs = null;
    MountHandle mount = null;
    try {
      AgentFs.Builder b = AgentFs.builder();
      if (c.backstore() == AgentFsTest.Store.HOSTFS) {
        b.backstore(Backstores.hostFs(Files.createDirectory(tmp.resolve("backstore"))));
      }
      Path lower = lower(c.lower(), tmp);
      if (lower != null) {
        b.lower(lower);
      }
      fs = b.build();
      if (c.mounted()) {
        requireFuse();
        mount = fs.mount(Files.createDirectory(tmp.resolve("mnt")));
      }
      return new TestFs(fs, tmp, mount, lower);
    } catch (IOException | RuntimeException e) {
      if (fs != null) {
        fs.close();
      }
      TestFs.deleteTree(tmp);
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new ExtensionConfigurationException("@AgentFsTest(" + c + "): " + e.getMessage(), e);
    }
  }

  private static @Nullable Path lower(String spec, Path tmp) throws IOException {
    if (spec.isEmpty()) {
      return null;
    }
    if (spec.equals(AgentFsTest.SAMPLE)) {
      return SampleWorkspace.create(tmp.resolve("lower"));
    }
    Path p = Path.of(spec).toAbsolutePath().normalize();
    if (!Files.isDirectory(p)) {
      throw new ExtensionConfigurationException(
          "@AgentFsTest(lower = \"" + spec + "\"): " + p + " is not a directory");
    }
    return p;
  }

  /**
   * For tests that mount by themselves: skips the calling test where /dev/fuse is missing, and
   * fails it instead when the environment variable CI is true.
   */
  public static void requireFuse() {
    requireFuse(Path.of("/dev/fuse"), System.getenv("CI"));
  }

  static void requireFuse(Path device, @Nullable String ci) {
    if (Files.exists(device)) {
      return;
    }
    if ("true".equalsIgnoreCase(ci)) {
      Assertions.fail("CI=true but " + device + " is missing: mounted tests must not be skipped in CI");
    }
    Assumptions.abort("skipped: " + device + " is missing on this machine");
  }

  /** The nearest annotation: the test method's, else its class's or an enclosing class's. */
  static Config config(ExtensionContext context) {
    Optional<AnnotatedElement> el = context.getElement();
    if (el.isPresent() && !(el.get() instanceof Class<?>)) {
      Optional<AgentFsTest> a = AnnotationSupport.findAnnotation(el.get(), AgentFsTest.class);
      if (a.isPresent()) {
        return Config.of(a.get());
      }
    }
    return classConfig(context);
  }

  private static Config classConfig(ExtensionContext context) {
    for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
      Optional<AgentFsTest> a = AnnotationSupport.findAnnotation(c, AgentFsTest.class);
      if (a.isPresent()) {
        return Config.of(a.get());
      }
    }
    return Config.DEFAULT;
  }
}
