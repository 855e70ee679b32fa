package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.vfs.Vfs;
import java.nio.file.Path;

/**
 * Connects a {@link Vfs} to the operating system at a mount point. Transports (the direct
 * /dev/fuse kernel protocol, jnr-fuse) register with {@link java.util.ServiceLoader}; the
 * builder picks one by {@link Configuration#transport()}.
 *
 * @since 0.1
 */
public interface TransportProvider {
  /** The name users select it by, e.g. "kernel" or "jnr". */
  String name();

  /** Why this transport cannot run here, or null when it can. */
  default @org.jspecify.annotations.Nullable String unavailableReason() {
    return null;
  }

  /** Mounts {@code vfs}; returns when the kernel is ready to send requests. */
  MountHandle mount(Vfs vfs, Path mountPoint, Configuration config) throws AgentFsException;
}
