package dev.agentfs;

import dev.agentfs.spi.MountDiscovery;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Predicate;

/**
 * The AgentFS mounts of this machine, for hosts that manage many agents: which exist, which
 * still answer, what each serves, and cleaning up those whose server died. The same facts as
 * {@code agentfs mounts} and {@code agentfs unmount --stale}. Needs a {@link MountDiscovery}
 * on the class path (agentfs-fuse provides it).
 *
 * <pre>{@code
 * for (MountInfo m : Mounts.list()) {
 *   System.out.println(m.mountPoint() + " " + m.health() + " " + m.branches());
 * }
 * Mounts.unmountStale();   // detach every mount whose server is gone
 * }</pre>
 *
 * @since 0.1
 */
public final class Mounts {
  private Mounts() {}

  /** Every AgentFS mount visible to this process, each with its health and facts. */
  public static List<MountInfo> list() throws AgentFsException {
    return discovery().list();
  }

  /** Detaches every stale AgentFS mount (server gone); returns their mount points. */
  public static List<Path> unmountStale() throws AgentFsException {
    return unmountStale(p -> true);
  }

  /**
   * Detaches the stale AgentFS mounts whose mount point {@code which} accepts; returns their
   * mount points. Each is checked again right before it is detached, so a mount that came
   * back to life, or a live one mounted there meanwhile, is left alone.
   */
  public static List<Path> unmountStale(Predicate<Path> which) throws AgentFsException {
    MountDiscovery d = discovery();
    List<Path> done = new ArrayList<>();
    for (MountInfo m : d.list()) {
      if (m.health() == MountInfo.Health.STALE && which.test(m.mountPoint())
          && !done.contains(m.mountPoint()) && d.unmountStale(m.mountPoint())) {
        done.add(m.mountPoint());
      }
    }
    return done;
  }

  private static MountDiscovery discovery() throws AgentFsException {
    Iterator<MountDiscovery> it = ServiceLoader.load(MountDiscovery.class).iterator();
    if (!it.hasNext()) {
      throw new AgentFsException(Errno.ENOSYS, "mounts", null,
          "no mount discovery on the class path; add the agentfs-fuse module");
    }
    return it.next();
  }
}
