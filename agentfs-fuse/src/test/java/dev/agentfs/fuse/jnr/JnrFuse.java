package dev.agentfs.fuse.jnr;

import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.AgentFs;
import dev.agentfs.it.Fuse;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Test support for jnr mounts: the shared {@link Fuse} rules (skip only where /dev/fuse is
 * missing, fail instead under CI=true), plus a missing libfuse2 always fails, naming the fix.
 */
final class JnrFuse {
  private JnrFuse() {}

  static void require() {
    Fuse.require();
    String why = new JnrTransportProvider().unavailableReason();
    if (why != null) {
      fail("the jnr transport cannot run here: " + why
          + " -- run scripts/setup.sh to install what the tests need");
    }
  }

  static Fuse.Mounted mount(Path parent, Consumer<AgentFs.Builder> config) throws IOException {
    require();
    return Fuse.mount(parent, b -> config.accept(b.transport("jnr")));
  }

  static Fuse.Mounted mount(Path parent) throws IOException {
    return mount(parent, b -> { });
  }
}
