package dev.agentfs.vfs;

/**
 * Told when the core changes a node or a directory entry, so a mount can invalidate what the
 * kernel cached and watchers can react. Called after the change is visible, on the thread that
 * made it: implementations must return quickly and must not call back into the filesystem.
 *
 * @since 0.1
 */
public interface ChangeListener {
  /** Attributes or contents of {@code ino} changed. */
  void inodeChanged(long ino);

  /** The entry {@code name} in directory {@code parent} was added, removed or replaced. */
  void entryChanged(long parent, byte[] name);

  /** {@link #inodeChanged(long)} in branch {@code branch}; override to tell branches apart. */
  default void inodeChanged(String branch, long ino) {
    inodeChanged(ino);
  }

  /** {@link #entryChanged(long, byte[])} in branch {@code branch}. */
  default void entryChanged(String branch, long parent, byte[] name) {
    entryChanged(parent, name);
  }
}
