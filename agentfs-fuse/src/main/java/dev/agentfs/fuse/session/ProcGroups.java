package dev.agentfs.fuse.session;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a process's supplementary groups from the "Groups:" line of /proc/PID/status. A FUSE
 * request carries only pid, uid and gid, so group membership is looked up lazily, when a
 * permission check needs it. A process that is gone has no groups.
 */
final class ProcGroups {
  private static final int[] NONE = new int[0];

  private ProcGroups() {}

  static int[] load(int pid) {
    if (pid <= 0) {
      return NONE;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"),
          StandardCharsets.ISO_8859_1);
    } catch (IOException | RuntimeException e) {
      return NONE;
    }
    for (String line : lines) {
      if (line.startsWith("Groups:")) {
        return parse(line.substring("Groups:".length()));
      }
    }
    return NONE;
  }

  static int[] parse(String list) {
    String t = list.trim();
    if (t.isEmpty()) {
      return NONE;
    }
    return Arrays.stream(t.split("\\s+")).mapToInt(s -> (int) Long.parseLong(s)).toArray();
  }
}
