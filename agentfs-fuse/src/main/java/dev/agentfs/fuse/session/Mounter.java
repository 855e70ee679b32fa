package dev.agentfs.fuse.session;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.MountFlag;
import dev.agentfs.fuse.sys.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a new FUSE connection on a mount point by the requested {@link MountMethod}: mount(2)
 * on a /dev/fuse descriptor of our own, or {@code fusermount3}, which hands one back. Under
 * {@link MountMethod#AUTO} an EPERM from mount(2) (no CAP_SYS_ADMIN) moves on to the helper.
 * What the helper cannot do for a non-root user (allow_other without user_allow_other,
 * set-id files and devices) is refused before it runs, rather than mounted half-working.
 */
final class Mounter {
  private static final Logger LOG = LoggerFactory.getLogger(Mounter.class);
  static final String DEV_FUSE = "/dev/fuse";

  /**
   * A mounted connection: its /dev/fuse descriptor, how it was mounted, and the helper that
   * must unmount it again when it was mounted by one (a non-root process cannot umount2).
   */
  record Attached(int fd, MountMethod method, @Nullable Fusermount helper) {
    /** Unmounts {@code target} the way it was mounted: 0 or -errno (-EBUSY when in use). */
    int unmount(Syscalls sys, String target, boolean lazy) {
      if (helper != null) {
        return helper.unmount(target, lazy);
      }
      return sys.umount2(target, lazy ? Syscalls.MNT_DETACH : 0);
    }
  }

  /** The VFS flags fusermount3 (3.14, as libfuse2) turns into mount(2) flags. */
  private static final Set<MountFlag> FUSERMOUNT_FLAGS = Set.of(MountFlag.RDONLY,
      MountFlag.NOSUID, MountFlag.NODEV, MountFlag.NOEXEC, MountFlag.SYNCHRONOUS,
      MountFlag.NOATIME, MountFlag.DIRSYNC);

  private final Syscalls sys;
  private final Configuration config;
  private final MountMethod method;

  Mounter(Syscalls sys, Configuration config, MountMethod method) {
    this.sys = sys;
    this.config = config;
    this.method = method;
  }

  Attached attach(String target) throws AgentFsException {
    switch (method) {
      case SYSCALL: {
        Attached a = viaSyscall(target);
        if (a == null) {
          throw new AgentFsException(Errno.EPERM, target, null, "mount(2) was refused: mounting "
              + "in-process needs CAP_SYS_ADMIN; run as root, or let " + Fusermount.PROGRAM
              + " mount it (mount method auto or fusermount; package fuse3)");
        }
        return a;
      }
      case FUSERMOUNT: {
        Path helper = Fusermount.find();
        if (helper == null) {
          throw new AgentFsException(Errno.ENOENT, target, null, Fusermount.PROGRAM
              + " is not on PATH (" + Fusermount.searchPath() + "): install fuse3, which "
              + "provides it setuid root, or mount with mount(2) as root");
        }
        return viaHelper(target, new Fusermount(sys, helper));
      }
      default: {
        Attached a = viaSyscall(target);
        if (a != null) {
          return a;
        }
        Path helper = Fusermount.find();
        if (helper == null) {
          throw new AgentFsException(Errno.EPERM, target, null, "mount(2) was refused (it "
              + "needs CAP_SYS_ADMIN) and " + Fusermount.PROGRAM + " is not on PATH ("
              + Fusermount.searchPath() + "): install fuse3, whose setuid " + Fusermount.PROGRAM
              + " lets users mount, or run as root");
        }
        LOG.debug("mount(2) of {} refused; mounting through {}", target, helper);
        return viaHelper(target, new Fusermount(sys, helper));
      }
    }
  }

  /** mount(2) on a descriptor of our own; null when mount(2) says EPERM. */
  private @Nullable Attached viaSyscall(String target) throws AgentFsException {
    int fd = openDevice(sys);
    long flags = 0;
    for (MountFlag f : effectiveFlags(config)) {
      flags |= msFlag(f);
    }
    // The owner is the real uid, as fusermount3 records it: for root that is user_id=0.
    StringBuilder data = new StringBuilder("fd=").append(fd).append(",rootmode=40000")
        .append(",user_id=").append(Integer.toUnsignedString(sys.getuid()))
        .append(",group_id=").append(Integer.toUnsignedString(sys.getgid()));
    if (config.has(Feature.ALLOW_OTHER)) {
      data.append(",allow_other");
    }
    if (config.has(Feature.DEFAULT_PERMISSIONS)) {
      data.append(",default_permissions");
    }
    int r = sys.mount(config.fsName(), target, "fuse." + config.subtype(), flags,
        data.toString());
    if (r == 0) {
      return new Attached(fd, MountMethod.SYSCALL, null);
    }
    sys.close(fd);
    if (r == -Syscalls.EPERM) {
      return null;
    }
    throw new AgentFsException(Errno.of(-r), target, null, "mount(2) failed: "
        + sys.strerror(-r));
  }

  private Attached viaHelper(String target, Fusermount helper) throws AgentFsException {
    int uid = sys.getuid();
    if (uid != 0) {
      if (!helper.isSetuidRoot()) {
        throw new AgentFsException(Errno.EPERM, target, null, helper.program() + " is not "
            + "setuid root, so it cannot mount for uid " + uid + ": reinstall fuse3 (it "
            + "installs the helper setuid root) or run as root");
      }
      if (config.has(Feature.ALLOW_OTHER) && !Fusermount.userAllowOther()) {
        throw new AgentFsException(Errno.EPERM, target, null, "ALLOW_OTHER: "
            + Fusermount.PROGRAM + " lets a non-root user mount with allow_other only when "
            + "/etc/fuse.conf has a 'user_allow_other' line; add it, or leave ALLOW_OTHER off");
      }
      if (config.has(Feature.SUID_DEV)) {
        throw new AgentFsException(Errno.EPERM, target, null, "SUID_DEV: "
            + Fusermount.PROGRAM + " mounts a non-root user's filesystem nosuid,nodev; only "
            + "root can have set-id bits and device nodes take effect");
      }
    }
    Set<MountFlag> flags = effectiveFlags(config);
    // relatime is what the kernel does anyway when no atime flag is given.
    flags.remove(MountFlag.RELATIME);
    for (MountFlag f : flags) {
      if (!FUSERMOUNT_FLAGS.contains(f)) {
        throw new AgentFsException(Errno.EINVAL, target, null, Fusermount.PROGRAM + " knows "
            + "only the mount flags ro, nosuid, nodev, noexec, sync, noatime and dirsync, not "
            + f.option() + "; mount(2) can set it, which needs CAP_SYS_ADMIN");
      }
    }
    List<String> o = new ArrayList<>();
    o.add("fsname=" + config.fsName());
    o.add("subtype=" + config.subtype());
    for (MountFlag f : flags) {
      o.add(f.option());
    }
    // fusermount3 mounts nosuid,nodev unless told otherwise, even for root.
    if (!flags.contains(MountFlag.NOSUID)) {
      o.add("suid");
    }
    if (!flags.contains(MountFlag.NODEV)) {
      o.add("dev");
    }
    if (config.has(Feature.ALLOW_OTHER)) {
      o.add("allow_other");
    }
    if (config.has(Feature.DEFAULT_PERMISSIONS)) {
      o.add("default_permissions");
    }
    int fd = helper.mount(target, String.join(",", o));
    return new Attached(fd, MountMethod.FUSERMOUNT, helper);
  }

  /**
   * The VFS flags the mount gets: the configured ones, ro for {@link Feature#READ_ONLY}, and
   * nosuid,nodev unless {@link Feature#SUID_DEV} (which still lets either be asked for).
   */
  static Set<MountFlag> effectiveFlags(Configuration config) {
    EnumSet<MountFlag> f = EnumSet.noneOf(MountFlag.class);
    f.addAll(config.mountFlags());
    if (config.has(Feature.READ_ONLY)) {
      f.add(MountFlag.RDONLY);
    }
    if (!config.has(Feature.SUID_DEV)) {
      f.add(MountFlag.NOSUID);
      f.add(MountFlag.NODEV);
    }
    return f;
  }

  /** The mount(2) flag bit of {@code f}. */
  static long msFlag(MountFlag f) {
    return switch (f) {
      case RDONLY -> Syscalls.MS_RDONLY;
      case NOSUID -> Syscalls.MS_NOSUID;
      case NODEV -> Syscalls.MS_NODEV;
      case NOEXEC -> Syscalls.MS_NOEXEC;
      case SYNCHRONOUS -> Syscalls.MS_SYNCHRONOUS;
      case DIRSYNC -> Syscalls.MS_DIRSYNC;
      case NOATIME -> Syscalls.MS_NOATIME;
      case NODIRATIME -> Syscalls.MS_NODIRATIME;
      case RELATIME -> Syscalls.MS_RELATIME;
      case STRICTATIME -> Syscalls.MS_STRICTATIME;
      case LAZYTIME -> Syscalls.MS_LAZYTIME;
      case NOSYMFOLLOW -> Syscalls.MS_NOSYMFOLLOW;
    };
  }

  /** Opens /dev/fuse, saying what to do when it is missing or closed to us. */
  static int openDevice(Syscalls sys) throws AgentFsException {
    int fd = sys.open(DEV_FUSE, Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
    if (fd >= 0) {
      return fd;
    }
    if (fd == -Syscalls.ENOENT || fd == -Syscalls.ENODEV) {
      throw new AgentFsException(Errno.ENODEV, DEV_FUSE, null,
          "the FUSE device is missing: load the fuse module (modprobe fuse) or give the "
              + "container the device (--device /dev/fuse)");
    }
    if (fd == -Errno.EACCES.code() || fd == -Syscalls.EPERM) {
      throw new AgentFsException(Errno.of(-fd), DEV_FUSE, null, "cannot open the FUSE device: "
          + sys.strerror(-fd) + "; users can mount only when it is open to them (mode 0666, "
          + "as udev sets it on most systems), otherwise run as root");
    }
    throw new AgentFsException(Errno.of(-fd), DEV_FUSE, null,
        "cannot open the FUSE device: " + sys.strerror(-fd));
  }
}
