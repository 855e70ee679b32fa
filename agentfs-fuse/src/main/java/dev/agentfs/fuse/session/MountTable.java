package dev.agentfs.fuse.session;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * This process's view of the mount table (/proc/self/mountinfo): which paths are mount
 * points, of what filesystem type, and on which device. Used to refuse mounting over a FUSE
 * mount, to find the connection id for aborting, and to tell whether a mount is still there.
 *
 * @since 0.1
 */
public final class MountTable {
  /** One line of mountinfo. */
  public record Entry(int id, int major, int minor, Path mountPoint, String fsType,
      String source) {
    public boolean isFuse() {
      return fsType.equals("fuse") || fsType.startsWith("fuse.") || fsType.equals("fuseblk");
    }
  }

  private MountTable() {}

  public static List<Entry> read() {
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return List.of();
    }
    List<Entry> out = new ArrayList<>(lines.size());
    for (String line : lines) {
      Entry e = parse(line);
      if (e != null) {
        out.add(e);
      }
    }
    return out;
  }

  static @Nullable Entry parse(String line) {
    int sep = line.indexOf(" - ");
    if (sep < 0) {
      return null;
    }
    String[] left = line.substring(0, sep).split(" ");
    String[] right = line.substring(sep + 3).split(" ");
    if (left.length < 5 || right.length < 2) {
      return null;
    }
    String[] dev = left[2].split(":");
    try {
      return new Entry(Integer.parseInt(left[0]), Integer.parseInt(dev[0]),
          Integer.parseInt(dev[1]), Path.of(unescape(left[4])), right[0], unescape(right[1]));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        try {
          sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
          i += 3;
          continue;
        } catch (NumberFormatException e) {
          // not an escape; keep the backslash
        }
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /** The topmost mount at exactly {@code mountPoint}, or null when it is no mount point. */
  public static @Nullable Entry at(Path mountPoint) {
    Path p = mountPoint.toAbsolutePath().normalize();
    Entry found = null;
    for (Entry e : read()) {
      if (e.mountPoint().equals(p)) {
        found = e; // later lines are mounted on top of earlier ones
      }
    }
    return found;
  }

  /** True when the topmost mount at {@code mountPoint} is a FUSE filesystem. */
  public static boolean isFuseMountPoint(Path mountPoint) {
    Entry e = at(mountPoint);
    return e != null && e.isFuse();
  }
}
