package dev.agentfs.examples.cli;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlChannel;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.fuse.ControlClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code snapshot} and {@code branch}: the control plane of a running mount, reached through
 * its control file ({@link ControlClient}). Each command is one request; the reply's JSON
 * lines are printed as they come.
 */
final class ControlCommands {
  private ControlCommands() {}

  /** Opens the control channel of a mount (the real one, or a fake in tests). */
  interface Connector {
    ControlChannel open(Path mountPoint) throws AgentFsException;
  }

  /** Runs a command with inherited stdio and returns its exit status. */
  interface Launcher {
    int run(List<String> command) throws AgentFsException;
  }

  /** What the commands need from outside: the mount's channel, a process runner, the shell. */
  record Env(Connector connector, Launcher launcher, long parentPid) {
    static Env system() {
      return new Env(ControlClient::open, ControlCommands::launch,
          ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L));
    }
  }

  /**
   * {@code branch exec}'s shell step, run by {@code unshare} in a private mount namespace:
   * $0 is the exported branch, $1 the mount point, the rest the command. The working
   * directory is entered again so that a shell sitting inside the mount sees the branch.
   */
  static final String EXEC_SCRIPT =
      "mount --bind \"$0\" \"$1\" && { cd \"$PWD\" 2>/dev/null || :; } && shift && exec \"$@\"";

  static int snapshot(List<String> args, PrintStream out, Env env)
      throws UsageException, AgentFsException {
    if (args.isEmpty()) {
      throw new UsageException("snapshot needs a subcommand: create, list, delete");
    }
    String sub = args.get(0);
    List<String> rest = args.subList(1, args.size());
    String cmd = "snapshot " + sub;
    switch (sub) {
      case "create" -> {
        Args a = Args.parse(cmd, rest, Set.of("--branch"), Set.of());
        Map<String, String> p = params("name", a.one(cmd, "NAME"));
        a.opt("--branch", "branch", p);
        return call(env, a, Op.SNAPSHOT_CREATE, p, out);
      }
      case "list" -> {
        Args a = Args.parse(cmd, rest, Set.of(), Set.of());
        a.none(cmd);
        return call(env, a, Op.SNAPSHOT_LIST, params(), out);
      }
      case "delete" -> {
        Args a = Args.parse(cmd, rest, Set.of(), Set.of());
        return call(env, a, Op.SNAPSHOT_DELETE, params("name", a.one(cmd, "NAME")), out);
      }
      default -> throw new UsageException("unknown snapshot subcommand '" + sub + "'");
    }
  }

  static int branch(List<String> args, PrintStream out, Env env)
      throws UsageException, AgentFsException {
    if (args.isEmpty()) {
      throw new UsageException("branch needs a subcommand: create, list, delete, bind, unbind,"
          + " show, diff, commit, exec");
    }
    String sub = args.get(0);
    List<String> rest = args.subList(1, args.size());
    String cmd = "branch " + sub;
    switch (sub) {
      case "create" -> {
        Args a = Args.parse(cmd, rest, Set.of("--from", "--from-branch"), Set.of());
        Map<String, String> p = params("name", a.one(cmd, "NAME"));
        if (a.opts.containsKey("--from") == a.opts.containsKey("--from-branch")) {
          throw new UsageException(cmd + " needs exactly one of --from SNAPSHOT, "
              + "--from-branch BRANCH");
        }
        a.opt("--from", "from", p);
        a.opt("--from-branch", "fromBranch", p);
        return call(env, a, Op.BRANCH_CREATE, p, out);
      }
      case "list" -> {
        Args a = Args.parse(cmd, rest, Set.of(), Set.of());
        a.none(cmd);
        return call(env, a, Op.BRANCH_LIST, params(), out);
      }
      case "delete" -> {
        Args a = Args.parse(cmd, rest, Set.of(), Set.of("--force"));
        Map<String, String> p = params("name", a.one(cmd, "NAME"),
            "force", a.flags.contains("--force") ? "1" : "0");
        return call(env, a, Op.BRANCH_DELETE, p, out);
      }
      case "bind" -> {
        Args a = Args.parse(cmd, rest, Set.of("--pid"), Set.of());
        String branch = a.one(cmd, "BRANCH");
        return call(env, a, Op.BIND, params("pid", a.pid(cmd, null), "branch", branch), out);
      }
      case "unbind" -> {
        Args a = Args.parse(cmd, rest, Set.of("--pid"), Set.of());
        a.none(cmd);
        return call(env, a, Op.UNBIND, params("pid", a.pid(cmd, null)), out);
      }
      case "show" -> {
        Args a = Args.parse(cmd, rest, Set.of("--pid"), Set.of());
        a.none(cmd);
        return call(env, a, Op.SHOW, params("pid", a.pid(cmd, env.parentPid())), out);
      }
      case "diff" -> {
        return diff(cmd, rest, out, env);
      }
      case "commit" -> {
        Args a = Args.parse(cmd, rest, Set.of("--into"), Set.of("--to-workspace", "--dry-run"));
        Map<String, String> p = params("branch", a.one(cmd, "BRANCH"));
        if (a.opts.containsKey("--into") && a.flags.contains("--to-workspace")) {
          throw new UsageException(cmd + " takes --into TARGET or --to-workspace, not both");
        }
        a.opt("--into", "target", p);
        p.put("lower", a.flags.contains("--to-workspace") ? "1" : "0");
        p.put("dryRun", a.flags.contains("--dry-run") ? "1" : "0");
        return call(env, a, Op.COMMIT, p, out);
      }
      case "exec" -> {
        return exec(cmd, rest, env);
      }
      case "reset" -> {
        Args a = Args.parse(cmd, rest, Set.of("--to"), Set.of());
        String to = a.opts.get("--to");
        if (to == null) {
          throw new UsageException(cmd + " needs --to SNAPSHOT");
        }
        return call(env, a, Op.RESET, params("branch", a.one(cmd, "BRANCH"), "to", to), out);
      }
      case "restore" -> {
        Args a = Args.parse(cmd, rest, Set.of("--from"), Set.of());
        String from = a.opts.get("--from");
        if (from == null || a.positional.size() != 2) {
          throw new UsageException(cmd + " needs BRANCH PATH --from SNAPSHOT");
        }
        return call(env, a, Op.RESTORE, params("branch", a.positional.get(0),
            "path", a.positional.get(1), "from", from), out);
      }
      case "default" -> {
        Args a = Args.parse(cmd, rest, Set.of(), Set.of());
        return call(env, a, Op.SET_DEFAULT, params("branch", a.one(cmd, "BRANCH")), out);
      }
      default -> throw new UsageException("unknown branch subcommand '" + sub + "'");
    }
  }

  /**
   * {@code restore SNAP PATH [--branch B]}, the top-level spelling of {@code branch
   * restore B PATH --from SNAP}. Without --branch it restores into the branch this command's
   * parent (the shell) sees, asked of the server first, as {@code snapshot create} does.
   */
  static int restore(List<String> args, PrintStream out, Env env)
      throws UsageException, AgentFsException {
    String cmd = "restore";
    Args a = Args.parse(cmd, args, Set.of("--branch"), Set.of());
    if (a.positional.size() != 2) {
      throw new UsageException(cmd + " needs SNAPSHOT PATH");
    }
    String branch = a.opts.get("--branch");
    if (branch == null) {
      try (ControlChannel ch = env.connector().open(a.mount(cmd))) {
        String reply = ch.call(Op.SHOW, params("pid", Long.toString(env.parentPid())));
        branch = Json.stringField(reply, "branch");
        if (branch == null) {
          throw new AgentFsException(Errno.EIO, a.mount(cmd).toString(), null,
              "SHOW answered no branch: " + reply.strip());
        }
      }
    }
    return call(env, a, Op.RESTORE, params("branch", branch, "path", a.positional.get(1),
        "from", a.positional.get(0)), out);
  }

  /** {@code branch diff A B [--patch]}, also spelt {@code diff A B [--patch]} (the issue's). */
  static int diff(String cmd, List<String> rest, PrintStream out, Env env)
      throws UsageException, AgentFsException {
    Args a = Args.parse(cmd, rest, Set.of(), Set.of("--patch"));
    if (a.positional.size() != 2) {
      throw new UsageException(cmd + " needs FROM and TO (snapshots or branches)");
    }
    Map<String, String> p = params("from", a.positional.get(0), "to", a.positional.get(1));
    if (a.flags.contains("--patch")) {
      p.put("patch", "1");
    }
    return call(env, a, Op.DIFF, p, out);
  }

  /**
   * {@code branch exec --branch B -- CMD...}: exports B, then runs CMD in a private mount
   * namespace where the export is bind-mounted over the mount point, so CMD (and what it
   * starts) sees B at the usual path while everyone else still sees their own branch.
   */
  private static int exec(String cmd, List<String> rest, Env env)
      throws UsageException, AgentFsException {
    int dash = rest.indexOf("--");
    List<String> opts = dash < 0 ? rest : rest.subList(0, dash);
    Args a = Args.parse(cmd, opts, Set.of("--branch"), Set.of());
    List<String> command = new ArrayList<>(a.positional);
    if (dash >= 0) {
      if (!a.positional.isEmpty()) {
        throw new UsageException("unexpected argument '" + a.positional.get(0) + "'");
      }
      command = new ArrayList<>(rest.subList(dash + 1, rest.size()));
    }
    String branch = a.opts.get("--branch");
    if (branch == null) {
      throw new UsageException(cmd + " needs --branch BRANCH");
    }
    if (command.isEmpty()) {
      throw new UsageException(cmd + " needs a command after --");
    }
    Path mount = a.mount(cmd);
    String path;
    try (ControlChannel ch = env.connector().open(mount)) {
      String reply = ch.call(Op.EXPORT, params("branch", branch));
      path = Json.stringField(reply, "path");
      if (path == null) {
        throw new AgentFsException(Errno.EIO, mount.toString(), null,
            "EXPORT answered no path: " + reply.strip());
      }
      checkpoint(ch, branch);
    }
    List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation",
        "private", "--", "sh", "-c", EXEC_SCRIPT, path, mount.toString()));
    argv.addAll(command);
    return env.launcher().run(argv);
  }

  /**
   * Asks the server for the checkpoint its policy takes before each exec'd command (it
   * decides: nothing when checkpoints on exec are off). A server older than the CHECKPOINT
   * op answers EINVAL; the command still runs.
   */
  private static void checkpoint(ControlChannel ch, String branch) throws AgentFsException {
    try {
      ch.call(Op.CHECKPOINT, params("branch", branch));
    } catch (AgentFsException e) {
      if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOSYS) {
        throw e;
      }
    }
  }

  /** Runs {@code command} with this process's stdin, stdout and stderr. */
  static int launch(List<String> command) throws AgentFsException {
    Process p;
    try {
      p = new ProcessBuilder(command).inheritIO().start();
    } catch (IOException e) {
      throw new AgentFsException(Errno.ENOENT, command.get(0), null, e.getMessage());
    }
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      p.destroy();
      Thread.currentThread().interrupt();
      return 130;
    }
  }

  private static int call(Env env, Args a, Op op, Map<String, String> params, PrintStream out)
      throws UsageException, AgentFsException {
    Path mount = a.mount("");  // checked by parse
    try (ControlChannel ch = env.connector().open(mount)) {
      Progress shown = new Progress(ch, op);
      String reply = (System.console() != null ? shown : ch).call(op, params);
      shown.done();
      out.print(reply);
      out.flush();
    }
    return 0;
  }

  /**
   * Shows on a terminal (never when piped) how a long, paged reply is coming in: one stderr
   * line rewritten per page.
   */
  private static final class Progress implements ControlChannel {
    private final ControlChannel ch;
    private final Op op;
    private int pages;
    private long bytes;

    Progress(ControlChannel ch, Op op) {
      this.ch = ch;
      this.op = op;
    }

    @Override
    public byte[] exchange(byte[] request) throws AgentFsException {
      byte[] r = ch.exchange(request);
      pages++;
      bytes += r.length;
      if (pages > 1) {
        System.err.print("\ragentfs: " + op.name().toLowerCase(java.util.Locale.ROOT) + ": "
            + pages + " pages, " + (bytes >> 10) + " KiB");
        System.err.flush();
      }
      return r;
    }

    @Override
    public String where() {
      return ch.where();
    }

    void done() {
      if (pages > 1) {
        System.err.println();
      }
    }
  }

  private static Map<String, String> params(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** A parsed command line: --mount, the options a command takes, its positionals. */
  private static final class Args {
    final Map<String, String> opts = new HashMap<>();
    final Set<String> flags = new java.util.HashSet<>();
    final List<String> positional = new ArrayList<>();

    static Args parse(String cmd, List<String> args, Set<String> valued, Set<String> flagNames)
        throws UsageException {
      Args a = new Args();
      for (int i = 0; i < args.size(); i++) {
        String s = args.get(i);
        String name = s;
        @Nullable String inline = null;
        int eq = s.indexOf('=');
        if (s.startsWith("--") && eq > 0) {
          name = s.substring(0, eq);
          inline = s.substring(eq + 1);
        }
        if (name.equals("--mount") || valued.contains(name)) {
          String v = inline;
          if (v == null) {
            if (++i >= args.size()) {
              throw new UsageException(name + " needs a value");
            }
            v = args.get(i);
          }
          if (a.opts.put(name, v) != null) {
            throw new UsageException(name + " given twice");
          }
        } else if (flagNames.contains(s)) {
          a.flags.add(s);
        } else if (s.startsWith("-") && s.length() > 1) {
          throw new UsageException(cmd + ": unknown option '" + s + "'");
        } else {
          a.positional.add(s);
        }
      }
      a.mount(cmd); // every control command needs it: say so first
      return a;
    }

    Path mount(String cmd) throws UsageException {
      String m = opts.get("--mount");
      if (m == null || m.isEmpty()) {
        throw new UsageException(cmd + ": --mount MOUNTPOINT is required");
      }
      return Path.of(m).toAbsolutePath();
    }

    String one(String cmd, String what) throws UsageException {
      if (positional.size() != 1) {
        throw new UsageException(cmd + (positional.isEmpty() ? " needs " + what
            : " takes one " + what + ", got " + positional.size() + " arguments"));
      }
      return positional.get(0);
    }

    void none(String cmd) throws UsageException {
      if (!positional.isEmpty()) {
        throw new UsageException(cmd + ": unexpected argument '" + positional.get(0) + "'");
      }
    }

    void opt(String flag, String key, Map<String, String> p) {
      String v = opts.get(flag);
      if (v != null) {
        p.put(key, v);
      }
    }

    String pid(String cmd, @Nullable Long dflt) throws UsageException {
      String v = opts.get("--pid");
      if (v == null) {
        if (dflt == null) {
          throw new UsageException(cmd + " needs --pid PID");
        }
        return Long.toString(dflt);
      }
      try {
        long p = Long.parseLong(v);
        if (p > 0 && p <= Integer.MAX_VALUE) {
          return Long.toString(p);
        }
      } catch (NumberFormatException e) {
        // fall through
      }
      throw new UsageException("--pid needs a process id, not '" + v + "'");
    }
  }
}
