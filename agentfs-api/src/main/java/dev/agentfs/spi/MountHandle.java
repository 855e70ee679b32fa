package dev.agentfs.spi;

import java.nio.file.Path;
import java.util.Set;

/**
 * A live mount made by a {@link TransportProvider}. {@link #close()} unmounts, waits for the
 * workers to finish, and may be called any number of times. The invalidation methods tell the
 * kernel to drop what it cached about a node or directory entry that changed behind its back.
 *
 * @since 0.1
 */
public interface MountHandle extends AutoCloseable {
  Path mountPoint();

  /** Kernel features granted at INIT, by name (e.g. "PASSTHROUGH", "WRITEBACK_CACHE"). */
  Set<String> grantedFeatures();

  /** False once the kernel connection ended (external unmount, aborted connection). */
  boolean isAlive();

  void invalidateInode(long ino);

  void invalidateEntry(long parent, byte[] name);

  @Override
  void close();
}
