package dev.agentfs;

import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreProvider;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Factories for the backstores that ship with AgentFS, and for any other found by its scheme
 * through {@link BackstoreProvider} ({@code memory}, {@code hostfs:/dir}, third-party ones).
 *
 * @since 0.1
 */
public final class Backstores {
  private Backstores() {}

  /** An unbounded in-memory backstore: the embedded default. */
  public static Backstore memory() {
    return MemoryBackstore.create();
  }

  /** A durable backstore in host directory {@code dir} (needs the agentfs-hostfs module). */
  public static Backstore hostFs(Path dir) throws AgentFsException {
    return open("hostfs:" + dir.toAbsolutePath());
  }

  /** Opens a backstore from a spec {@code scheme[:argument]}, e.g. {@code memory:capacity=1g}. */
  public static Backstore open(String spec) throws AgentFsException {
    int colon = spec.indexOf(':');
    String scheme = colon < 0 ? spec : spec.substring(0, colon);
    String arg = colon < 0 ? "" : spec.substring(colon + 1);
    List<String> known = new ArrayList<>();
    for (BackstoreProvider p : ServiceLoader.load(BackstoreProvider.class)) {
      known.add(p.scheme());
      if (p.scheme().equals(scheme)) {
        return p.open(arg);
      }
    }
    throw new AgentFsException(Errno.ENOSYS, spec, null,
        "no backstore '" + scheme + "' on the class path (found " + known + ")");
  }
}
