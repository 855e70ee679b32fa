package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.MountTable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree of many files created, stat'ed, listed, read and deleted through a HostFs mount and
 * through an overlay mount whose lower holds as many files again, while the server JVM runs
 * under {@code ulimit -n 1024}: a server that kept a descriptor per file (as libfuse's
 * passthrough_hp does) fails with EMFILE long before the end. The server is a child JVM
 * ({@link ScaleMountChild}) started by {@code sh -c 'ulimit -n 1024; exec java ...'}; python
 * processes ({@code scale_tree.py}) drive the tree and check every stat and every byte.
 *
 * <p>{@code -Dagentfs.scale.files=N} sets the count (default 10,000: ten times the limit and
 * forty times the HostFs descriptor cache, in about a minute; 1,000,000 was run by hand, see
 * docs/testing.md), {@code -Dagentfs.scale.heap} the child's heap (default 1g). Timings per
 * phase are printed.
 */
class MountScaleTest {
  private static final int FILES = Integer.getInteger("agentfs.scale.files", 10_000);
  private static final int PER_DIR = 1000;
  private static final String HEAP = System.getProperty("agentfs.scale.heap", "1g");
  private static final int LIMIT = 1024;
  /** The store's content descriptors (256) plus the JVM's own and the FUSE connection's. */
  private static final int BOUND = 400;

  private static Path script;
  private static final List<String> REPORT = new ArrayList<>();

  @TempDir Path tmp;

