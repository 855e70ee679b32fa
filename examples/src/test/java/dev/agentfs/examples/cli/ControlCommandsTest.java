package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlChannel;
import dev.agentfs.control.ControlServer;
import dev.agentfs.control.FakeControlPlane;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.vfs.Caller;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The control commands against a fake plane behind a real {@link ControlServer}: the whole
 * codec is exercised, only the ioctl is replaced.
 */
class ControlCommandsTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final FakeControlPlane plane = new FakeControlPlane();
  private final ControlServer server = new ControlServer();
  private final List<Path> opened = new ArrayList<>();
  private final List<List<String>> launched = new ArrayList<>();
  private int closed;

  private final ControlCommands.Env env = new ControlCommands.Env(mp -> {
    opened.add(mp);
    return new ControlChannel() {
      @Override
      public byte[] exchange(byte[] request) {
        return server.reply(new Caller(555, 1000, 1000, new int[0]), request, plane);
      }

      @Override
      public String where() {
        return mp.toString();
      }

      @Override
      public void close() {
        closed++;
      }
    };
  }, cmd -> {
    launched.add(cmd);
    return 7;
  }, 4321);

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void snapshotCommands() {
    assertEquals(0, run("snapshot", "create", "--mount", "/mnt/ws", "--branch", "dev", "s1"),
        err());
    assertEquals(0, run("snapshot", "create", "--mount=/mnt/ws", "s2"), err());
    assertEquals(0, run("snapshot", "list", "--mount", "/mnt/ws"), err());
    assertEquals(0, run("snapshot", "delete", "s1", "--mount", "/mnt/ws"), err());
    assertEquals("""
        {"name":"s1","branch":"dev"}
        {"name":"s2"}
        {"name":"s1","branch":"dev","created":"2026-01-01T00:00:00Z"}
        {"name":"s2","branch":"main","created":"2026-01-01T00:00:00Z"}
        {"deleted":"s1"}
        """, out());
    assertEquals(List.of(Path.of("/mnt/ws")), opened.stream().distinct().toList());
    assertEquals(4, closed);
  }

  @Test
  void branchCommands() {
    String[][] cmds = {
        {"branch", "create", "--mount", "/m", "a", "--from", "s"},
        {"branch", "create", "--mount", "/m", "b", "--from-branch", "a"},
        {"branch", "list", "--mount", "/m"},
        {"branch", "bind", "--mount", "/m", "--pid", "77", "a"},
        {"branch", "show", "--mount", "/m", "--pid", "77"},
        {"branch", "show", "--mount", "/m"},
        {"branch", "unbind", "--mount", "/m", "--pid", "77"},
        {"branch", "delete", "--mount", "/m", "--force", "a"},
        {"branch", "delete", "--mount", "/m", "b"},
    };
    for (String[] c : cmds) {
      assertEquals(0, run(c), String.join(" ", c) + ": " + err());
    }
    assertEquals("""
        {"name":"a","from":"s"}
        {"name":"b","fromBranch":"a"}
        {"name":"main","base":""}
        {"name":"a","base":"s"}
        {"name":"b","base":"a"}
        {"pid":77,"branch":"a"}
        {"pid":77,"branch":"a"}
        {"pid":4321,"branch":"main"}
        {"pid":77,"unbound":true}
        {"deleted":"a","force":true}
        {"deleted":"b","force":false}
        """, out());
  }

  @Test
  void diffAndCommit() {
    plane.diff = List.of(FakeControlPlane.change(TreeDiff.Kind.ADDED, "/x", null));
    assertEquals(0, run("branch", "diff", "--mount", "/m", "s", "agent"), err());
    assertEquals(0, run("branch", "commit", "--mount", "/m", "agent", "--into", "main",
        "--dry-run"), err());
    assertEquals(0, run("branch", "commit", "--mount", "/m", "agent", "--to-workspace"), err());
    assertEquals(0, run("branch", "commit", "--mount", "/m", "agent"), err());
    assertEquals("{\"kind\":\"ADDED\",\"path\":\"/x\"}", out().lines().findFirst().get());
    assertTrue(out().lines().skip(1).allMatch(l -> l.startsWith("{\"branch\":\"agent\"")));
    assertEquals(List.of("diff s agent", "commit agent main false true",
        "commit agent null true false", "commit agent null false false"), plane.calls);
  }

  @Test
  void topLevelDiffAndRestoreAreTheBranchCommands() {
    plane.diff = List.of(FakeControlPlane.change(TreeDiff.Kind.ADDED, "/x", null));
    assertEquals(0, run("diff", "--mount", "/m", "s", "agent"), err());
    assertEquals(0, run("diff", "s", "agent", "--patch", "--mount", "/m"), err());
    assertEquals(0, run("restore", "--mount", "/m", "s", "/src", "--branch", "agent"), err());
    assertEquals(0, run("branch", "bind", "--mount", "/m", "--pid", "4321", "dev"), err());
    out.reset();
    // Without --branch: the branch the calling shell (the parent, 4321) sees.
    assertEquals(0, run("restore", "--mount", "/m", "s", "/README"), err());
    assertEquals(List.of("diff s agent", "patch s agent", "restore agent s /src",
        "bind 4321 dev", "branchOf 4321", "restore dev s /README"), plane.calls);
    assertEquals("{\"branch\":\"dev\",\"restored\":\"/README\",\"from\":\"s\"}\n", out());
  }

  @Test
  void filesystemErrorsExitOneWithTheErrno() {
    assertEquals(1, run("snapshot", "delete", "--mount", "/m", "nope"));
    assertEquals("agentfs: ENOENT: /m (nope (no such snapshot))\n", err());
    assertEquals("", out());
  }

  @Test
  void aMountWithoutControlFileIsEnoent() {
    ControlCommands.Env none = new ControlCommands.Env(mp -> {
      throw new AgentFsException(Errno.ENOENT, mp.toString(), null, "not an agentfs mount");
    }, cmd -> 0, 1);
    int rc = Main.run(new String[] {"branch", "list", "--mount", "/tmp"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), none);
    assertEquals(1, rc);
    assertEquals("agentfs: ENOENT: /tmp (not an agentfs mount)\n", err());
  }

  @Test
  void execExportsThenRunsTheCommandInAPrivateNamespace() {
    assertEquals(7, run("branch", "exec", "--mount", "/m", "--branch", "agent", "--",
        "make", "-j4", "--keep-going"), err());
    assertEquals(List.of(List.of("unshare", "--mount", "--propagation", "private", "--",
        "sh", "-c", ControlCommands.EXEC_SCRIPT, "/run/agentfs/export/agent", "/m", "make",
        "-j4", "--keep-going")), launched);
    assertEquals(List.of("export agent", "checkpoint agent"), plane.calls);
    assertEquals("", out());
  }

  @Test
  void execScriptPassesTheCommandThrough() throws Exception {
    // the script minus the bind mount: $0 and $1 are consumed, the command runs as given
    String script = ControlCommands.EXEC_SCRIPT.replace("mount --bind", "true");
    Process p = new ProcessBuilder("sh", "-c", script, "/exported", "/mnt", "printf",
        "[%s]", "a b", "$HOME", "-x").redirectErrorStream(true).start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertEquals("[a b][$HOME][-x]", new String(p.getInputStream().readAllBytes(),
        StandardCharsets.UTF_8));
    Process q = new ProcessBuilder("sh", "-c", script, "/e", "/m", "sh", "-c", "exit 3")
        .start();
    assertTrue(q.waitFor(10, TimeUnit.SECONDS));
    assertEquals(3, q.exitValue());
  }

  @Test
  void jsonStringFieldReadsEscapes() {
    assertEquals("/a \"b\"\\c\u00e9", Json.stringField(
        "{\"x\":1,\"path\":\"/a \\\"b\\\"\\\\c\\u00e9\"}\n", "path"));
    assertEquals(null, Json.stringField("{\"path\":null}", "path"));
    assertEquals(null, Json.stringField("{\"path\":\"\\u12\"}", "path"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "snapshot                                         | snapshot needs a subcommand",
      "snapshot frob --mount /m                         | unknown snapshot subcommand 'frob'",
      "snapshot create                                  | --mount MOUNTPOINT is required",
      "snapshot create --mount /m                       | snapshot create needs NAME",
      "snapshot create --mount /m a b                   | takes one NAME, got 2",
      "snapshot create --mount /m --branch              | --branch needs a value",
      "snapshot create --mount /m --bogus x             | unknown option '--bogus'",
      "snapshot list --mount /m extra                   | unexpected argument 'extra'",
      "snapshot list --mount /m --mount /n              | --mount given twice",
      "branch                                           | branch needs a subcommand",
      "branch frob                                      | unknown branch subcommand 'frob'",
      "branch create --mount /m a                       | exactly one of --from",
      "branch create --mount /m a --from s --from-branch b | exactly one of --from",
      "branch delete --mount /m                         | branch delete needs NAME",
      "branch bind --mount /m a                         | branch bind needs --pid PID",
      "branch bind --mount /m --pid x a                 | --pid needs a process id, not 'x'",
      "branch bind --mount /m --pid 0 a                 | --pid needs a process id, not '0'",
      "branch bind --mount /m --pid 99999999999 a       | --pid needs a process id",
      "branch unbind --mount /m                         | branch unbind needs --pid PID",
      "branch show --mount /m --pid -3                  | --pid needs a process id",
      "branch diff --mount /m a                         | branch diff needs FROM and TO",
      "branch commit --mount /m                         | branch commit needs BRANCH",
      "branch commit --mount /m a --into b --to-workspace | --into TARGET or --to-workspace",
      "branch exec --mount /m -- ls                     | branch exec needs --branch BRANCH",
      "branch exec --mount /m --branch b                | needs a command after --",
      "branch exec --mount /m --branch b --             | needs a command after --",
      "branch exec --branch b -- ls                     | --mount MOUNTPOINT is required",
      "diff --mount /m a                                | diff needs FROM and TO",
      "restore --mount /m s                             | restore needs SNAPSHOT PATH",
      "restore --mount /m s /a --bogus                  | restore: unknown option '--bogus'",
      "restore s /a                                     | restore: --mount MOUNTPOINT is required",
  })
  void usageErrorsExitTwoAndSayWhy(String line, String message) {
    assertEquals(2, run(line.trim().split(" +")), err());
    assertTrue(err().contains(message.trim()), err());
    assertTrue(err().contains("run 'java -jar agentfs.jar help' for usage"));
    assertEquals("", out());
    assertEquals(List.of(), plane.calls, "nothing was sent");
  }

  @Test
  void helpListsTheControlCommands() {
    assertEquals(0, run("help"));
    for (String c : List.of("snapshot create", "snapshot list", "snapshot delete",
        "branch create", "branch list", "branch delete", "branch bind", "branch unbind",
        "branch show", "branch diff", "branch commit", "branch exec", "restore", "diff")) {
      assertTrue(out().contains("\n  " + c), c);
    }
  }
}
