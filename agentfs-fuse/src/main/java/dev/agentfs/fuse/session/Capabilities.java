package dev.agentfs.fuse.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one capability question the kernel transport asks of its own process: does it hold
 * CAP_SYS_ADMIN (mount(2) and registering passthrough backing files need it)? Read from
 * /proc/self/status rather than guessed from the uid, so a root without the capability (a
 * restricted container) and a capable non-root are both told right.
 *
 * @since 0.1
 */
public final class Capabilities {
  private static final int CAP_SYS_ADMIN = 21;

  private Capabilities() {}

  /** True when this process's effective set has CAP_SYS_ADMIN (or when it cannot be told). */
  public static boolean sysAdmin() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
          return (caps & (1L << CAP_SYS_ADMIN)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return true; // cannot tell; let the kernel give the real answer
    }
    return true;
  }
}
