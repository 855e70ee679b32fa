package dev.agentfs.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * A plain host directory: {@code native}, the baseline, is on the filesystem that holds the
 * work directory; {@code tmpfs} is on /dev/shm, the kernel's own in-memory filesystem, which
 * shows what the memory backstore would cost without FUSE in between.
 */
final class NativeConfig implements BenchConfig {
  private final String name;
  private final @Nullable Path base;
  private @Nullable Path dir;

  /** A host directory below {@code base}, or below the work directory when null. */
  NativeConfig(String name, @Nullable Path base) {
    this.name = name;
    this.base = base;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean isNative() {
    return name.equals("native");
  }

  @Override
  public Path setUp(Path work) throws IOException {
    Path d = (base != null ? base : work).resolve(name);
    Files.createDirectories(d);
    dir = d;
    return d;
  }

  @Override
  public void close() {
    Path d = dir;
    dir = null;
    if (d != null) {
      Files2.deleteTree(d);
    }
    if (base != null) {
      try {
        Files.deleteIfExists(base);
      } catch (IOException e) {
        // another run uses it
      }
    }
  }
}
