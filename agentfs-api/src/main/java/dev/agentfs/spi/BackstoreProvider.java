package dev.agentfs.spi;

import dev.agentfs.AgentFsException;

/**
 * Creates backstores from a textual spec such as {@code memory} or {@code hostfs:/path}, found
 * with {@link java.util.ServiceLoader} so the CLI and configuration files can name third-party
 * backstores.
 *
 * @since 0.1
 */
public interface BackstoreProvider {
  /** The scheme before the first ':' in a spec, e.g. "memory" or "hostfs". */
  String scheme();

  /** Opens a backstore for {@code argument}, the part of the spec after the scheme and ':'. */
  Backstore open(String argument) throws AgentFsException;
}
