package dev.agentfs.junit;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.spi.MountHandle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The filesystem {@link AgentFsTest} made for a test: the {@link AgentFs}, where it is mounted
 * (if it is) and the lower workspace (if it is an overlay). Inject it as a parameter or field
 * when a test needs more than the {@code AgentFs}. The extension closes it after the test.
 */
public final class TestFs implements AutoCloseable {
  private final AgentFs fs;
  private final Path tempDir;
  private final @Nullable MountHandle mount;
  private final @Nullable Path lower;
  private final List<Runnable> onClose = new ArrayList<>();
  private boolean closed;

  TestFs(AgentFs fs, Path tempDir, @Nullable MountHandle mount, @Nullable Path lower) {
    this.fs = fs;
    this.tempDir = tempDir;
    this.mount = mount;
    this.lower = lower;
  }

  public AgentFs fs() {
    return fs;
  }

  /** The main branch (what the mount shows). */
  public Branch main() {
    return fs.main();
  }

  public boolean isMounted() {
    return mount != null;
  }

  /** Where the main branch is mounted; only with {@code mounted = true}. */
  public Path mountPoint() {
    if (mount == null) {
      throw new IllegalStateException("not mounted: use @AgentFsTest(mounted = true)");
    }
    return mount.mountPoint();
  }

  /** {@code rel} resolved inside the mount, e.g. {@code path("src/App.java")}. */
  public Path path(String rel) {
    return mountPoint().resolve(rel);
  }

  /** The lower workspace of an overlay (a generated one for {@link AgentFsTest#SAMPLE}). */
  public Optional<Path> lower() {
    return Optional.ofNullable(lower);
  }

  /**
   * A temporary host directory that lives as long as this filesystem (it also holds the mount
   * point, a hostfs backstore and a sample workspace); deleted after the test.
   */
  public Path tempDir() {
    return tempDir;
  }

  void onClose(Runnable r) {
    onClose.add(r);
  }

  /** Unmounts, closes the filesystem and deletes the temporary directory; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      for (Runnable r : onClose) {
        r.run();
      }
      if (mount != null) {
        mount.close();
      }
    } finally {
      fs.close();
      deleteTree(tempDir);
    }
  }

  @Override
  public String toString() {
    return "TestFs[" + (mount != null ? "mounted at " + mount.mountPoint() : "not mounted")
        + (lower != null ? ", lower " + lower : "") + ", " + fs.backstore().name() + "]";
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
          Files.deleteIfExists(f);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, @Nullable IOException e)
            throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + dir, e);
    }
  }
}
