package dev.agentfs.it;

import dev.agentfs.AgentFs;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;

/**
 * The mount suites of the kernel transport, run again on the jnr-fuse (libfuse2) transport.
 * A test that libfuse2's high-level API cannot pass is disabled here with the reason; the
 * kernel transport runs it in the base class.
 */
class JnrMountSuitesTest {
  private static void jnr(AgentFs.Builder b) {
    b.transport("jnr");
  }

  @Nested
  class Nio extends MountNioTest {
    @Override
    void configure(AgentFs.Builder b) {
      jnr(b);
    }
  }

  @Nested
  class Tools extends MountToolsTest {
    @Override
    void configure(AgentFs.Builder b) {
      jnr(b);
    }

    @Override
    @Disabled("libfuse2 speaks a protocol without FUSE_TMPFILE: O_TMPFILE is EOPNOTSUPP")
    void pythonOsLevelCalls() {}
  }

  @Nested
  class Errno extends MountErrnoTest {
    @Override
    void configure(AgentFs.Builder b) {
      jnr(b);
    }
  }
}
