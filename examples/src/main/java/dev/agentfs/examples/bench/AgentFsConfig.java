package dev.agentfs.examples.bench;

import dev.agentfs.AgentFs;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.FuseSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An AgentFS instance built with some builder settings and its main branch mounted in this
 * JVM, on a directory below the work directory.
 */
final class AgentFsConfig implements BenchConfig {
  private final String name;
  private final Consumer<AgentFs.Builder> settings;
  private @Nullable AgentFs fs;
  private @Nullable Path mountPoint;

  AgentFsConfig(String name, Consumer<AgentFs.Builder> settings) {
    this.name = name;
    this.settings = settings;
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
    AgentFs.Builder b = AgentFs.builder();
    settings.accept(b);
    fs = b.mount(mp);
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
