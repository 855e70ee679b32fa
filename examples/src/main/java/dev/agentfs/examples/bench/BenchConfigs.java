package dev.agentfs.examples.bench;

import dev.agentfs.AgentFsException;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.spi.Backstore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    add("hostfs", () -> new AgentFsConfig("hostfs", (b, dir) -> b.backstore(hostFs(dir))));
    add("hostfs-passthrough", () -> new AgentFsConfig("hostfs-passthrough",
        (b, dir) -> b.backstore(hostFs(dir)).passthrough(Passthrough.REQUIRED)));
    add("memory-uring", () -> new AgentFsConfig("memory-uring",
        b -> b.enable(Feature.IO_URING)));
    add("hostfs-passthrough-uring", () -> new AgentFsConfig("hostfs-passthrough-uring",
        (b, dir) -> b.backstore(hostFs(dir)).passthrough(Passthrough.REQUIRED)
            .enable(Feature.IO_URING)));
    add("overlay", () -> new AgentFsConfig("overlay", (b, dir) -> b.lower(lower(dir))));
    add("jnr", () -> new AgentFsConfig("jnr", b -> b.transport("jnr")));
    add("libfuse-hp", ReferenceFuseConfig::new);
    add("branch-exec", () -> new AgentFsConfig("branch-exec", (b, dir) -> { }, true));
  }

  private BenchConfigs() {}

  private static Backstore hostFs(Path dir) {
    try {
      return HostFsBackstore.open(dir.resolve("store"));
    } catch (AgentFsException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A lower tree for the overlay: a small read-only workspace the workloads run on top of. */
  private static Path lower(Path dir) {
    try {
      Path ws = Files.createDirectories(dir.resolve("lower/src"));
      for (int i = 0; i < 100; i++) {
        Files.writeString(ws.resolve("F" + i + ".java"), "class F" + i + " {}\n");
      }
      return dir.resolve("lower");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void add(String name, Supplier<BenchConfig> factory) {
    ALL.put(name, factory);
  }

  static Map<String, Supplier<BenchConfig>> all() {
    return ALL;
  }

  /** Every configuration, less the C reference server when its binary is not at hand. */
  static List<String> defaults() {
    List<String> names = new ArrayList<>(ALL.keySet());
    if (ReferenceFuseConfig.binary() == null) {
      names.remove("libfuse-hp");
    }
    return names;
  }

  static String defaultList() {
    return String.join(",", defaults());
  }
}
