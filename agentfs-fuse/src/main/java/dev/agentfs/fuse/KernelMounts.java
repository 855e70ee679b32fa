package dev.agentfs.fuse;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.Fusermount;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.fuse.session.MountTable;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.vfs.Vfs;
import java.nio.file.Path;

/**
 * Static entry points of the direct kernel transport for code that wants more than the
 * {@link KernelTransportProvider} offers: mounting with {@link MountOptions}, and cleaning up
 * mounts (including the dead "Transport endpoint is not connected" kind a killed process
 * leaves behind) from a CLI or a test harness.
 *
 * <pre>{@code
 * try (FuseSession m = KernelMounts.mount(vfs, Path.of("/mnt/agent"), Configuration.defaults(),
 *     MountOptions.defaults().withCleanStale(true))) {
 *   // processes now see vfs at /mnt/agent
 * }
 * }</pre>
 *
 * @since 0.1
 */
public final class KernelMounts {
  private KernelMounts() {}

  public static FuseSession mount(Vfs vfs, Path mountPoint, Configuration config)
      throws AgentFsException {
    return mount(vfs, mountPoint, config, MountOptions.defaults());
  }

  public static FuseSession mount(Vfs vfs, Path mountPoint, Configuration config,
      MountOptions options) throws AgentFsException {
    return FuseSession.mount(vfs, mountPoint, config, options, JnrSyscalls.get());
  }

  /** True when the mount point is a FUSE mount whose server is gone (statfs gives ENOTCONN). */
  public static boolean isStale(Path mountPoint) {
    Syscalls sys = JnrSyscalls.get();
    int r = sys.statfs(mountPoint.toAbsolutePath().normalize().toString());
    return r == -Syscalls.ENOTCONN || r == -Syscalls.ECONNABORTED;
  }

  /**
   * Detaches a dead FUSE mount at {@code mountPoint}; returns true when there was one. A live
   * mount is left alone.
   */
  public static boolean unmountStale(Path mountPoint) throws AgentFsException {
    if (!isStale(mountPoint)) {
      return false;
    }
    String p = mountPoint.toAbsolutePath().normalize().toString();
    Syscalls sys = JnrSyscalls.get();
    int r = Fusermount.unmountWithFallback(sys, p, true);
    if (r < 0) {
      throw new AgentFsException(Errno.of(-r), p, null, "detaching the stale mount failed: "
          + sys.strerror(-r));
    }
    return true;
  }

  /**
   * Unmounts the FUSE mount at {@code mountPoint} (of this or another process), detaching it
   * lazily when busy, through fusermount3 where umount2 is refused (a user's own mount);
   * returns false when no FUSE mount is there.
   */
  public static boolean unmount(Path mountPoint) throws AgentFsException {
    Path mp = mountPoint.toAbsolutePath().normalize();
    if (!MountTable.isFuseMountPoint(mp)) {
      return false;
    }
    Syscalls sys = JnrSyscalls.get();
    int r = Fusermount.unmountWithFallback(sys, mp.toString(), false);
    if (r == -Syscalls.EBUSY) {
      r = Fusermount.unmountWithFallback(sys, mp.toString(), true);
    }
    if (r < 0) {
      throw new AgentFsException(Errno.of(-r), mp.toString(), null,
          "unmount failed: " + sys.strerror(-r));
    }
    return true;
  }
}
