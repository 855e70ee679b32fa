package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.fuse.KernelMounts;
import java.nio.file.Path;

/** Mount-point housekeeping the CLI needs from the kernel transport. */
final class Transports {
  private Transports() {}

  /** Detaches a dead mount a killed process left at {@code mountPoint}, if there is one. */
  static boolean cleanStale(Path mountPoint) throws AgentFsException {
    return KernelMounts.unmountStale(mountPoint);
  }

  static void unmount(Path mountPoint) throws AgentFsException {
    if (!KernelMounts.unmount(mountPoint)) {
      throw new AgentFsException(Errno.EINVAL, mountPoint.toString(), null,
          "not a FUSE mount point");
    }
  }
}
