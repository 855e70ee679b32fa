package dev.agentfs.hostfs;

import dev.agentfs.spi.AbstractBackstoreConformanceTest;
import dev.agentfs.spi.Backstore;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backstore conformance kit on the build machine's own filesystem in COPY mode (ext4 has no
 * reflink), with a small descriptor cache so eviction runs all the time.
 *
 * <p>One kit case is disabled: {@code copyOfLargeFileSharesStorage} demands that a copy share
 * storage, which one-host-file-per-content can only do by reflink; {@link
 * XfsReflinkConformanceTest} runs the whole kit, that case included, on XFS. The bounded
 * (ENOSPC) cases are skipped by the kit itself (no {@code newBoundedBackstore}): a 1 MiB store
 * cannot hold a byte copy of 768 KiB; {@code HostFsEnospcTest} checks ENOSPC on a small tmpfs.
 */
@ExtendWith(HostFsBackstoreConformanceTest.NeedsReflink.class)
class HostFsBackstoreConformanceTest extends AbstractBackstoreConformanceTest {
  @TempDir Path dir;

  @Override
  protected Backstore newBackstore() throws Exception {
    return HostFsBackstore.builder()
        .maxOpenFiles(8)
        .cloneMode(HostFsBackstore.CloneMode.COPY)
        .open(dir.resolve("store"));
  }

  /** Disables the kit cases that only a sharing (reflink) copy can pass. */
  static final class NeedsReflink implements ExecutionCondition {
    private static final Set<String> SHARING = Set.of("copyOfLargeFileSharesStorage");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context
          .getTestMethod()
          .filter(m -> SHARING.contains(m.getName()))
          .map(
              m ->
                  ConditionEvaluationResult.disabled(
                      "usedBytes counts a copy's bytes again: a byte copy (COPY mode), or a reflinked extent"
                          + " counted once per file; XfsReflinkConformanceTest checks sharing"))
          .orElse(ConditionEvaluationResult.enabled("runs in COPY mode"));
    }
  }
}
