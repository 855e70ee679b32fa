package dev.agentfs.fuse;

import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Shared plumbing for tests that mount: the /dev/fuse gate (skip with a reason locally, fail
 * when CI=true), running child processes, and counting descriptors and threads.
 */
final class FuseTestSupport {
  private FuseTestSupport() {}

  /** Skips (or, with CI=true, fails) the calling test when FUSE cannot be used here. */
  static void requireFuse() {
    String reason = new KernelTransportProvider().unavailableReason();
    if (reason == null) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("CI=true but the kernel FUSE transport cannot run: " + reason);
    }
    Assumptions.abort("skipped: kernel FUSE transport unavailable: " + reason);
  }

  static Configuration config() {
    return Configuration.builder().threads(2).build();
  }

  static FuseSession mount(MemVfs vfs, Path dir) throws AgentFsException {
    return mount(vfs, dir, config());
  }

  static FuseSession mount(MemVfs vfs, Path dir, Configuration c) throws AgentFsException {
    return KernelMounts.mount(vfs, dir, c, MountOptions.defaults());
  }

  /** Result of a child process. */
  record Run(int exit, String out, String err) {}

  /** Runs a command to completion (60 s cap) and captures its output. */
  static Run run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: " + String.join(" ", cmd));
    }
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  static Run sh(String script) throws IOException, InterruptedException {
    return run("sh", "-c", script);
  }

  static int openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return (int) s.count();
    }
  }

  static List<String> fuseThreads() {
    List<String> names = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("agentfs-fuse-") && !t.getName().equals("agentfs-fuse-shutdown")
          && t.isAlive()) {
        names.add(t.getName());
      }
    }
    return names;
  }
}
