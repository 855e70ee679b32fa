package dev.agentfs.fuse.jnr;

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
 * Test support for jnr mounts. A test skips only when /dev/fuse is missing (and fails instead
 * under CI=true); a missing libfuse2 always fails, naming the fix.
 */
final class JnrFuse {
  private JnrFuse() {}

  static void require() {
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    if (!Files.exists(Path.of("/dev/fuse"))) {
      if (ci) {
        fail("CI=true but /dev/fuse is missing: FUSE tests must not be skipped in CI");
      }
      Assumptions.abort("skipped: /dev/fuse is missing on this machine");
    }
    String why = new JnrTransportProvider().unavailableReason();
    if (why != null) {
      fail("the jnr transport cannot run here: " + why
          + " -- run scripts/setup.sh to install what the tests need");
    }
  }

  /** A mounted filesystem; closing unmounts and closes the AgentFs. */
  record Mounted(AgentFs fs, Path dir, MountHandle handle) implements AutoCloseable {
    Path path(String rel) {
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

  static Mounted mount(Path parent, Consumer<AgentFs.Builder> config) throws IOException {
    require();
    Path dir = Files.createTempDirectory(parent, "mnt");
    AgentFs.Builder b = AgentFs.builder().transport("jnr");
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

  static Mounted mount(Path parent) throws IOException {
    return mount(parent, b -> { });
  }
}
