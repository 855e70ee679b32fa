package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import java.util.Set;

/**
 * Where file content lives. A backstore hands out {@link Content} objects, reports capacity for
 * statfs, and declares optional {@link BackstoreFeature}s the builder and control plane can
 * query (durability, host file descriptors for kernel passthrough, reflink clones).
 *
 * <p>To write one: implement this interface and {@link Content}, then run the backstore
 * conformance kit ({@code AbstractBackstoreConformanceTest} in the agentfs-api test-jar) against
 * it. Register a {@link BackstoreProvider} in {@code META-INF/services} to make it selectable by
 * name from the CLI.
 */
public interface Backstore extends AutoCloseable {
  /** A short name for logs and JSON output, e.g. "memory" or "hostfs:/var/agentfs". */
  String name();

  Set<BackstoreFeature> features();

  /** A new, empty content object. */
  Content newContent() throws AgentFsException;

  /** Total bytes this backstore may hold ({@link Long#MAX_VALUE} when unbounded). */
  long capacityBytes();

  /** Bytes currently in use by content objects. */
  long usedBytes();

  /** Bytes still available to new data. */
  default long availableBytes() {
    return Math.max(0, capacityBytes() - usedBytes());
  }

  @Override
  void close();
}
