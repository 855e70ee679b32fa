package dev.agentfs.memory;

import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;

/**
 * The conformance kit with 512-byte chunks, so that every test crosses many chunk and leaf
 * boundaries (a leaf holds 1024 chunks, i.e. 512 KiB here).
 */
class SmallChunkMemoryBackstoreConformanceTest extends AbstractBackstoreConformanceTest {
  @Override
  protected Backstore newBackstore() {
    return MemoryBackstore.builder().chunkSize(512).build();
  }

  @Override
  protected Backstore newBoundedBackstore(long capacity) {
    return MemoryBackstore.builder().chunkSize(512).capacity(capacity).build();
  }
}
