package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.CommitResult;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlFrames.Request;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.vfs.Caller;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the control file: turns one request frame into one reply frame by
 * calling a {@link ControlPlane}. Never throws: a frame it cannot parse is answered EINVAL, a
 * failure of the plane with its errno, anything else EIO. Thread-safe (FUSE workers may call
 * it concurrently). The FUSE IOCTL handler of the control file calls {@link #handle}.
 *
 * <p>Paging: the whole reply payload is computed on the first call ({@code cursor == 0}) and
 * the slice that fits one frame is returned, cut after the last complete line that fits (or,
 * for a line longer than a frame, at the frame's end), with {@link ControlFrames#FLAG_MORE}.
 * The rest is kept, per caller pid and request, for the calls that continue at
 * {@code nextCursor}. A continuation of a read-only op that is no longer kept is computed
 * again; one of a mutating op is refused with ESTALE and the op is never run twice.
 *
 * @since 0.1
 */
public final class ControlServer {
  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

  /** How many paged replies are kept for their continuation (least recently used go). */
  static final int MAX_PENDING = 32;

  private record Key(ControlPlane plane, int pid, Op op, List<Map.Entry<String, String>> params) {}

  private final Map<Key, byte[]> pending = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
      return size() > MAX_PENDING;
    }
  };

  /** The server behind {@link #handle}: continuations are kept per plane, so one suffices. */
  private static final ControlServer SHARED = new ControlServer();

  /**
   * Handles one control-file request: {@code request} is what the ioctl carried in (the whole
   * array is the frame; padding after it is ignored). Returns the reply frame, at most
   * {@link ControlFrames#FRAME_SIZE} bytes; the FUSE IOCTL reply carries exactly these bytes
   * out (the kernel copies only what the reply holds, and the client reads only
   * {@code payloadLen}). Never throws.
   */
  public static byte[] handle(Caller caller, byte[] request, ControlPlane plane) {
    return SHARED.reply(caller, request, request.length, plane);
  }

  /** {@link #reply(Caller, byte[], int, ControlPlane)} of the whole array. */
  public byte[] reply(Caller caller, byte[] request, ControlPlane plane) {
    return reply(caller, request, request.length, plane);
  }

  /**
   * Handles the request frame in the first {@code length} bytes of {@code request} with this
   * server's own memory of paged replies (tests use a fresh server; mounts share
   * {@link #handle}'s).
   */
  public byte[] reply(Caller caller, byte[] request, int length, ControlPlane plane) {
    try {
      return serve(caller, request, length, plane);
    } catch (AgentFsException e) {
      return ControlFrames.encodeError(e.errno().code(), String.valueOf(e.getMessage()));
    } catch (Exception e) {
      LOG.warn("control request failed", e);
      return ControlFrames.encodeError(Errno.EIO.code(),
          "EIO: " + ControlFrames.CONTROL + " (internal error: " + e + ")");
    }
  }

  private byte[] serve(Caller caller, byte[] request, int length, ControlPlane plane)
      throws AgentFsException {
    Request r = ControlFrames.decodeRequest(request, length);
    Map<String, String> args = ControlFrames.checkKeys(r.op(), r.params());
    Key key = new Key(plane, caller.pid(), r.op(), r.params());
    byte[] payload = null;
    if (r.cursor() != 0) {
      synchronized (pending) {
        payload = pending.get(key);
      }
      if (payload == null && r.op().mutating()) {
        throw new AgentFsException(Errno.ESTALE, ControlFrames.CONTROL, null,
            "no pending reply of " + r.op() + " to continue at " + r.cursor()
                + "; the op is not run again");
      }
    }
    if (payload == null) {
      payload = run(caller, r.op(), args, plane).getBytes(StandardCharsets.UTF_8);
    }
    int start = r.cursor();
    if (start > payload.length) {
      throw ControlFrames.invalid("cursor " + start + " past the end of the reply ("
          + payload.length + " bytes)");
    }
    int end = pageEnd(payload, start);
    boolean more = end < payload.length;
    synchronized (pending) {
      if (more) {
        pending.put(key, payload);
      } else {
        pending.remove(key);
      }
    }
    return ControlFrames.encodeReply(more ? ControlFrames.FLAG_MORE : 0, 0, end, payload, start,
        end - start);
  }

  /** Where the page starting at {@code start} ends: after the last whole line that fits. */
  static int pageEnd(byte[] payload, int start) {
    int limit = start + Math.min(ControlFrames.MAX_REPLY_PAYLOAD, payload.length - start);
    if (limit == payload.length) {
      return limit;
    }
    for (int i = limit - 1; i >= start; i--) {
      if (payload[i] == '\n') {
        return i + 1;
      }
    }
    return limit; // one line longer than a frame: the client joins the bytes
  }

  /** Runs {@code op} and returns its JSON lines. */
  private static String run(Caller caller, Op op, Map<String, String> a, ControlPlane plane)
      throws AgentFsException {
    JsonLines out = new JsonLines();
    switch (op) {
      case PING -> out.line(obj("version", ControlFrames.VERSION, "pid", caller.pid(),
          "uid", caller.uid(), "gid", caller.gid()));
      case SNAPSHOT_CREATE -> {
        String name = name(a, "name");
        String branch = optName(a, "branch");
        plane.snapshotCreate(caller, branch, name);
        Map<String, Object> o = obj("name", name);
        if (branch != null) {
          o.put("branch", branch);
        }
        out.line(o);
      }
      case SNAPSHOT_LIST -> items(out, nonNull(plane.snapshotList(caller), op));
      case SNAPSHOT_DELETE -> {
        String name = name(a, "name");
        plane.snapshotDelete(caller, name);
        out.line(obj("deleted", name));
      }
      case BRANCH_CREATE -> {
        String name = name(a, "name");
        String from = optName(a, "from");
        String fromBranch = optName(a, "fromBranch");
        if ((from == null) == (fromBranch == null)) {
          throw ControlFrames.invalid("BRANCH_CREATE needs exactly one of 'from', 'fromBranch'");
        }
        plane.branchCreate(caller, name, from, fromBranch);
        Map<String, Object> o = obj("name", name);
        o.put(from != null ? "from" : "fromBranch", from != null ? from : fromBranch);
        out.line(o);
      }
      case BRANCH_LIST -> items(out, nonNull(plane.branchList(caller), op));
      case BRANCH_DELETE -> {
        String name = name(a, "name");
        boolean force = flag(a, "force");
        plane.branchDelete(caller, name, force);
        out.line(obj("deleted", name, "force", force));
      }
      case BIND -> {
        int pid = pid(a);
        String branch = name(a, "branch");
        plane.bind(caller, pid, branch);
        out.line(obj("pid", pid, "branch", branch));
      }
      case UNBIND -> {
        int pid = pid(a);
        plane.unbind(caller, pid);
        out.line(obj("pid", pid, "unbound", true));
      }
      case SHOW -> {
        int pid = pid(a);
        out.line(obj("pid", pid, "branch", nonNull(plane.branchOf(caller, pid), op)));
      }
      case DIFF -> {
        if (flag(a, "patch")) {
          out.line(obj("patch", nonNull(plane.patch(caller, name(a, "from"), name(a, "to")),
              op)));
        } else {
          for (TreeDiff.Change c : nonNull(plane.diff(caller, name(a, "from"), name(a, "to")),
              op)) {
            out.line(change(c));
          }
        }
      }
      case COMMIT -> {
        String branch = name(a, "branch");
        String target = optName(a, "target");
        boolean lower = flag(a, "lower");
        boolean dryRun = flag(a, "dryRun");
        if (target != null && lower) {
          throw ControlFrames.invalid("COMMIT takes 'target' or 'lower=1', not both");
        }
        out.line(commit(nonNull(plane.commit(caller, branch, target, lower, dryRun), op)));
      }
      case EXPORT -> out.line(obj("path",
          nonNull(plane.export(caller, name(a, "branch")), op).toString()));
      case RESET -> {
        String branch = name(a, "branch");
        String to = name(a, "to");
        plane.reset(caller, branch, to);
        out.line(obj("branch", branch, "resetTo", to));
      }
      case RESTORE -> {
        String branch = name(a, "branch");
        String from = name(a, "from");
        String path = a.get("path");
        if (path == null || !path.startsWith("/")) {
          throw ControlFrames.invalid("RESTORE needs an absolute 'path'");
        }
        plane.restore(caller, branch, from, path);
        out.line(obj("branch", branch, "restored", path, "from", from));
      }
      case SET_DEFAULT -> {
        String branch = name(a, "branch");
        plane.setDefault(caller, branch);
        out.line(obj("default", branch));
      }
      case INFO -> out.line(nonNull(plane.info(caller), op));
      case CHECKPOINT -> out.line(nonNull(plane.checkpoint(caller, name(a, "branch")), op));
      case SNAPSHOT_MOUNT -> {
        String name = name(a, "name");
        String path = a.get("path");
        if (path == null || !path.startsWith("/")) {
          throw ControlFrames.invalid("SNAPSHOT_MOUNT needs an absolute 'path'");
        }
        plane.mountSnapshot(caller, name, java.nio.file.Path.of(path));
        out.line(obj("name", name, "path", path, "readOnly", true));
      }
      default -> throw new AgentFsException(Errno.ENOSYS, ControlFrames.CONTROL, null,
          "op " + op + " not implemented");
    }
    return out.toString();
  }

  /** A plane that answers null has a bug: EIO, not a NullPointerException deep in JSON. */
  private static <T> T nonNull(@Nullable T v, Op op) throws AgentFsException {
    if (v == null) {
      throw new AgentFsException(Errno.EIO, ControlFrames.CONTROL, null,
          "the control plane answered " + op + " with null");
    }
    return v;
  }

  private static void items(JsonLines out, List<ControlPlane.Item> items) {
    for (ControlPlane.Item it : items) {
      Map<String, Object> o = obj("name", it.name());
      for (Map.Entry<String, Object> f : it.facts().entrySet()) {
        if (!f.getKey().equals("name")) {
          o.put(f.getKey(), f.getValue());
        }
      }
      out.line(o);
    }
  }

  static Map<String, Object> change(TreeDiff.Change c) {
    Map<String, Object> o = obj("kind", c.kind().name(), "path", c.path());
    if (c.oldPath() != null) {
      o.put("from", c.oldPath());
    }
    return o;
  }

  static Map<String, Object> commit(CommitResult r) {
    List<Object> applied = new ArrayList<>();
    for (TreeDiff.Change c : r.applied()) {
      applied.add(change(c));
    }
    List<Object> conflicts = new ArrayList<>();
    for (CommitResult.Conflict c : r.conflicts()) {
      Map<String, Object> o = change(c.change());
      o.put("reason", c.reason());
      conflicts.add(o);
    }
    Map<String, Object> o = obj("branch", r.branch(), "target", r.target(),
        "dryRun", r.dryRun(), "clean", r.clean());
    o.put("applied", applied);
    o.put("conflicts", conflicts);
    return o;
  }

  private static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static String name(Map<String, String> a, String key) throws AgentFsException {
    String v = a.get(key);
    if (v == null || v.isEmpty()) {
      throw ControlFrames.invalid("'" + key + "' must not be empty");
    }
    return v;
  }

  private static @Nullable String optName(Map<String, String> a, String key)
      throws AgentFsException {
    return a.containsKey(key) ? name(a, key) : null;
  }

  private static boolean flag(Map<String, String> a, String key) throws AgentFsException {
    String v = a.getOrDefault(key, "0");
    return switch (v) {
      case "0" -> false;
      case "1" -> true;
      default -> throw ControlFrames.invalid("'" + key + "' must be 0 or 1, not '" + v + "'");
    };
  }

  private static int pid(Map<String, String> a) throws AgentFsException {
    String v = a.getOrDefault("pid", "");
    if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      throw ControlFrames.invalid("'pid' must be a positive decimal number, not '" + v + "'");
    }
    long p = Long.parseLong(v);
    if (p <= 0 || p > Integer.MAX_VALUE) {
      throw ControlFrames.invalid("'pid' out of range: " + v);
    }
    return (int) p;
  }
}
