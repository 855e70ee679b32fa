package dev.agentfs.fuse;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.session.Capabilities;
import dev.agentfs.fuse.session.Fusermount;
import dev.agentfs.fuse.session.MountMethod;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.spi.TransportProvider;
import dev.agentfs.vfs.Vfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The "kernel" transport: speaks the FUSE protocol on /dev/fuse directly from Java, with no
 * libfuse. It mounts with mount(2) in-process when it may (CAP_SYS_ADMIN), and otherwise
 * through the setuid {@code fusermount3} helper of the fuse3 package, as libfuse does. That
 * needs Linux, the FUSE device and one of the two ways to mount; {@link #unavailableReason()}
 * says which is missing. System properties: {@code agentfs.fuse.cleanStale=true} makes mounts
 * detach a dead mount left at the mount point first; {@code
 * agentfs.fuse.mountMethod=auto|syscall|fusermount} forces a {@link MountMethod}; {@code
 * agentfs.fuse.hideInitFlags=DO_READDIRPLUS,POSIX_LOCKS} (names of {@link InitFlag}) mounts as
 * if the kernel had not offered those capabilities, to test how the filesystem degrades.
 *
 * @since 0.1
 */
public final class KernelTransportProvider implements TransportProvider {
  /** The system property that forces a {@link MountMethod}. */
  public static final String MOUNT_METHOD_PROPERTY = "agentfs.fuse.mountMethod";
  /** The system property naming INIT capabilities to hide from negotiation. */
  public static final String HIDE_INIT_FLAGS_PROPERTY = "agentfs.fuse.hideInitFlags";

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
    MountMethod m;
    try {
      m = method();
    } catch (IllegalArgumentException e) {
      return MOUNT_METHOD_PROPERTY + ": " + e.getMessage();
    }
    boolean syscall = m != MountMethod.FUSERMOUNT && Capabilities.sysAdmin();
    boolean helper = m != MountMethod.SYSCALL && Fusermount.find() != null;
    if (syscall || helper) {
      return null;
    }
    if (m == MountMethod.SYSCALL) {
      return "mount(2) needs CAP_SYS_ADMIN and the mount method is forced to syscall; run as "
          + "root or allow " + Fusermount.PROGRAM;
    }
    return (m == MountMethod.AUTO ? "mount(2) needs CAP_SYS_ADMIN, and " : "")
        + Fusermount.PROGRAM + " is not on PATH: install fuse3 (its setuid "
        + Fusermount.PROGRAM + " lets users mount) or run as root";
  }

  private static MountMethod method() {
    String m = System.getProperty(MOUNT_METHOD_PROPERTY);
    return m == null || m.isBlank() ? MountMethod.AUTO : MountMethod.parse(m);
  }

  @Override
  public MountHandle mount(Vfs vfs, Path mountPoint, Configuration config)
      throws AgentFsException {
    MountOptions o = MountOptions.defaults()
        .withCleanStale(Boolean.getBoolean("agentfs.fuse.cleanStale"))
        .withMethod(method())
        .withHiddenInitFlags(hiddenInitFlags(mountPoint));
    return KernelMounts.mount(vfs, mountPoint, config, o);
  }

  private static InitFlag[] hiddenInitFlags(Path mountPoint) throws AgentFsException {
    String v = System.getProperty(HIDE_INIT_FLAGS_PROPERTY, "");
    List<InitFlag> out = new ArrayList<>();
    for (String name : v.split(",")) {
      if (name.isBlank()) {
        continue;
      }
      try {
        out.add(InitFlag.valueOf(name.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new AgentFsException(Errno.EINVAL, mountPoint.toString(), null,
            HIDE_INIT_FLAGS_PROPERTY + ": no FUSE_INIT capability '" + name.trim() + "'");
      }
    }
    return out.toArray(new InitFlag[0]);
  }
}
