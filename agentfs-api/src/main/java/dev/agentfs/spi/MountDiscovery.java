package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import dev.agentfs.MountInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds the AgentFS mounts of this machine and cleans up dead ones. It needs the operating
 * system (the mount table, statfs, the control file's ioctl), so agentfs-api only declares
 * it; agentfs-fuse registers the implementation with {@link java.util.ServiceLoader}, and
 * {@link dev.agentfs.Mounts} uses the first one found.
 *
 * @since 0.1
 */
public interface MountDiscovery {
  /**
   * Every AgentFS mount in this process's mount namespace, in mount-table order, each
   * probed once; a server that does not answer within the probe timeout is
   * {@link MountInfo.Health#UNREACHABLE}, never waited for longer.
   */
  List<MountInfo> list() throws AgentFsException;

  /**
   * Detaches the AgentFS mount at {@code mountPoint} if, checked again now, its server is
   * gone (ENOTCONN); returns whether it did. A live mount is never touched.
   */
  boolean unmountStale(Path mountPoint) throws AgentFsException;
}
