package dev.agentfs.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** The baseline: a directory on the host filesystem that holds the work directory. */
final class NativeConfig implements BenchConfig {
  private @Nullable Path dir;

  @Override
  public String name() {
    return "native";
  }

  @Override
  public boolean isNative() {
    return true;
  }

  @Override
  public Path setUp(Path work) throws IOException {
    Path d = work.resolve("native");
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
  }
}
