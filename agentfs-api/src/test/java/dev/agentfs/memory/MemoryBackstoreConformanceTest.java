package dev.agentfs.memory;

import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;

/** The conformance kit against the memory backstore as most users get it: 64 KiB chunks. */
class MemoryBackstoreConformanceTest extends AbstractBackstoreConformanceTest {
  @Override
  protected Backstore newBackstore() {
    return MemoryBackstore.create();
  }

  @Override
  protected Backstore newBoundedBackstore(long capacity) {
    return MemoryBackstore.builder().capacity(capacity).build();
  }
}
