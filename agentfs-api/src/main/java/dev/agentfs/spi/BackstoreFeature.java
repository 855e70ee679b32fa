package dev.agentfs.spi;

/**
 * Optional capabilities a {@link Backstore} declares.
 *
 * @since 0.1
 */
public enum BackstoreFeature {
  /** Content survives a restart of the JVM. */
  DURABLE,
  /** Content objects are real host files whose descriptors can back kernel passthrough. */
  HOST_FILES,
  /** {@link Content#copy()} is a reflink/clone, not a chunk copy. */
  NATIVE_CLONE,
  /** Capacity is bounded; writes past it fail with ENOSPC. */
  BOUNDED
}
