package dev.agentfs;

/**
 * Whether opened files are handed to the kernel for FUSE passthrough I/O.
 *
 * @since 0.1
 */
public enum Passthrough {
  /** All reads and writes travel through the filesystem. */
  OFF,
  /** Use passthrough where the kernel and backstore allow it; otherwise fall back quietly. */
  PREFERRED,
  /** Mounting fails unless passthrough can engage. */
  REQUIRED
}
