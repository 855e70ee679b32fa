package dev.agentfs.fuse;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.MountInfo;
import dev.agentfs.MountInfo.Health;
import dev.agentfs.MountInfo.Kind;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.JsonReader;
import dev.agentfs.fuse.session.MountTable;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import dev.agentfs.spi.MountDiscovery;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Finds AgentFS mounts in /proc/self/mountinfo (file system type {@code fuse.agentfs}, or any
 * FUSE type whose source is AgentFS's default {@code agentfs} or {@code agentfs-snapshot...},
 * for mounts made with another {@code subtype=}) and
 * asks each how it is: statfs tells a live server from a dead one (ENOTCONN: the process that
 * served it died and left the mount behind), and the control file's INFO request fills in the
 * store, branches and bound processes. Every mount is probed on its own daemon thread and
 * waited for at most {@value #DEFAULT_TIMEOUT_MS} ms (system property {@value
 * #TIMEOUT_PROPERTY}), so a hung server makes its mount UNREACHABLE instead of hanging the
 * caller; the probe thread stays blocked in the kernel until that server answers or dies.
 * Registered for {@link java.util.ServiceLoader} as the {@link MountDiscovery} of
 * {@link dev.agentfs.Mounts}.
 *
 * @since 0.1
 */
public final class KernelMountDiscovery implements MountDiscovery {
  /** The system property that sets the probe timeout, in milliseconds. */
  public static final String TIMEOUT_PROPERTY = "agentfs.discovery.timeoutMs";
  static final long DEFAULT_TIMEOUT_MS = 3000;
  /** The file system type AgentFS mounts have in the mount table. */
  public static final String FSTYPE = "fuse.agentfs";

  private final Syscalls sys;
  private final long timeoutMs;

  /** With the timeout of {@value #TIMEOUT_PROPERTY}, default {@value #DEFAULT_TIMEOUT_MS} ms. */
  public KernelMountDiscovery() {
    this(Duration.ofMillis(Long.getLong(TIMEOUT_PROPERTY, DEFAULT_TIMEOUT_MS)));
  }

  /** Waits at most {@code probeTimeout} for the mounts' servers to answer. */
  public KernelMountDiscovery(Duration probeTimeout) {
    this(JnrSyscalls.get(), probeTimeout);
  }

  KernelMountDiscovery(Syscalls sys, Duration probeTimeout) {
    if (probeTimeout.isNegative() || probeTimeout.isZero()) {
      throw new IllegalArgumentException("probe timeout must be positive: " + probeTimeout);
    }
    this.sys = sys;
    this.timeoutMs = probeTimeout.toMillis();
  }

  @Override
  public List<MountInfo> list() throws AgentFsException {
    List<MountTable.Entry> entries = topmost(MountTable.read());
    if (entries.isEmpty()) {
      return List.of();
    }
    long timeout = timeoutMs;
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(entries.size(), 16), r -> {
      Thread t = new Thread(r, "agentfs-mount-probe");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Callable<MountInfo>> probes = new ArrayList<>();
      for (MountTable.Entry e : entries) {
        probes.add(() -> probe(e));
      }
      List<Future<MountInfo>> done;
      try {
        done = pool.invokeAll(probes, timeout, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AgentFsException(Errno.EINTR, "mounts", null, "interrupted");
      }
      List<MountInfo> out = new ArrayList<>();
      for (int i = 0; i < entries.size(); i++) {
        out.add(result(entries.get(i), done.get(i), timeout));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static MountInfo result(MountTable.Entry e, Future<MountInfo> f, long timeout) {
    try {
      return f.get();
    } catch (CancellationException x) {
      return MountInfo.bare(e.mountPoint(), Health.UNREACHABLE, kindOf(e.source()),
          e.source(), snapshotOf(e.source()), "no answer within " + timeout + " ms");
    } catch (ExecutionException x) {
      return MountInfo.bare(e.mountPoint(), Health.UNREACHABLE, kindOf(e.source()),
          e.source(), snapshotOf(e.source()), "probe failed: " + x.getCause());
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      return MountInfo.bare(e.mountPoint(), Health.UNREACHABLE, kindOf(e.source()),
          e.source(), snapshotOf(e.source()), "interrupted");
    }
  }

  /** AgentFS mounts, one per mount point: only the topmost is reachable by its path. */
  static List<MountTable.Entry> topmost(List<MountTable.Entry> table) {
    Map<Path, MountTable.Entry> top = new LinkedHashMap<>();
    for (MountTable.Entry e : table) {
      top.remove(e.mountPoint()); // later lines are mounted on top: keep their order
      top.put(e.mountPoint(), e);
    }
    List<MountTable.Entry> out = new ArrayList<>();
    for (MountTable.Entry e : top.values()) {
      if (isAgentFs(e)) {
        out.add(e);
      }
    }
    return out;
  }

  /** Our type, or (a mount made with another subtype) a FUSE mount with our source. */
  static boolean isAgentFs(MountTable.Entry e) {
    return e.fsType().equals(FSTYPE) || e.isFuse() && (e.source().equals("agentfs")
        || e.source().startsWith(AgentFs.SNAPSHOT_SOURCE));
  }

  private MountInfo probe(MountTable.Entry e) {
    Path mp = e.mountPoint();
    Kind kind = kindOf(e.source());
    String snapshot = snapshotOf(e.source());
    int r = sys.statfs(mp.toString());
    if (r == -Syscalls.ENOTCONN || r == -Syscalls.ECONNABORTED) {
      return MountInfo.bare(mp, Health.STALE, kind, e.source(), snapshot,
          "the server is gone: " + sys.strerror(-r));
    }
    if (r < 0) {
      return MountInfo.bare(mp, Health.UNREACHABLE, kind, e.source(), snapshot,
          "statfs: " + sys.strerror(-r));
    }
    if (kind == Kind.SNAPSHOT) {
      return MountInfo.bare(mp, Health.ALIVE, kind, e.source(), snapshot, null);
    }
    try (ControlClient c = ControlClient.open(mp, sys)) {
      return fromInfo(mp, e.source(), JsonReader.objects(c.call(Op.INFO, Map.of())));
    } catch (AgentFsException x) {
      if (x.errno() == Errno.ENOTCONN) {
        return MountInfo.bare(mp, Health.STALE, kind, e.source(), snapshot,
            "the server is gone: " + x.getMessage());
      }
      // statfs answered: the server is there, only its details are not to be had.
      return MountInfo.bare(mp, Health.ALIVE, Kind.UNKNOWN, e.source(), snapshot,
          "no control-plane details: " + x.getMessage());
    }
  }

  /** A MountInfo from the INFO reply (docs/control-protocol.md). */
  static MountInfo fromInfo(Path mp, String source, List<Map<String, Object>> lines)
      throws AgentFsException {
    if (lines.size() != 1) {
      throw new AgentFsException(Errno.EIO, mp.toString(), null,
          "INFO answered " + lines.size() + " lines");
    }
    Map<String, Object> o = lines.get(0);
    Kind kind = "export".equals(o.get("kind")) ? Kind.EXPORT : Kind.MOUNT;
    List<String> branches = new ArrayList<>();
    if (o.get("branches") instanceof List<?> l) {
      for (Object b : l) {
        branches.add(String.valueOf(b));
      }
    }
    Map<Integer, String> bound = new LinkedHashMap<>();
    if (o.get("bound") instanceof List<?> l) {
      for (Object b : l) {
        if (b instanceof Map<?, ?> m && m.get("pid") instanceof Long pid) {
          bound.put(pid.intValue(), String.valueOf(m.get("branch")));
        }
      }
    }
    long pid = o.get("pid") instanceof Long p ? p : 0;
    return new MountInfo(mp, Health.ALIVE, kind, source, pid, text(o, "store"),
        text(o, "lower"), text(o, "defaultBranch"), branches, bound, null, null);
  }

  private static @Nullable String text(Map<String, Object> o, String k) {
    Object v = o.get(k);
    return v == null ? null : v.toString();
  }

  static Kind kindOf(String source) {
    return source.equals(AgentFs.SNAPSHOT_SOURCE)
        || source.startsWith(AgentFs.SNAPSHOT_SOURCE + ":") ? Kind.SNAPSHOT : Kind.UNKNOWN;
  }

  static @Nullable String snapshotOf(String source) {
    String p = AgentFs.SNAPSHOT_SOURCE + ":";
    return source.startsWith(p) ? source.substring(p.length()) : null;
  }

  /**
   * Detaches the mount at {@code mountPoint} when it is an AgentFS mount and, checked again
   * now, its server is gone; a live mount, or one of another file system, is left alone.
   */
  @Override
  public boolean unmountStale(Path mountPoint) throws AgentFsException {
    MountTable.Entry e = MountTable.at(mountPoint);
    if (e == null || !isAgentFs(e)) {
      return false;
    }
    return KernelMounts.unmountStale(mountPoint);
  }
}
