package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.Fusermount;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Mounting as a real unprivileged user: a child JVM ({@link UserMountChild}) started through
 * {@code setpriv} as {@code nobody} mounts with the default (automatic) method, which finds
 * mount(2) refused and goes through the setuid fusermount3; this test, as root, checks the
 * mount from outside and stops the child. Also the errors where no way to mount works, and the
 * privileged features a user is refused.
 *
 * <p>The user is {@code nobody} rather than an arbitrary uid: fusermount3 refuses a uid the
 * user database cannot name ("could not determine username"), which {@link
 * #aUidWithoutANameIsRefusedByTheHelper} shows. The child needs /dev/fuse open to it, as
 * fusermount3 opens the device with the user's file-system ids: where the device is not mode
 * 0666 (this machine's is 0600), the test makes it so and restores the old mode afterwards.
 */
class UnprivilegedMountTest {
  private static final int SIGTERM_EXIT = 128 + 15;
  private static final Path DEV_FUSE = Path.of("/dev/fuse");

  private static FusermountSupport.User user;
  private static Path classes;
  private static String classPath;
  private static String setpriv;
  private static Integer oldDevMode;

  private final List<Process> children = new ArrayList<>();
  private final Map<Process, Path> stderr = new java.util.HashMap<>();
  private final List<Path> dirs = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    Fuse.require();
    FusermountSupport.requireRootAndSetpriv();
    FusermountSupport.requireHelper();
    user = FusermountSupport.user("nobody");
    Assumptions.assumeTrue(user != null, "no user 'nobody' here");
    setpriv = Proc.run(Path.of("/"), List.of("sh", "-c", "command -v setpriv")).ok().out()
        .strip();
    int mode = (Integer) Files.getAttribute(DEV_FUSE, "unix:mode") & 07777;
    if ((mode & 0666) != 0666) {
      // Only for this test class: users need the device (mode 0666 is the usual udev rule).
      Files.setAttribute(DEV_FUSE, "unix:mode", mode | 0666);
      oldDevMode = mode;
    }
    classes = Files.createTempDirectory("agentfs-user-cp");
    classPath = FusermountSupport.copyClassPath(classes);
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (oldDevMode != null) {
      Files.setAttribute(DEV_FUSE, "unix:mode", oldDevMode);
    }
    if (classes != null) {
      FusermountSupport.deleteTree(classes);
    }
  }

  @BeforeEach
  void helperOnPath() {
    FusermountSupport.requireHelper();
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : children) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
    for (Path d : dirs) {
      // A killed child leaves a dead mount, which root may unmount. (Not isStale/isDirectory
      // first: without allow_other, root's stat and statfs of it fail with EACCES.)
      if (FusermountSupport.procMount(d) != null) {
        KernelMounts.unmount(d);
      }
      FusermountSupport.deleteTree(d);
    }
  }

  /** A fresh directory under /tmp owned by {@code uid:gid}, mode 0755. */
  private Path mountPoint(int uid, int gid) throws IOException {
    Path d = Files.createTempDirectory(Path.of("/tmp"), "agentfs-user-mnt");
    dirs.add(d);
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setAttribute(d, "unix:uid", uid);
    Files.setAttribute(d, "unix:gid", gid);
    return d;
  }

  private Process child(int uid, int gid, Map<String, String> env, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(setpriv, "--reuid=" + uid, "--regid=" + gid,
        "--clear-groups", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=/tmp", "-cp", classPath,
        UserMountChild.class.getName()));
    cmd.addAll(List.of(args));
    Path err = Files.createTempFile("agentfs-user-child", ".err");
    dirs.add(err);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
    pb.environment().put("HOME", "/tmp");
    pb.environment().putAll(env);
    Process p = pb.start();
    children.add(p);
    stderr.put(p, err);
    return p;
  }

  /** What the child logged, for failure messages. */
  private String log(Process p) throws IOException {
    return "\nchild stderr:\n" + Files.readString(stderr.get(p));
  }

  private static BufferedReader lines(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Runs {@code try} cases in a child and returns each case's result line (without prefix). */
  private Map<String, String> attempts(int uid, int gid, Path dir, Map<String, String> env,
      String... cases) throws Exception {
    List<String> args = new ArrayList<>(List.of("try", dir.toString()));
    args.addAll(List.of(cases));
    Process p = child(uid, gid, env, args.toArray(String[]::new));
    p.getOutputStream().close();
    Map<String, String> out = new LinkedHashMap<>();
    try (BufferedReader r = lines(p)) {
      for (String l = r.readLine(); l != null; l = r.readLine()) {
        if (l.startsWith("RESULT ")) {
          String[] f = l.split(" ", 3);
          out.put(f[1], f[2]);
        }
      }
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "child exit; results " + out + log(p));
    assertEquals(List.of(cases), List.copyOf(out.keySet()), "one result per case: " + out);
    return out;
  }

  private static void assertMountedByUser(Path dir, int uid, int gid) throws IOException {
    String line = FusermountSupport.procMount(dir);
    assertNotNull(line, "mounted at " + dir);
    assertTrue(line.startsWith("agentfs " + dir + " fuse.agentfs rw,nosuid,nodev"), line);
    assertTrue(line.contains("user_id=" + uid + ",group_id=" + gid), line);
    assertTrue(line.contains("default_permissions"), line);
  }

  @Test
  void userMountsThroughFusermountAndUnmountsOnClose() throws Exception {
    Path dir = mountPoint(user.uid(), user.gid());
    Process p = child(user.uid(), user.gid(), Map.of(), "serve", dir.toString());
    BufferedReader out = lines(p);
    assertEquals("MOUNTED FUSERMOUNT", out.readLine(), "mount(2) refused, fusermount3 used");
    assertMountedByUser(dir, user.uid(), user.gid());

    // As the user: the child's file is theirs; they can write and list.
    String ids = user.uid() + ":" + user.gid();
    Proc.Result r = Proc.shAs(Path.of("/"), user.uid(), user.gid(), "cd " + dir
        + " && stat -c '%u:%g %a' hello.txt && cat hello.txt && echo more > more.txt"
        + " && stat -c '%u:%g' more.txt && ls").ok();
    assertEquals(ids + " 644\nwritten by the child\n" + ids + "\nhello.txt\nmore.txt\n",
        r.out());
    // Without allow_other the kernel lets no one else in, root included.
    assertThrows(AccessDeniedException.class, () -> Files.list(dir).close());

    p.getOutputStream().close();
    assertEquals("UNMOUNTED true", out.readLine(), log(p));
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), log(p));
    assertNull(FusermountSupport.procMount(dir), "fusermount3 -u as the user unmounted it");
    try (var s = Files.list(dir)) {
      assertEquals(0, s.count(), "the directory underneath is untouched");
    }
  }

  @Test
  void sigtermUnmountsThroughTheShutdownHook() throws Exception {
    Path dir = mountPoint(user.uid(), user.gid());
    Process p = child(user.uid(), user.gid(), Map.of(), "serve", dir.toString());
    assertEquals("MOUNTED FUSERMOUNT", lines(p).readLine());
    assertMountedByUser(dir, user.uid(), user.gid());
    // SIGTERM to the JVM (setpriv execs it, so the pid is the JVM's). Not Process.destroy:
    // that also closes the child's stdin, which would make it close the mount itself.
    assertTrue(p.toHandle().destroy());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(SIGTERM_EXIT, p.exitValue(), log(p));
    assertNull(FusermountSupport.procMount(dir), "the shutdown hook ran fusermount3 -u" + log(p));
    assertFalse(KernelMounts.isStale(dir));
  }

  @Test
  void withNoWayToMountTheErrorSaysWhy() throws Exception {
    Path dir = mountPoint(user.uid(), user.gid());
    // A PATH without fusermount3; java and setpriv are started by absolute path.
    Map<String, String> res = attempts(user.uid(), user.gid(), dir,
        Map.of("PATH", "/nonexistent"), "auto", "fusermount", "agentfs");
    String auto = res.get("auto");
    assertTrue(auto.startsWith("EPERM EPERM: " + dir + " (mount(2) was refused"), auto);
    assertTrue(auto.contains("fusermount3 is not on PATH (/nonexistent)"), auto);
    assertTrue(auto.contains("install fuse3") && auto.contains("run as root"), auto);
    String forced = res.get("fusermount");
    assertTrue(forced.startsWith("ENOENT ENOENT: " + dir + " (fusermount3 is not on PATH"),
        forced);
    String api = res.get("agentfs");
    assertTrue(api.startsWith("ENODEV ENODEV: " + dir + " (mount(2) needs CAP_SYS_ADMIN, and "
        + "fusermount3 is not on PATH: install fuse3"), api);
    assertNull(FusermountSupport.procMount(dir));
  }

  @Test
  void mountPointTheUserMayNotWriteIsRefusedByTheHelper() throws Exception {
    Path dir = mountPoint(0, 0);
    Map<String, String> res = attempts(user.uid(), user.gid(), dir, Map.of(), "auto");
    String auto = res.get("auto");
    assertTrue(auto.startsWith("EACCES EACCES: " + dir + " ("), auto);
    assertTrue(auto.contains("fusermount3: user has no write access to mountpoint " + dir),
        auto);
    assertNull(FusermountSupport.procMount(dir));
  }

  @Test
  void privilegedFeaturesAreRefusedNotHalfDone() throws Exception {
    Path dir = mountPoint(user.uid(), user.gid());
    Map<String, String> res = attempts(user.uid(), user.gid(), dir, Map.of(),
        "passthrough", "allow_other", "suid_dev");
    String pt = res.get("passthrough");
    assertTrue(pt.startsWith("EPERM EPERM: " + dir + " (passthrough REQUIRED"), pt);
    assertTrue(pt.contains("CAP_SYS_ADMIN"), pt);
    String ao = res.get("allow_other");
    if (Fusermount.userAllowOther()) {
      assertEquals("MOUNTED FUSERMOUNT", ao, "/etc/fuse.conf allows it");
    } else {
      assertTrue(ao.startsWith("EPERM EPERM: " + dir + " (ALLOW_OTHER"), ao);
      assertTrue(ao.contains("user_allow_other"), ao);
    }
    String sd = res.get("suid_dev");
    assertTrue(sd.startsWith("EPERM EPERM: " + dir + " (SUID_DEV"), sd);
    assertTrue(sd.contains("nosuid,nodev"), sd);
    assertNull(FusermountSupport.procMount(dir));
  }

  @Test
  void aUidWithoutANameIsRefusedByTheHelper() throws Exception {
    int uid = 4242;
    Assumptions.assumeTrue(FusermountSupport.user(Integer.toString(uid)) == null,
        "uid 4242 has a name here");
    Path dir = mountPoint(uid, uid);
    Map<String, String> res = attempts(uid, uid, dir, Map.of(), "auto");
    String auto = res.get("auto");
    assertTrue(auto.startsWith("EPERM EPERM: " + dir + " ("), auto);
    assertTrue(auto.contains("fusermount3: could not determine username"), auto);
    assertNull(FusermountSupport.procMount(dir));
  }
}
