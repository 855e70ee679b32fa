package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.fuse.session.Fusermount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * Test support for mounts made through fusermount3: the helper gate, the mount table as
 * /proc/self/mounts shows it (with the options the helper passed), and what running a child
 * JVM as another user needs (a class path that user can read, an account with a name).
 */
final class FusermountSupport {
  private FusermountSupport() {}

  private static boolean ci() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  private static void skipOrFail(String why) {
    if (ci()) {
      fail("CI=true but " + why);
    }
    Assumptions.abort("skipped: " + why);
  }

  /** fusermount3 on PATH and setuid root (package fuse3, installed by scripts/setup.sh). */
  static Path requireHelper() {
    Path p = Fusermount.find();
    if (p == null) {
      skipOrFail("fusermount3 is not on PATH (install fuse3; scripts/setup.sh does)");
      throw new AssertionError();
    }
    try {
      int mode = (Integer) Files.getAttribute(p, "unix:mode");
      int uid = (Integer) Files.getAttribute(p, "unix:uid");
      if (uid != 0 || (mode & 04000) == 0) {
        skipOrFail(p + " is not setuid root");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  /** Switching users needs root and setpriv. */
  static void requireRootAndSetpriv() {
    if (!"root".equals(System.getProperty("user.name"))) {
      skipOrFail("running a child as another user needs root");
    }
    if (!Proc.has("setpriv")) {
      skipOrFail("setpriv (util-linux) is missing");
    }
  }

  /** The line of /proc/self/mounts whose mount point is {@code dir}, or null. */
  static @Nullable String procMount(Path dir) throws IOException {
    String at = dir.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] f = line.split(" ");
      if (f.length > 3 && f[1].equals(at)) {
        return line;
      }
    }
    return null;
  }

  /** A user account: fusermount3 refuses uids without a name ("could not determine username"). */
  record User(String name, int uid, int gid) {}

  /** The account {@code name} from the user database, or null. */
  static @Nullable User user(String name) throws IOException, InterruptedException {
    Proc.Result r = Proc.run(Path.of("/"), List.of("getent", "passwd", name));
    if (r.exit() != 0) {
      return null;
    }
    String[] f = r.out().strip().split(":");
    return new User(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]));
  }

  /**
   * Copies this JVM's class path (jars and class directories) under {@code into}, readable by
   * everyone: the originals live under /root, which other users cannot enter. Returns the new
   * class path.
   */
  static String copyClassPath(Path into) throws IOException {
    List<String> out = new ArrayList<>();
    int i = 0;
    for (String e : System.getProperty("java.class.path").split(":")) {
      Path src = Path.of(e);
      if (!Files.exists(src)) {
        continue;
      }
      Path dst = into.resolve(i++ + "-" + src.getFileName());
      if (Files.isDirectory(src)) {
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
      } else {
        Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
      }
      out.add(dst.toString());
    }
    openUp(into);
    return String.join(":", out);
  }

  /** chmod a+rX over a tree. */
  static void openUp(Path root) throws IOException {
    try (Stream<Path> tree = Files.walk(root)) {
      for (Path p : (Iterable<Path>) tree::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
            Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
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
