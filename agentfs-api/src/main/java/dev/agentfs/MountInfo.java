package dev.agentfs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One AgentFS mount on this machine as {@link Mounts#list()} finds it: where it is, whether
 * its server still answers, and (when it does, through the mount's control file) what it
 * serves. Facts the server could not be asked for are null or empty, and {@code detail} says
 * why. {@link #toJson()} is what {@code agentfs mounts} prints.
 *
 * @param mountPoint where the mount is, as this process sees it
 * @param health whether the server answers
 * @param kind what the mount serves
 * @param source the mount's source in the mount table (its fsname)
 * @param serverPid the process serving it, 0 when unknown
 * @param store the backstore, e.g. {@code memory} or {@code hostfs:/var/agentfs}
 * @param lower the overlay's host workspace, null when not an overlay
 * @param defaultBranch what processes bound to no branch see
 * @param branches every branch of the filesystem behind the mount
 * @param bound processes bound to a branch at this mount: pid to branch
 * @param snapshot the snapshot a {@link Kind#SNAPSHOT} mount shows, when known
 * @param detail why some facts are missing, or null
 * @since 0.1
 */
public record MountInfo(Path mountPoint, Health health, Kind kind, String source,
    long serverPid, @Nullable String store, @Nullable String lower,
    @Nullable String defaultBranch, List<String> branches, Map<Integer, String> bound,
    @Nullable String snapshot, @Nullable String detail) {

  /** Whether the mount's server answers. */
  public enum Health {
    /** The server answers requests. */
    ALIVE,
    /** The server is gone (ENOTCONN): {@link Mounts#unmountStale()} may detach it. */
    STALE,
    /** The server did not answer in time, or the mount could not be checked (EACCES). */
    UNREACHABLE
  }

  /** What a mount serves. */
  public enum Kind {
    /** A filesystem mount: the default branch, and each bound process's branch. */
    MOUNT,
    /** One branch exported for {@code branch exec}. */
    EXPORT,
    /** One snapshot, read-only. */
    SNAPSHOT,
    /** Not known: the server did not say. */
    UNKNOWN
  }

  public MountInfo {
    branches = List.copyOf(branches);
    bound = Map.copyOf(bound);
  }

  /** A mount known only from the mount table and its health. */
  public static MountInfo bare(Path mountPoint, Health health, Kind kind, String source,
      @Nullable String snapshot, @Nullable String detail) {
    return new MountInfo(mountPoint, health, kind, source, 0, null, null, null, List.of(),
        Map.of(), snapshot, detail);
  }

  /** The facts as one JSON object: names in lower camel case, absent facts left out. */
  public Map<String, Object> toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("mountpoint", mountPoint.toString());
    o.put("health", health.name().toLowerCase(java.util.Locale.ROOT));
    o.put("kind", kind.name().toLowerCase(java.util.Locale.ROOT));
    o.put("source", source);
    if (serverPid > 0) {
      o.put("pid", serverPid);
    }
    putIf(o, "store", store);
    putIf(o, "lower", lower);
    putIf(o, "snapshot", snapshot);
    putIf(o, "defaultBranch", defaultBranch);
    if (health == Health.ALIVE && kind != Kind.SNAPSHOT && defaultBranch != null) {
      o.put("branches", branches);
      List<Object> b = new ArrayList<>();
      new TreeMap<>(bound).forEach((pid, branch) -> {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("pid", pid);
        e.put("branch", branch);
        b.add(e);
      });
      o.put("bound", b);
    }
    putIf(o, "detail", detail);
    return o;
  }

  private static void putIf(Map<String, Object> o, String k, @Nullable Object v) {
    if (v != null) {
      o.put(k, v);
    }
  }
}
