package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI in an unprivileged user namespace: {@code setpriv --reuid=nobody ... unshare -Urm sh
 * SCRIPT}, where the script, as the namespace's root (uid 65534 outside), mounts with mount(2),
 * uses files, runs {@code branch exec}, diffs and commits, and stops the mount with SIGTERM;
 * and where passthrough and allow_other, which need the host's root, are refused. The script
 * prints one tagged line per fact, which the test checks. The mounts live in the script's
 * private mount namespace, so nothing of them is visible outside, and killing the script's
 * processes takes them away. /dev/fuse is made mode 0666 (as udev sets it on most systems)
 * for this class and put back afterwards.
 */
class RootlessMountTest {
  private static final Path DEV_FUSE = Path.of("/dev/fuse");
  private static final int NOBODY = 65534;

  private static Path classes;
  private static String classPath;
  private static Integer oldDevMode;

  private Path work;
  private Process script;

  private static void skipOrFail(String why) {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("CI=true but " + why);
    }
    Assumptions.abort("skipped: " + why);
  }

  private static int sh(String command) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), command);
    return p.exitValue();
  }

  @BeforeAll
  static void setUp() throws Exception {
    ChildMount.requireFuse();
    if (!"root".equals(System.getProperty("user.name"))) {
      skipOrFail("running the CLI as nobody needs root to switch users");
    }
    if (sh("command -v setpriv && command -v unshare && command -v mkfifo") != 0) {
      skipOrFail("setpriv, unshare or mkfifo (util-linux, coreutils) is missing");
    }
    if (sh("setpriv --reuid=" + NOBODY + " --regid=" + NOBODY + " --clear-groups unshare -Urm"
        + " true") != 0) {
      skipOrFail("this kernel refuses unprivileged user namespaces "
          + "(user.max_user_namespaces, kernel.unprivileged_userns_clone, AppArmor)");
    }
    int mode = (Integer) Files.getAttribute(DEV_FUSE, "unix:mode") & 07777;
    if ((mode & 0666) != 0666) {
      Files.setAttribute(DEV_FUSE, "unix:mode", mode | 0666);
      oldDevMode = mode;
    }
    classes = Files.createTempDirectory("agentfs-rootless-cp");
    classPath = ReadableClassPath.copy(classes);
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (oldDevMode != null) {
      Files.setAttribute(DEV_FUSE, "unix:mode", oldDevMode);
    }
    if (classes != null) {
      ReadableClassPath.deleteTree(classes);
    }
  }

  @BeforeEach
  void workDir() throws IOException {
    work = Files.createTempDirectory(Path.of("/tmp"), "agentfs-rootless");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setAttribute(work, "unix:uid", NOBODY);
    Files.setAttribute(work, "unix:gid", NOBODY);
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (script != null) {
      // The namespace (and its mounts) goes when the last process in it does.
      script.descendants().forEach(ProcessHandle::destroyForcibly);
      script.destroyForcibly();
      script.waitFor(30, TimeUnit.SECONDS);
    }
    ReadableClassPath.deleteTree(work);
  }

  /** Runs {@code body} as nobody in {@code unshare -Urm}; returns its output lines. */
  private List<String> inUserNamespace(String body) throws Exception {
    String prelude = """
        JOPTS="-Xmx128m -XX:TieredStopAtLevel=1 -Djava.io.tmpdir=$W"
        MAIN=dev.agentfs.examples.cli.Main
        J() { timeout 120 "$JAVA" $JOPTS -cp "$CP" $MAIN "$@"; }
        cd "$W" || exit 3
        """;
    Path err = work.resolve("script.err");
    ProcessBuilder pb = new ProcessBuilder("setpriv", "--reuid=" + NOBODY,
        "--regid=" + NOBODY, "--clear-groups", "unshare", "-Urm", "sh", "-c", prelude + body)
        .redirectError(err.toFile());
    pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java")
        .toString());
    pb.environment().put("CP", classPath);
    pb.environment().put("W", work.toString());
    pb.environment().put("HOME", work.toString());
    script = pb.start();
    script.getOutputStream().close();
    String out = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(script.waitFor(180, TimeUnit.SECONDS), "script still running:\n" + out);
    String log = "\noutput:\n" + out + "\nstderr:\n" + (Files.exists(err)
        ? Files.readString(err) : "")
        + (Files.exists(work.resolve("mount.err")) ? "\nmount stderr:\n"
            + Files.readString(work.resolve("mount.err")) : "");
    assertEquals(0, script.exitValue(), log);
    List<String> lines = new ArrayList<>(out.lines().toList());
    lines.add("LOG " + log);
    return lines;
  }

  private static String tagged(List<String> lines, String tag) {
    List<String> hits = lines.stream().filter(l -> l.startsWith(tag + " ")).toList();
    assertEquals(1, hits.size(), tag + " once in " + lines);
    return hits.get(0).substring(tag.length() + 1);
  }

  @Test
  void mountBranchExecDiffCommitAndSigtermInsideUnshareUrm() throws Exception {
    List<String> out = inUserNamespace("""
        M="$W/mnt"
        mkdir "$M" && mkfifo "$W/ready" || exit 4
        ( exec "$JAVA" $JOPTS -cp "$CP" $MAIN mount "$M" ) > "$W/ready" 2> "$W/mount.err" &
        pid=$!
        exec 3< "$W/ready"
        read -r line <&3
        echo "MOUNTED $line"
        echo "UID $(id -u) $(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
        echo "TABLE $(grep " $M fuse.agentfs " /proc/self/mounts)"
        echo hello > "$M/a.txt" && echo "READ $(cat "$M/a.txt")"
        J snapshot create --mount "$M" s1 > /dev/null
        J branch create --mount "$M" B --from s1 > /dev/null
        cd "$M"
        J branch exec --mount "$M" --branch B -- \
            sh -c 'echo inB > b.txt && echo "EXEC_SEES $(cat a.txt) $(cat b.txt)"'
        echo "EXEC_RC $?"
        cd "$W"
        echo "MAIN_HAS_B $(test -e "$M/b.txt" && echo yes || echo no)"
        J diff --mount "$M" main B | sed 's/^/DIFF /'
        J branch commit --mount "$M" B > /dev/null
        echo "COMMIT_RC $?"
        echo "MAIN_B $(cat "$M/b.txt")"
        kill -TERM $pid
        wait $pid
        echo "EXIT $?"
        echo "LEFT $(grep -c " $M " /proc/self/mounts)"
        """);
    String log = out.get(out.size() - 1);
    assertTrue(tagged(out, "MOUNTED").startsWith("{\"event\":\"mounted\""), log);
    assertEquals("0 0 65534 1", tagged(out, "UID"), "root of a namespace that is nobody outside");
    // mount(2) by the namespace's root: owner is the namespace's uid 0.
    assertTrue(tagged(out, "TABLE").contains("fuse.agentfs rw,nosuid,nodev"), log);
    assertTrue(tagged(out, "TABLE").contains("user_id=0,group_id=0"), log);
    assertEquals("hello", tagged(out, "READ"), log);
    assertEquals("hello inB", tagged(out, "EXEC_SEES"), log);
    assertEquals("0", tagged(out, "EXEC_RC"), log);
    assertEquals("no", tagged(out, "MAIN_HAS_B"), "the branch's write is not in main " + log);
    assertEquals("{\"kind\":\"ADDED\",\"path\":\"/b.txt\"}", tagged(out, "DIFF"), log);
    assertEquals("0", tagged(out, "COMMIT_RC"), log);
    assertEquals("inB", tagged(out, "MAIN_B"), "committed into main " + log);
    assertEquals("0", tagged(out, "EXIT"), "SIGTERM unmounts and exits 0 " + log);
    assertEquals("0", tagged(out, "LEFT"), log);
  }

  @Test
  void passthroughAndAllowOtherAreRefusedInsideUnshareUrm() throws Exception {
    List<String> out = inUserNamespace("""
        mkdir "$W/m" "$W/host" || exit 4
        msg=$(J mount --allow-other "$W/m" 2>&1); echo "ALLOW_OTHER $? $msg"
        msg=$(J mount --passthrough --backstore "hostfs:$W/host" "$W/m" 2>&1)
        echo "PASSTHROUGH $? $msg"
        echo "LEFT $(grep -c " $W/m " /proc/self/mounts)"
        """);
    String log = out.get(out.size() - 1);
    String ao = tagged(out, "ALLOW_OTHER");
    assertTrue(ao.startsWith("1 agentfs: EPERM: " + work.resolve("m") + " (ALLOW_OTHER: this "
        + "process is in a user namespace"), ao + log);
    assertTrue(ao.contains("only processes inside that namespace"), ao);
    String pt = tagged(out, "PASSTHROUGH");
    assertTrue(pt.startsWith("1 agentfs: EPERM: " + work.resolve("m") + " (passthrough REQUIRED"),
        pt + log);
    assertTrue(pt.contains("CAP_SYS_ADMIN in the initial user namespace"), pt);
    assertEquals("0", tagged(out, "LEFT"), "nothing was mounted " + log);
  }
}
