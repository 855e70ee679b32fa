package dev.agentfs.fuse.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MaxPagesLimitTest {
  /** Regression: reading the sysctl byte by byte gave 2 for 256, capping max_write at 8 KiB. */
  @Test
  void readsTheWholeSysctlValue() throws Exception {
    Path p = Path.of("/proc/sys/fs/fuse/max_pages_limit");
    assumeTrue(Files.exists(p), "no " + p);
    int expected = Integer.parseInt(Files.readAllLines(p).get(0).trim());
    assertEquals(expected, FuseSession.maxPagesLimit());
  }
}
