package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code install-helper}: puts the mount(8) helper {@code mount.fuse.agentfs} into /sbin (or
 * {@code --dir}), so that {@code mount -t fuse.agentfs} and fstab lines work. The helper is
 * scripts/mount.fuse.agentfs, shipped inside the jar, with the java binary and class path of
 * this very run written into it: mount(8) runs helpers with a bare PATH, so the helper must
 * not have to find either. {@code --uninstall} removes it again, but only a helper that this
 * command wrote: any other file of that name is left alone (EEXIST).
 */
final class HelperCommand {
  static final String NAME = "mount.fuse.agentfs";
  /** A line only our helper has; how an existing file is recognised as ours. */
  static final String MARKER = "# mount.fuse.agentfs: the mount(8) helper for AgentFS";
  private static final String RESOURCE = NAME;

  private HelperCommand() {}

  static void run(List<String> args, PrintStream out) throws UsageException, AgentFsException {
    Path dir = Path.of("/sbin");
    boolean uninstall = false;
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--dir" -> {
          if (++i >= args.size()) {
            throw new UsageException("--dir needs a value");
          }
          dir = Path.of(args.get(i));
        }
        case "--uninstall" -> uninstall = true;
        default -> throw new UsageException("unexpected argument '" + args.get(i) + "'");
      }
    }
    Path target = dir.resolve(NAME).toAbsolutePath();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !isOurs(target)) {
      throw new AgentFsException(Errno.EEXIST, target.toString(), null,
          "a file of that name that is not AgentFS's helper is there; remove it yourself");
    }
    try {
      if (uninstall) {
        boolean removed = Files.deleteIfExists(target);
        out.println(Json.event(removed ? "uninstalled" : "not-installed")
            .put("path", target.toString()));
        return;
      }
      String script = script(javaBinary(), classPath());
      Path tmp = Files.createTempFile(dir, "." + NAME, ".tmp");
      try {
        Files.writeString(tmp, script, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new AgentFsException(errno(e), target.toString(), e);
    }
    out.println(Json.event("installed").put("path", target.toString()));
  }

  /** The helper script with {@code java} and {@code classPath} filled in. */
  static String script(String java, String classPath) throws AgentFsException {
    String s;
    try (InputStream in = HelperCommand.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new AgentFsException(Errno.ENOENT, RESOURCE, null,
            "the helper script is missing from the class path (build the examples module)");
      }
      s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, RESOURCE, e);
    }
    String javaLine = "default_java=''";
    String cpLine = "default_classpath=''";
    if (!s.contains(javaLine) || !s.contains(cpLine)) {
      throw new AgentFsException(Errno.EIO, RESOURCE, null, "the helper script has no "
          + "default_java/default_classpath lines to fill in");
    }
    return s.replace(javaLine, "default_java=" + quote(java))
        .replace(cpLine, "default_classpath=" + quote(classPath));
  }

  private static boolean isOurs(Path p) {
    try {
      return Files.readAllLines(p, StandardCharsets.UTF_8).stream()
          .anyMatch(l -> l.startsWith(MARKER));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** This JVM's class path with every entry made absolute (the jar, or a build's classes). */
  private static String classPath() {
    List<String> out = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!e.isEmpty()) {
        out.add(Path.of(e).toAbsolutePath().normalize().toString());
      }
    }
    return String.join(File.pathSeparator, out);
  }

  /** Single-quoted for sh: nothing inside is expanded. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static Errno errno(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return Errno.EACCES;
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return Errno.ENOENT;
    }
    return Errno.EIO;
  }
}