  @BeforeAll
  static void copyScript(@TempDir Path dir) throws IOException {
    Fuse.require();
    Proc.requireTool("python3", "python3");
    script = dir.resolve("scale_tree.py");
    try (InputStream in = MountScaleTest.class.getResourceAsStream("scale_tree.py")) {
      assertNotNull(in, "scale_tree.py is missing from the test class path");
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @AfterAll
  static void report() {
    System.out.println("MountScaleTest, " + FILES + " files, server under ulimit -n " + LIMIT);
    REPORT.forEach(System.out::println);
  }

  @Test
  void hostFsTreeUnderAThousandDescriptors() throws Exception {
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (Server s = new Server(mnt, "hostfs", store.toString(), mnt.toString())) {
      s.checkLimit();
      s.phase("hostfs", "create", mnt, FILES, "f");
      s.phase("hostfs", "stat", mnt, FILES, "f");
      assertEquals(FILES, s.phase("hostfs", "list", mnt, 0, "-"));
      s.phase("hostfs", "read", mnt, FILES, "f");
      s.phase("hostfs", "delete", mnt, FILES, "f");
      assertEquals(0, s.phase("hostfs", "list", mnt, 0, "-"));
      assertEmpty(mnt);
    }
  }

  @Test
  void overlayTreeUnderAThousandDescriptors() throws Exception {
    Path lower = Files.createDirectory(tmp.resolve("lower"));
    script("lower", "create", lower, FILES, "l");
    Path store = tmp.resolve("store");
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (Server s = new Server(mnt, "overlay", lower.toString(), store.toString(),
        mnt.toString())) {
      s.checkLimit();
      s.phase("overlay", "stat", mnt, FILES, "l");
      assertEquals(FILES, s.phase("overlay", "list", mnt, 0, "-"));
      s.phase("overlay", "read", mnt, FILES, "l");
      s.phase("overlay", "create", mnt, FILES, "u");
      s.phase("overlay", "stat", mnt, FILES, "u");
      assertEquals(2 * FILES, s.phase("overlay", "list", mnt, 0, "-"));
      s.phase("overlay", "read", mnt, FILES, "u");
      s.phase("overlay", "delete", mnt, FILES, "l");
      s.phase("overlay", "delete", mnt, FILES, "u");
      assertEquals(0, s.phase("overlay", "list", mnt, 0, "-"));
      assertEmpty(mnt);
    }
    assertEquals(FILES, script("lower", "list", lower, 0, "-").entries,
        "the lower tree is untouched");
    script("lower", "read", lower, FILES, "l");
  }

  private static void assertEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.toList());
    }
  }

  private record Result(long entries, double seconds) {}

  private static final Pattern JSON = Pattern.compile(
      "\\{\"phase\": \"(\\w+)\", \"files\": (\\d+), \"entries\": (\\d+), \"seconds\": ([0-9.]+)\\}");

  /** Runs one phase of scale_tree.py in {@code root}; fails with its message on error. */
  private static Result script(String what, String phase, Path root, int count, String prefix)
      throws IOException, InterruptedException {
    List<String> cmd = List.of("python3", script.toString(), phase, root.toString(),
        Integer.toString(count), Integer.toString(PER_DIR), prefix);
    // Generous: a million files through a mount on a busy machine take minutes per phase.
    long minutes = 5 + count / 20_000;
    Proc.Result r = Proc.run(root, cmd, minutes);
    if (r.exit() != 0) {
      fail(what + " " + phase + " failed (exit " + r.exit() + "): " + r.err() + r.out());
    }
    Matcher m = JSON.matcher(r.out().strip());
    assertTrue(m.matches(), r.out());
    Result res = new Result(Long.parseLong(m.group(3)), Double.parseDouble(m.group(4)));
    long n = count == 0 ? res.entries : count;
    REPORT.add(String.format(Locale.ROOT, "  %-8s %-6s %-2s %,10d %-7s %9.1f s %,10.0f /s",
        what, phase, prefix, n, count == 0 ? "entries" : "files", res.seconds,
        n / Math.max(res.seconds, 1e-3)));
    return res;
  }

  /** The child JVM serving the mount, under the descriptor limit. */
  private final class Server implements AutoCloseable {
    private final Path mnt;
    private final Process p;
    private final Path err;
    private final BufferedReader out;
    private int peakFds;

    private final long started = System.nanoTime();

    Server(Path mnt, String... args) throws IOException {
      this.mnt = mnt;
      this.err = tmp.resolve("server.err");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      StringBuilder cmd = new StringBuilder("ulimit -n " + LIMIT + " && exec \"$0\" -Xmx" + HEAP
          + " -cp \"$1\" " + ScaleMountChild.class.getName());
      for (int i = 0; i < args.length; i++) {
        cmd.append(" \"$").append(i + 2).append('"');
      }
      List<String> argv = new ArrayList<>(List.of("sh", "-c", cmd.toString(), java,
          System.getProperty("java.class.path")));
      argv.addAll(List.of(args));
      p = new ProcessBuilder(argv).redirectError(err.toFile()).start();
      out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String first = out.readLine();
      if (!"MOUNTED".equals(first)) {
        close();
        fail("the server did not mount: " + first + log());
      }
      REPORT.add(String.format(Locale.ROOT, "  %-8s mounted in %.1f s", args[0],
          (System.nanoTime() - started) / 1e9));
    }

    String log() throws IOException {
      return "\nserver stderr:\n" + Files.readString(err);
    }

    /** The limit the server really runs under, read from /proc. */
    void checkLimit() throws IOException {
      String limits = Files.readString(Path.of("/proc", Long.toString(p.pid()), "limits"));
      Matcher m = Pattern.compile("Max open files\\s+(\\d+)\\s+(\\d+)").matcher(limits);
      assertTrue(m.find(), limits);
      assertEquals(LIMIT, Integer.parseInt(m.group(1)), limits);
      assertEquals(LIMIT, Integer.parseInt(m.group(2)), limits);
    }

    /** Runs a phase, then counts the server's descriptors (it is idle between phases). */
    long phase(String what, String phase, Path root, int count, String prefix)
        throws IOException, InterruptedException {
      assertTrue(p.isAlive(), "server died" + log());
      Result r = script(what, phase, root, count, prefix);
      int fds;
      try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(p.pid()), "fd"))) {
        fds = (int) s.count();
      }
      peakFds = Math.max(peakFds, fds);
      assertTrue(fds <= BOUND, "server holds " + fds + " descriptors after " + phase + log());
      return r.entries;
    }

    @Override
    public void close() throws IOException {
      long closing = System.nanoTime();
      String last = null;
      try {
        p.getOutputStream().close();
        // Generous: closing deletes the storage of every deleted file (about 500 a second
        // on a busy disk), and a million of them take a while.
        if (!p.waitFor(5 + FILES / 10_000, TimeUnit.MINUTES)) {
          p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        for (String l = out.readLine(); l != null; l = out.readLine()) {
          last = l;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      } finally {
        out.close();
        if (MountTable.isFuseMountPoint(mnt)) {
          KernelMounts.unmount(mnt);
        }
      }
      String log = Files.readString(err);
      REPORT.add(String.format(Locale.ROOT, "  unmounted and exited in %.1f s; server peak"
          + " descriptors after a phase: %d; at exit %s", (System.nanoTime() - closing) / 1e9,
          peakFds, last));
      assertFalse(log.contains("Too many open files") || log.contains("EMFILE"), log);
      assertEquals(0, p.exitValue(), "server exit" + log());
      assertNotNull(last, log);
      assertTrue(last.startsWith("UNMOUNTED"), last + log());
    }
  }
}
