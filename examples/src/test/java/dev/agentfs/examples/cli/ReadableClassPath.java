package dev.agentfs.examples.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * This JVM's class path copied where every user can read it, for child JVMs run as another
 * user: the originals live under /root (or a home directory) that such a user cannot enter.
 */
final class ReadableClassPath {
  private ReadableClassPath() {}

  /** Copies the class path under {@code into} (made a+rX) and returns the new class path. */
  static String copy(Path into) throws IOException {
    List<String> out = new ArrayList<>();
    int i = 0;
    for (String e : System.getProperty("java.class.path").split(":")) {
      Path src = Path.of(e);
      if (!Files.exists(src)) {
        continue;
      }
      Path dst = into.resolve(i++ + "-" + src.getFileName());
      try (Stream<Path> tree = Files.walk(src)) {
        for (Path p : (Iterable<Path>) tree::iterator) {
          Path d = dst.resolve(src.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(d);
          } else {
            Files.copy(p, d, StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
      out.add(dst.toString());
    }
    try (Stream<Path> tree = Files.walk(into)) {
      for (Path p : (Iterable<Path>) tree::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
            Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return String.join(":", out);
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(root)) {
      for (Path p : (Iterable<Path>) tree.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
