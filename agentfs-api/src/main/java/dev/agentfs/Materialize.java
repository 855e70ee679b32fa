package dev.agentfs;

/**
 * When an overlay's lower files become the branch's own bytes. {@link #LAZY} shares the lower
 * until a file is first written, so opening a huge workspace costs nothing; {@link #EAGER} and
 * {@link #CLONE} copy the whole lower into the backstore when the overlay is built, so the
 * branch never depends on the lower again (it may change or disappear), at the price of a
 * full copy (or, with reflinks, a full walk).
 *
 * @since 0.1
 */
public enum Materialize {
  /** Copy a file up on its first data change; untouched files are read from the lower. */
  LAZY,
  /** Copy every lower file into the backstore when the overlay is built. */
  EAGER,
  /**
   * Like {@link #EAGER}, but every copy is a reflink (FICLONE) sharing the lower file's
   * extents: needs a backstore with host files (HostFs) on the lower's filesystem, and a
   * filesystem with reflinks (XFS with reflink=1, btrfs). Refused with ENOTSUP (EOPNOTSUPP)
   * or EXDEV naming the file where that cannot be, before anything is copied.
   */
  CLONE
}
