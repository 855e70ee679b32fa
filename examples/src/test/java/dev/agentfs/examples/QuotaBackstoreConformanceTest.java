package dev.agentfs.examples;

import dev.agentfs.Backstores;
import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;

/** The CustomBackstore example meets the same contract as the backstores that ship. */
class QuotaBackstoreConformanceTest extends AbstractBackstoreConformanceTest {
  @Override
  protected Backstore newBackstore() {
    return new CustomBackstore.QuotaBackstore(Backstores.memory(), Long.MAX_VALUE, l -> { });
  }

  @Override
  protected Backstore newBoundedBackstore(long capacity) {
    return new CustomBackstore.QuotaBackstore(Backstores.memory(), capacity, l -> { });
  }
}
