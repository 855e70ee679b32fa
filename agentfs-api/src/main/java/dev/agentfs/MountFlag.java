package dev.agentfs;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Generic VFS mount flags a mount passes to the kernel as they are (the MS_* flags of
 * mount(2)), as opposed to {@link Feature}s, which the filesystem itself implements. The kernel
 * enforces them and {@code mount -o remount} can change them on a live mount without the
 * filesystem being told. {@link #RDONLY} in particular is the kernel's read-only flag: unlike
 * {@link Feature#READ_ONLY}, under which the filesystem itself refuses every change for good,
 * a {@code remount,rw} lifts it.
 *
 * <p>{@link #NOSUID} and {@link #NODEV} are applied anyway unless {@link Feature#SUID_DEV} is
 * on; with it they select one of the two ({@code suid,nodev}).
 *
 * @since 0.1
 */
public enum MountFlag {
  /** ro: the kernel refuses every change with EROFS; {@code remount,rw} lifts it. */
  RDONLY("ro"),
  /** nosuid: set-user-ID and set-group-ID bits do not take effect on exec. */
  NOSUID("nosuid"),
  /** nodev: device nodes cannot be opened. */
  NODEV("nodev"),
  /** noexec: no program on the mount can be executed. */
  NOEXEC("noexec"),
  /** sync: writes are synchronous. */
  SYNCHRONOUS("sync"),
  /** dirsync: directory changes are synchronous. */
  DIRSYNC("dirsync"),
  /** noatime: access times are never updated. */
  NOATIME("noatime"),
  /** nodiratime: directory access times are never updated. */
  NODIRATIME("nodiratime"),
  /** relatime: access times are updated only when older than mtime/ctime or a day (the default). */
  RELATIME("relatime"),
  /** strictatime: access times are updated on every access. */
  STRICTATIME("strictatime"),
  /** lazytime: timestamp updates are kept in memory and written back lazily. */
  LAZYTIME("lazytime"),
  /** nosymfollow: symbolic links are not followed when paths are resolved (Linux 5.10+). */
  NOSYMFOLLOW("nosymfollow");

  private final String option;

  MountFlag(String option) {
    this.option = option;
  }

  /** The name mount(8) and /proc/mounts use for this flag, e.g. {@code noatime}. */
  public String option() {
    return option;
  }

  /** The flag mount(8) calls {@code name} (case-insensitive), or null for no such flag. */
  public static @Nullable MountFlag ofOption(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (MountFlag f : values()) {
      if (f.option.equals(n)) {
        return f;
      }
    }
    return null;
  }
}
