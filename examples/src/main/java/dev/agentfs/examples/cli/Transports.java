package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.file.Path;

/** Mount-point housekeeping the CLI needs from the kernel transport. */
final class Transports {
  private Transports() {}

  static void cleanStale(Path mountPoint) {}

  static void unmount(Path mountPoint) throws AgentFsException {
    throw new AgentFsException(Errno.ENOSYS, mountPoint.toString(), null,
        "the kernel transport is not built yet");
  }
}
