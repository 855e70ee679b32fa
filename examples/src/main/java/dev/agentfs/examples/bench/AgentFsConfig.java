package dev.agentfs.examples.bench;

import dev.agentfs.AgentFs;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.FuseSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An AgentFS instance built with some builder settings and its main branch mounted in this
 * JVM, on a directory below the work directory.
 */
final class AgentFsConfig implements BenchConfig {
  private final String name;
  private final BiConsumer<AgentFs.Builder, Path> settings;
  private final boolean branchExport;
  private @Nullable AgentFs fs;
  private @Nullable Path mountPoint;
  private @Nullable Path scratch;

  AgentFsConfig(String name, Consumer<AgentFs.Builder> settings) {
    this(name, (b, dir) -> settings.accept(b));
  }

  /** {@code settings} also gets a fresh scratch directory (for a backstore or a lower tree). */
  AgentFsConfig(String name, BiConsumer<AgentFs.Builder, Path> settings) {
    this(name, settings, false);
  }

  /**
   * With {@code branchExport}, the main branch is mounted where an agent's host would have it
   * and the workloads run on a branch made from a snapshot of it, mounted on its own: exactly
   * what {@code branch exec} sets up before it bind-mounts that export over the workspace in a
   * private namespace (the bind mount adds nothing per request, so it is left out here).
   */
  AgentFsConfig(String name, BiConsumer<AgentFs.Builder, Path> settings, boolean branchExport) {
    this.name = name;
    this.settings = settings;
    this.branchExport = branchExport;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Path setUp(Path work) throws Exception {
    Path mp = work.resolve("mnt-" + name).toAbsolutePath().normalize();
    Files.createDirectories(mp);
    mountPoint = mp;
    KernelMounts.unmountStale(mp); // left by a bench run that was killed
    Path dir = work.resolve("scratch-" + name).toAbsolutePath().normalize();
    Files2.deleteTree(dir);
    Files.createDirectories(dir);
    scratch = dir;
    AgentFs.Builder b = AgentFs.builder();
    settings.accept(b, dir);
    if (!branchExport) {
      fs = b.mount(mp);
      return mp;
    }
    AgentFs f = b.build();
    fs = f;
    Path main = Files.createDirectories(dir.resolve("main-mount"));
    f.mount(main); // closed with the AgentFs
    Files.writeString(main.resolve("README"), "the workspace the branch starts from\n");
    f.createBranch("agent", f.snapshot("base"));
    f.mount(f.branch("agent"), mp);
    return mp;
  }

  @Override
  public Map<String, Long> requestCounts() {
    Path mp = mountPoint;
    FuseSession s = mp == null ? null : FuseSession.live(mp);
    return s == null ? Map.of() : s.requestCounts();
  }

  @Override
  public void close() {
    AgentFs f = fs;
    fs = null;
    if (f != null) {
      f.close();
    }
    Path sc = scratch;
    scratch = null;
    if (sc != null) {
      try {
        Files2.deleteTree(sc);
      } catch (Exception e) {
        // leave it for the work-dir cleanup
      }
    }
    Path mp = mountPoint;
    mountPoint = null;
    if (mp != null) {
      try {
        Files.deleteIfExists(mp);
      } catch (Exception e) {
        // still mounted (lazy detach pending) or not empty: leave it for the work-dir cleanup
      }
    }
  }
}
