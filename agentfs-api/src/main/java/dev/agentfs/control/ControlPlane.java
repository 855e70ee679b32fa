package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.CommitResult;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.vfs.Caller;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The operations of the control plane, one implementation behind three front doors (the Java
 * API, the control file inside a mount, the CLI). {@code caller} is who asks: binding another
 * process or deleting a branch needs the uid of that process or root (EPERM otherwise).
 *
 * @since 0.1
 */
public interface ControlPlane {
  /** A snapshot or branch as listed: name, and key facts as strings (for JSON output). */
  record Item(String name, Map<String, Object> facts) {}

  void snapshotCreate(Caller caller, @Nullable String branch, String name)
      throws AgentFsException;

  List<Item> snapshotList(Caller caller) throws AgentFsException;

  void snapshotDelete(Caller caller, String name) throws AgentFsException;

  /** A branch from a snapshot ({@code fromSnapshot}) or from a branch's current state. */
  void branchCreate(Caller caller, String name, @Nullable String fromSnapshot,
      @Nullable String fromBranch) throws AgentFsException;

  List<Item> branchList(Caller caller) throws AgentFsException;

  /** EBUSY while processes are bound to it, unless {@code force}. */
  void branchDelete(Caller caller, String name, boolean force) throws AgentFsException;

  /** Binds {@code pid} (and the processes it starts) to {@code branch} on this mount. */
  void bind(Caller caller, int pid, String branch) throws AgentFsException;

  void unbind(Caller caller, int pid) throws AgentFsException;

  /** The branch {@code pid} sees (bound directly, through an ancestor, or the default). */
  String branchOf(Caller caller, int pid) throws AgentFsException;

  List<TreeDiff.Change> diff(Caller caller, String from, String to) throws AgentFsException;

  /** Commits onto {@code target}, or onto the overlay's workspace when {@code toLower}. */
  CommitResult commit(Caller caller, String branch, @Nullable String target, boolean toLower,
      boolean dryRun) throws AgentFsException;

  /**
   * Mounts {@code branch} alone, with full kernel caching, at a private directory and returns
   * it; {@code branch exec} bind-mounts it over the workspace path in a private namespace.
   */
  Path export(Caller caller, String branch) throws AgentFsException;

  /** A unified diff ({@code diff -u}) of the text files that differ. */
  default String patch(Caller caller, String from, String to) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, from, null, "patch not supported");
  }

  /** Resets {@code branch} to snapshot {@code to} in place (rollback). */
  default void reset(Caller caller, String branch, String to) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, branch, null, "reset not supported");
  }

  /** Restores one path of {@code branch} from snapshot {@code from}. */
  default void restore(Caller caller, String branch, String from, String path)
      throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, branch, null, "restore not supported");
  }

  /**
   * What this mount is, for discovery ({@code agentfs mounts}): the server's pid, store,
   * default branch, branches, bound processes and so on, as JSON-ready values
   * (docs/control-protocol.md lists the keys).
   */
  default Map<String, Object> info(Caller caller) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, "info", null, "info not supported");
  }

  /**
   * Takes an automatic checkpoint of {@code branch} now, as the mount's checkpoint policy
   * says (nothing when the policy does not checkpoint on exec, or when the branch did not
   * change since its last checkpoint), and prunes by the retention policy. Returns what
   * happened: {@code branch}, {@code checkpoint} (the newest checkpoint's name or null),
   * {@code created}, {@code pruned} (names deleted).
   */
  default Map<String, Object> checkpoint(Caller caller, String branch) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, branch, null,
        "checkpoints not supported");
  }

  /**
   * Mounts snapshot {@code name} read-only at {@code path} (a directory as the server sees
   * it); the mount lives as long as the server or until it is unmounted.
   */
  default void mountSnapshot(Caller caller, String name, Path path) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, name, null,
        "snapshot mounts not supported");
  }

  /** Switches what unbound processes see at this mount, without remounting. */
  default void setDefault(Caller caller, String branch) throws AgentFsException {
    throw new AgentFsException(dev.agentfs.Errno.ENOSYS, branch, null, "not supported");
  }
}
