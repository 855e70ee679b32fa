package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The ext4-oracle suites ({@link MountErrnoTest}: the errno script as root and as uid 4242;
 * {@link MountLimitsTest}: RLIMIT_FSIZE and CAP_MKNOD) rerun on the configurations whose
 * kernel paths differ most from the default memory mount: HostFs with passthrough (reads and
 * writes go straight to the backing ext4 file, never to the server) and the writeback cache
 * (the kernel owns sizes, positions and dirty pages), and the errno script on an overlay.
 * Every line must still match ext4.
 */
class MountConformanceMatrixTest {
  private static void hostfsPassthrough(AgentFs.Builder b, Path tmp) {
    try {
      b.backstore(HostFsBackstore.open(tmp.resolve("store"))).passthrough(Passthrough.REQUIRED);
    } catch (AgentFsException e) {
      throw new IllegalStateException("cannot open the HostFs store under " + tmp, e);
    }
  }

  private static void writeback(AgentFs.Builder b) {
    b.enable(Feature.WRITEBACK_CACHE);
  }

  @Nested
  class ErrnoOnHostFsPassthrough extends MountErrnoTest {
    @Override
    void configure(AgentFs.Builder b) {
      hostfsPassthrough(b, tmp);
    }

    @Test
    void passthroughIsReallyOn() {
      assertTrue(m.handle().grantedFeatures().contains("PASSTHROUGH"),
          m.handle().grantedFeatures().toString());
    }
  }

  @Nested
  class ErrnoWithWritebackCache extends MountErrnoTest {
    @Override
    void configure(AgentFs.Builder b) {
      writeback(b);
    }

    @Test
    void writebackCacheIsReallyOn() {
      assertTrue(m.handle().grantedFeatures().contains("WRITEBACK_CACHE"),
          m.handle().grantedFeatures().toString());
    }
  }

  /** An overlay over a lower tree the script never touches: the branch logic must not leak. */
  @Nested
  class ErrnoOnOverlay extends MountErrnoTest {
    @Override
    void configure(AgentFs.Builder b) {
      try {
        Path lower = java.nio.file.Files.createDirectories(tmp.resolve("lower/kept"));
        java.nio.file.Files.writeString(lower.resolve("file"), "from the lower tree");
        b.lower(tmp.resolve("lower"));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Test
    void theLowerTreeIsServed() throws Exception {
      org.junit.jupiter.api.Assertions.assertEquals("from the lower tree",
          java.nio.file.Files.readString(m.path("kept/file")));
    }
  }

  @Nested
  class LimitsOnHostFsPassthrough extends MountLimitsTest {
    @Override
    void configure(AgentFs.Builder b) {
      hostfsPassthrough(b, tmp);
    }
  }

  @Nested
  class LimitsWithWritebackCache extends MountLimitsTest {
    @Override
    void configure(AgentFs.Builder b) {
      writeback(b);
    }
  }
}
