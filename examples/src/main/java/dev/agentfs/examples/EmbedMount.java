package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.spi.MountHandle;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

/**
 * Embed a mount in an application: the app writes through the Java API, mounts the filesystem
 * in-process at a directory, and an ordinary program ({@code sh}) reads and writes it there.
 * Closing the {@link AgentFs} unmounts. Needs /dev/fuse and root.
 *
 * <pre>java -cp agentfs.jar dev.agentfs.examples.EmbedMount</pre>
 */
public final class EmbedMount {
  private EmbedMount() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("agentfs-embed-");
    try (AgentFs fs = AgentFs.builder().build()) {           // in memory
      fs.main().write("/hello.txt", "hello from Java\n");
      MountHandle mount = fs.mount(dir);                      // returns once the kernel answers
      out.println("mounted at " + mount.mountPoint()
          + " with " + new TreeSet<>(mount.grantedFeatures()));

      String shOut = sh(dir, "cat hello.txt && echo 'written by sh' > from-sh.txt && ls");
      out.print("sh says:\n" + shOut.indent(2));
      out.println("java reads from-sh.txt: " + fs.main().readString("/from-sh.txt").strip());
    }                                                         // close() unmounts
    out.println("unmounted; " + dir + " is empty again: " + isEmpty(dir));
    Files.delete(dir);
  }

  private static String sh(Path cwd, String script) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", script).directory(cwd.toFile())
        .redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("sh failed: " + text);
    }
    return text;
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }
}
