package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.spi.MountHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;

/**
 * Test support for real mounts: checks that FUSE is usable (skipping with a reason where
 * /dev/fuse is missing, failing instead under CI=true) and mounts an AgentFs at a directory.
 * {@link Mounted#close()} always unmounts; the transport's shutdown hook covers a dying JVM.
 */
public final class Fuse {
  private Fuse() {}

  public static void require() {
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    if (!Files.exists(Path.of("/dev/fuse"))) {
      if (ci) {
        fail("CI=true but /dev/fuse is missing: FUSE tests must not be skipped in CI");
      }
      Assumptions.abort("skipped: /dev/fuse is missing on this machine");
    }
  }

  /** A mounted filesystem and its mount point; closing unmounts and closes the AgentFs. */
  public record Mounted(AgentFs fs, Path dir, MountHandle handle) implements AutoCloseable {
    public Path path(String rel) {
      return dir.resolve(rel);
    }

    @Override
    public void close() {
      try {
        handle.close();
      } finally {
        fs.close();
      }
    }
  }

  public static Mounted mount(Path parent, Consumer<AgentFs.Builder> config)
      throws IOException {
    require();
    Path dir = Files.createTempDirectory(parent, "mnt");
    AgentFs.Builder b = AgentFs.builder();
    config.accept(b);
    AgentFs fs = b.build();
    try {
      MountHandle h = fs.mount(dir);
      return new Mounted(fs, dir, h);
    } catch (AgentFsException | RuntimeException e) {
      fs.close();
      throw e;
    }
  }

  public static Mounted mount(Path parent) throws IOException {
    return mount(parent, b -> { });
  }
}
