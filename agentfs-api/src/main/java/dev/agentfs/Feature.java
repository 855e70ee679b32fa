package dev.agentfs;

/**
 * Optional behaviours of a filesystem instance, switched on as a set in {@link Configuration}
 * rather than as scattered booleans.
 *
 * @since 0.1
 */
public enum Feature {
  /** Root (uid 0) passes every permission check but execute-without-any-x, as Linux does. */
  ROOT_BYPASS,
  /** The kernel caches writes and sends them in large batches (not with passthrough). */
  WRITEBACK_CACHE,
  /** Processes of other users may use the mount (FUSE allow_other). */
  ALLOW_OTHER,
  /**
   * The kernel checks mode bits itself before calling the filesystem (on by default). Without
   * it the kernel skips search-permission checks on paths it has cached, so only the
   * filesystem's own checks on uncached lookups stand: fine for single-user mounts only.
   */
  DEFAULT_PERMISSIONS,
  /** Mounted read-only: every change fails with EROFS. */
  READ_ONLY,
  /** Names must be valid UTF-8; others fail with EILSEQ. Off: names are POSIX bytes. */
  STRICT_UTF8_NAMES,
  /** setuid/setgid bits and device nodes take effect on the mount (off: nosuid,nodev). */
  SUID_DEV,
  /**
   * Serve requests over FUSE-over-io_uring (Linux 6.14+, root): one queue per CPU, so a
   * request is answered on the core that made it. Where the kernel does not offer it the
   * mount serves /dev/fuse as usual and its granted features lack OVER_IO_URING.
   */
  IO_URING,
  /**
   * Confined symlinks: creating a symlink whose target is absolute, or whose {@code ..}
   * components climb above the filesystem root when read from the link's own directory
   * ({@code a/../../x} at the root, {@code ./..}, {@code //etc}), fails with EPERM, through
   * the mount and the Java API alike. Off by default: POSIX lets a link name anything. The
   * check is lexical and made when the link is created, so it keeps a tool from planting
   * links that lead out of the tree, but it is not a sandbox: a link later moved to a
   * shallower directory, or a path that climbs through a link to a directory elsewhere
   * ({@code a/..} where {@code a} is itself a link), can still leave it, and links that
   * already exist (an overlay's lower tree, a restored store) are not checked.
   */
  CONFINED_SYMLINKS
}
