package dev.agentfs.fuse;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.spi.TransportProvider;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The "kernel" transport: speaks the FUSE protocol on /dev/fuse directly from Java and mounts
 * with mount(2) in-process, with no libfuse and no fusermount. That needs Linux, the FUSE
 * device and CAP_SYS_ADMIN; {@link #unavailableReason()} says which is missing. The system
 * property {@code agentfs.fuse.cleanStale=true} makes mounts detach a dead mount left at the
 * mount point first.
 *
 * @since 0.1
 */
public final class KernelTransportProvider implements TransportProvider {
  /** CAP_SYS_ADMIN, the capability mount(2) checks. */
  private static final int CAP_SYS_ADMIN = 21;

  @Override
  public String name() {
    return "kernel";
  }

  @Override
  public @Nullable String unavailableReason() {
    if (!System.getProperty("os.name", "").equals("Linux")) {
      return "the kernel transport needs Linux";
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      return "/dev/fuse is missing (modprobe fuse, or run the container with --device /dev/fuse)";
    }
    if (!hasCapSysAdmin()) {
      return "mount(2) needs CAP_SYS_ADMIN; run as root or use the jnr transport";
    }
    return null;
  }

  @Override
  public MountHandle mount(Vfs vfs, Path mountPoint, Configuration config)
      throws AgentFsException {
    MountOptions o = MountOptions.defaults()
        .withCleanStale(Boolean.getBoolean("agentfs.fuse.cleanStale"));
    return KernelMounts.mount(vfs, mountPoint, config, o);
  }

  static boolean hasCapSysAdmin() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
          return (caps & (1L << CAP_SYS_ADMIN)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return true; // cannot tell; let mount(2) give the real answer
    }
    return true;
  }
}
