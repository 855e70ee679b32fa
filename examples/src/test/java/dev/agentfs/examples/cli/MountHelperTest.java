package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.junit.AgentFsExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount(8) helper for real: {@code install-helper} puts it into /sbin (removed again after
 * each test), then {@code mount -t fuse.agentfs}, an fstab line, {@code mount -o remount,ro},
 * and {@code umount} are run as a user would, and the daemon is checked to have exited 0.
 */
class MountHelperTest {
  private static final Path HELPER = Path.of("/sbin", HelperCommand.NAME);
  private static final Pattern PID = Pattern.compile("\"pid\":(\\d+)");

  @TempDir Path tmp;
  private Path mnt;
  private Path logs;
  private final List<Path> mounted = new ArrayList<>();

  record Result(int exit, String out, String err) {}

  @BeforeEach
  void install() throws Exception {
    AgentFsExtension.requireFuse();
    if (Files.exists(HELPER) && !Files.readString(HELPER).contains(HelperCommand.MARKER)) {
      Assumptions.abort("skipped: " + HELPER + " exists and is not AgentFS's helper");
    }
    assertEquals(0, cli("install-helper"));
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    logs = tmp.resolve("logs");
  }

  @AfterEach
  void uninstall() throws Exception {
    try {
      for (Path p : mounted) {
        if (isMounted(p)) {
          run("umount", "-l", p.toString());
        }
      }
    } finally {
      assertEquals(0, cli("install-helper", "--uninstall"));
      assertFalse(Files.exists(HELPER));
    }
  }

  private static int cli(String... args) {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(sink, true, StandardCharsets.UTF_8);
    int rc = Main.run(args, ps, ps);
    assertEquals(0, rc, sink.toString(StandardCharsets.UTF_8));
    return rc;
  }

  private Result run(String... cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("AGENTFS_LOG_DIR", logs.toString());
    pb.environment().put("LC_ALL", "C");
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    // Files, not pipes: the daemon the helper starts must not hold our pipe open.
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    p.getOutputStream().close();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "timed out: " + List.of(cmd));
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private Result sh(String script) throws IOException, InterruptedException {
    return run("sh", "-c", script);
  }

  private static boolean isMounted(Path p) throws IOException {
    return procMountsLine(p).isPresent();
  }

  private static Optional<String> procMountsLine(Path p) throws IOException {
    String needle = " " + p.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
        .filter(l -> l.contains(needle)).findFirst();
  }

