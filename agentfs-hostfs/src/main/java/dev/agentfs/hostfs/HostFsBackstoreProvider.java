package dev.agentfs.hostfs;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreProvider;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Makes the host-directory backstore selectable as {@code hostfs:/path/to/dir} from the CLI and
 * configuration files. The argument is the directory, created if missing; the options are the
 * defaults of {@link HostFsBackstore.Builder}.
 *
 * @since 0.1
 */
public final class HostFsBackstoreProvider implements BackstoreProvider {
  @Override
  public String scheme() {
    return "hostfs";
  }

  @Override
  public Backstore open(String argument) throws AgentFsException {
    if (argument.isBlank()) {
      throw new AgentFsException(
          Errno.EINVAL, null, null, "hostfs needs a directory, e.g. hostfs:/var/lib/agentfs");
    }
    Path dir;
    try {
      dir = Path.of(argument);
    } catch (InvalidPathException e) {
      throw new AgentFsException(Errno.EINVAL, argument, null, "hostfs: " + e.getMessage());
    }
    return HostFsBackstore.open(dir);
  }
}
