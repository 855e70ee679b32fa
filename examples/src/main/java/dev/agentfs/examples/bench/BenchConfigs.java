package dev.agentfs.examples.bench;

import dev.agentfs.Feature;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The configurations {@code bench --configs} knows, in their default order. Adding one is one
 * line here (for example {@code hostfs} once its backstore provider exists:
 * {@code add("hostfs", () -> new AgentFsConfig("hostfs", b -> b.backstore(...)))}).
 */
final class BenchConfigs {
  private static final Map<String, Supplier<BenchConfig>> ALL = new LinkedHashMap<>();

  static {
    add("native", () -> new NativeConfig("native", null));
    add("tmpfs", () -> new NativeConfig("tmpfs", Path.of("/dev/shm/agentfs-bench")));
    add("memory", () -> new AgentFsConfig("memory", b -> { }));
    add("memory-writeback", () -> new AgentFsConfig("memory-writeback",
        b -> b.enable(Feature.WRITEBACK_CACHE)));
    // Not yet: hostfs, hostfs-passthrough, overlay, branch-exec (being built elsewhere), and
    // jnr: AgentFs.builder().transport("jnr") finds no TransportProvider named "jnr" today.
  }

  private BenchConfigs() {}

  private static void add(String name, Supplier<BenchConfig> factory) {
    ALL.put(name, factory);
  }

  static Map<String, Supplier<BenchConfig>> all() {
    return ALL;
  }

  static String defaultList() {
    return String.join(",", ALL.keySet());
  }
}
