package dev.agentfs.fuse.session;

import java.util.Locale;

/**
 * How the kernel transport attaches a FUSE connection to the mount point. mount(2) in-process
 * needs CAP_SYS_ADMIN; without it, the setuid {@code fusermount3} helper of the fuse3 package
 * opens /dev/fuse, mounts on the caller's behalf (recording the caller's uid as the owner) and
 * passes the descriptor back over a socket, exactly as libfuse does. {@link #AUTO} tries
 * mount(2) and falls back to the helper when mount(2) is refused; the other two force one way,
 * so that the helper path can also be used (and tested) as root.
 *
 * @since 0.1
 */
public enum MountMethod {
  /** mount(2) when it is allowed, otherwise {@code fusermount3} when it is on PATH. */
  AUTO,
  /** mount(2) only: needs CAP_SYS_ADMIN (root, or a user namespace that owns the mount). */
  SYSCALL,
  /** {@code fusermount3} only, found on PATH; unmounting also goes through it. */
  FUSERMOUNT;

  /** Parses {@code auto}, {@code syscall} or {@code fusermount}, in any case. */
  public static MountMethod parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "mount method is auto, syscall or fusermount, not '" + name + "'", e);
    }
  }
}
