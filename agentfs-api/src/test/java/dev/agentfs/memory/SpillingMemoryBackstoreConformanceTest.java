package dev.agentfs.memory;

import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance kit with a zero spill threshold, so every chunk lives in the spill file and
 * the whole contract is exercised through the file-backed path too.
 */
class SpillingMemoryBackstoreConformanceTest extends AbstractBackstoreConformanceTest {
  @TempDir Path spill;

  @Override
  protected Backstore newBackstore() {
    return MemoryBackstore.builder().chunkSize(4096).spillDirectory(spill).spillThreshold(0).build();
  }

  @Override
  protected Backstore newBoundedBackstore(long capacity) {
    return MemoryBackstore.builder()
        .chunkSize(4096)
        .capacity(capacity)
        .spillDirectory(spill)
        .spillThreshold(0)
        .build();
  }

  @Override
  protected int modelOperations() {
    return 1500;
  }
}