  /** Mounts with -v, so the helper passes on the daemon's mounted line; returns its pid. */
  private long mount(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("mount", "-v"));
    cmd.addAll(List.of(args));
    mounted.add(mnt);
    Result r = run(cmd.toArray(new String[0]));
    assertEquals(0, r.exit(), r.toString());
    Matcher m = PID.matcher(r.err());
    assertTrue(m.find() && r.err().contains("\"event\":\"mounted\""), r.toString());
    return Long.parseLong(m.group(1));
  }

  /** umount(8), then the daemon and the shell that records its status must both end. */
  private String umountAndAwaitExit(long pid) throws Exception {
    ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
    ProcessHandle recorder = daemon.parent().orElseThrow();
    Result u = run("umount", mnt.toString());
    assertEquals(0, u.exit(), u.toString());
    daemon.onExit().get(60, TimeUnit.SECONDS);
    recorder.onExit().get(60, TimeUnit.SECONDS);
    assertFalse(isMounted(mnt));
    try (var files = Files.list(logs)) {
      Path log = files.filter(f -> f.getFileName().toString().contains("_mnt"))
          .findFirst().orElseThrow();
      return Files.readString(log);
    }
  }

  @Test
  void mountUseRemountAndUmountEndsTheDaemonCleanly() throws Exception {
    long pid = mount("-t", "fuse.agentfs", "memory", mnt.toString(),
        "-o", "noatime,noexec,threads=2,nofail,_netdev,x-systemd.automount");
    String line = procMountsLine(mnt).orElseThrow();
    assertTrue(line.startsWith("agentfs " + mnt + " fuse.agentfs rw,nosuid,nodev,noexec,"
        + "noatime,"), line);

    assertEquals(0, sh("echo one > " + mnt + "/a").exit());
    assertEquals("one\n", sh("cat " + mnt + "/a").out());
    // noexec came through: a script with x bits cannot be run.
    Result x = sh("printf '#!/bin/sh\\necho ran\\n' > " + mnt + "/s && chmod +x " + mnt + "/s"
        + " && " + mnt + "/s");
    assertNotEquals(0, x.exit(), x.toString());
    assertTrue(x.err().contains("Permission denied"), x.toString());

    // remount goes through the helper too (mount(8) calls it), which leaves it to mount(2).
    Result ro = run("mount", "-o", "remount,ro", mnt.toString());
    assertEquals(0, ro.exit(), ro.toString());
    assertTrue(procMountsLine(mnt).orElseThrow().contains(" fuse.agentfs ro,"));
    Result denied = sh("echo two > " + mnt + "/b");
    assertNotEquals(0, denied.exit());
    assertTrue(denied.err().contains("Read-only file system"), denied.toString());
    assertEquals("one\n", sh("cat " + mnt + "/a").out(), "reads still work");
    Result rw = run("mount", "-o", "remount,rw", mnt.toString());
    assertEquals(0, rw.exit(), rw.toString());
    assertEquals(0, sh("echo two > " + mnt + "/b").exit());
    assertEquals("two\n", sh("cat " + mnt + "/b").out());

    String log = umountAndAwaitExit(pid);
    assertTrue(log.contains("the daemon for " + mnt + " exited with status 0"), log);
  }

  @Test
  void anFstabLineMountsAHostDirectoryThatOutlivesTheDaemon() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Path fstab = tmp.resolve("fstab");
    Files.writeString(fstab, "# a test fstab\nhostfs:" + store + "  " + mnt
        + "  fuse.agentfs  defaults,noatime,nofail,fsname=agentstore  0  0\n");
    long pid = mount("--fstab", fstab.toString(), mnt.toString());
    assertTrue(procMountsLine(mnt).orElseThrow().startsWith("agentstore " + mnt
        + " fuse.agentfs rw,nosuid,nodev,noatime,"), procMountsLine(mnt).toString());
    assertEquals(0, sh("mkdir " + mnt + "/d && echo kept > " + mnt + "/d/f").exit());
    String log = umountAndAwaitExit(pid);
    assertTrue(log.contains("exited with status 0"), log);

    long again = mount("--fstab", fstab.toString(), mnt.toString());
    assertEquals("kept\n", sh("cat " + mnt + "/d/f").out());
    umountAndAwaitExit(again);
  }

  @Test
  void anUnknownOptionFailsTheMountNamingIt() throws Exception {
    Result r = run("mount", "-t", "fuse.agentfs", "memory", mnt.toString(),
        "-o", "noatime,frobnicate");
    assertEquals(32, r.exit(), r.toString());
    assertTrue(r.err().contains("EINVAL") && r.err().contains("'frobnicate'"), r.toString());
    assertFalse(isMounted(mnt));
  }

  @Test
  void installHelperLeavesForeignFilesAlone() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("sbin"));
    Path foreign = dir.resolve(HelperCommand.NAME);
    Files.writeString(foreign, "#!/bin/sh\nexit 0\n");
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(sink, true, StandardCharsets.UTF_8);
    assertEquals(1, Main.run(new String[] {"install-helper", "--dir", dir.toString()}, ps, ps));
    assertTrue(sink.toString(StandardCharsets.UTF_8).contains("EEXIST"), sink.toString());
    assertEquals("#!/bin/sh\nexit 0\n", Files.readString(foreign));
    Files.delete(foreign);

    assertEquals(0, cli("install-helper", "--dir", dir.toString()));
    String script = Files.readString(foreign);
    assertTrue(script.contains("default_java='" + System.getProperty("java.home")), script);
    assertTrue(Files.isExecutable(foreign));
    assertEquals(0, cli("install-helper", "--dir", dir.toString(), "--uninstall"));
    assertFalse(Files.exists(foreign));
  }
}
