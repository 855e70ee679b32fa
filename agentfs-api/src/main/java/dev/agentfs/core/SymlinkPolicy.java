package dev.agentfs.core;

/**
 * The rule of {@link dev.agentfs.Feature#CONFINED_SYMLINKS}: a symlink target may not be
 * absolute and may not climb above the filesystem root when read from the link's own
 * directory. The target is judged on its text alone, because it may dangle or name things made
 * later: each {@code ..} takes one level off the depth of the link's directory, each other
 * name adds one, and {@code .} and empty components (from {@code //}) change nothing, so a
 * target may go up and come back down as long as it never passes above the root on the way.
 */
final class SymlinkPolicy {
  private SymlinkPolicy() {}

  /**
   * True when {@code target}, read from a directory {@code depth} levels below the root, is
   * absolute or passes above the root at some component.
   */
  static boolean escapes(byte[] target, int depth) {
    if (target.length > 0 && target[0] == '/') {
      return true;
    }
    int d = depth;
    int i = 0;
    while (i < target.length) {
      int j = i;
      while (j < target.length && target[j] != '/') {
        j++;
      }
      int len = j - i;
      if (len == 2 && target[i] == '.' && target[i + 1] == '.') {
        if (--d < 0) {
          return true;
        }
      } else if (len > 1 || (len == 1 && target[i] != '.')) {
        d++;
      }
      i = j + 1;
    }
    return false;
  }
}
