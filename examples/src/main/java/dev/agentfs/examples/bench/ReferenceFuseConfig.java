package dev.agentfs.examples.bench;

import dev.agentfs.fuse.KernelMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * libfuse's own C example server {@code passthrough_hp} over a host directory, as the yardstick
 * for what FUSE itself costs on this machine: AgentFS should beat a C passthrough, and where
 * both trail native by the same factor the gap is the kernel round trip, not our server. Not
 * part of the project: the binary is built from libfuse's example directory by whoever runs
 * the benchmark and named by the environment variable {@value #ENV}; without it this
 * configuration is left out of the default list and refused when asked for.
 */
final class ReferenceFuseConfig implements BenchConfig {
  static final String ENV = "AGENTFS_BENCH_PASSTHROUGH_HP";

  private @Nullable Process server;
  private @Nullable Path mountPoint;
  private @Nullable Path source;

  static @Nullable Path binary() {
    String b = System.getenv(ENV);
    return b == null || b.isBlank() || !Files.isExecutable(Path.of(b)) ? null : Path.of(b);
  }

  @Override
  public String name() {
    return "libfuse-hp";
  }

  @Override
  public Path setUp(Path work) throws Exception {
    Path bin = binary();
    if (bin == null) {
      throw new IllegalStateException("set " + ENV + " to a passthrough_hp binary built from "
          + "libfuse's example/passthrough_hp.cc");
    }
    Path src = work.resolve("hp-source").toAbsolutePath().normalize();
    Path mp = work.resolve("mnt-libfuse-hp").toAbsolutePath().normalize();
    Files2.deleteTree(src);
    Files.createDirectories(src);
    Files.createDirectories(mp);
    KernelMounts.unmountStale(mp);
    source = src;
    mountPoint = mp;
    server = new ProcessBuilder(List.of(bin.toString(), "--foreground", src.toString(),
        mp.toString())).redirectErrorStream(true).redirectOutput(
        ProcessBuilder.Redirect.DISCARD).start();
    // The server mounts asynchronously; the mount table says when it is there.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!mounted(mp)) {
      if (!server.isAlive() || System.nanoTime() > deadline) {
        close();
        throw new IOException("passthrough_hp did not mount at " + mp);
      }
      Thread.sleep(10);
    }
    return mp;
  }

  private static boolean mounted(Path mp) throws IOException {
    String want = " " + mp + " fuse";
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
        .anyMatch(l -> l.contains(want));
  }

  @Override
  public void close() {
    Path mp = mountPoint;
    mountPoint = null;
    if (mp != null) {
      try {
        new ProcessBuilder("umount", mp.toString()).start().waitFor(30, TimeUnit.SECONDS);
      } catch (IOException | InterruptedException e) {
        // the server's death below ends the mount
      }
    }
    Process p = server;
    server = null;
    if (p != null) {
      p.destroy();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      p.destroyForcibly();
    }
    Path src = source;
    source = null;
    if (src != null) {
      try {
        Files2.deleteTree(src);
      } catch (Exception e) {
        // left for the work-dir cleanup
      }
    }
  }
}
