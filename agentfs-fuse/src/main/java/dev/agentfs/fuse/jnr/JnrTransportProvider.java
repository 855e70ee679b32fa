package dev.agentfs.fuse.jnr;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.spi.TransportProvider;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import org.jspecify.annotations.Nullable;

/**
 * The "jnr" transport: libfuse2's high-level API through jnr-fuse. It runs wherever jnr-fuse
 * finds a FUSE 2 library (libfuse.so.2 on Linux, macFUSE on macOS, WinFsp on Windows) and,
 * unlike the "kernel" transport, does not need CAP_SYS_ADMIN when libfuse2's setuid
 * {@code fusermount} helper is installed.
 *
 * <p>What libfuse2 cannot do is refused at mount with ENOTSUP and a message, never silently
 * dropped: {@link dev.agentfs.Passthrough} other than OFF and
 * {@link dev.agentfs.Feature#WRITEBACK_CACHE}. {@link Configuration#maxWrite()} is clamped to
 * libfuse2's 128 KiB. The kernel keeps no attribute or entry cache (timeouts are forced to 0,
 * since the high-level API cannot invalidate), so changes made through the Java API are seen
 * at once; {@link Configuration#entryTimeout()} and {@link Configuration#attrTimeout()} are
 * not used. {@link Configuration#threads()} of 1 runs libfuse single-threaded; otherwise
 * libfuse2 sizes its own worker pool.
 *
 * @since 0.1
 */
public final class JnrTransportProvider implements TransportProvider {
  private static volatile @Nullable String reason;
  private static volatile boolean probed;

  /** The one libfuse2 symbol the probe needs; it also tells libfuse 2 from 3. */
  public interface LibFuseProbe {
    int fuse_version();
  }

  @Override
  public String name() {
    return "jnr";
  }

  @Override
  public @Nullable String unavailableReason() {
    if (!probed) {
      reason = probe();
      probed = true;
    }
    return reason;
  }

  @Override
  public MountHandle mount(Vfs vfs, Path mountPoint, Configuration config)
      throws AgentFsException {
    return JnrMount.mount(vfs, mountPoint, config);
  }

  /** Why libfuse2 cannot be used here, or null when it can. */
  static @Nullable String probe() {
    Platform.OS os = Platform.getNativePlatform().getOS();
    switch (os) {
      case DARWIN:
        for (String lib : new String[] {"fuse4x", "osxfuse", "macfuse", "fuse"}) {
          if (load(lib, "/usr/local/lib/") != null) {
            return null;
          }
        }
        return "macFUSE not found (libfuse.2.dylib / libosxfuse): install macFUSE from "
            + "https://osxfuse.github.io";
      case WINDOWS: {
        String lib = System.getProperty("jnr-fuse.windows.libpath",
            ru.serce.jnrfuse.utils.WinPathUtils.getWinFspPath());
        return load(lib, null) != null ? null
            : "WinFsp not found (" + lib + "): install WinFsp from https://winfsp.dev";
      }
      default:
        break;
    }
    LibFuseProbe lib = load("fuse", null);
    if (lib == null) {
      lib = load("libfuse.so.2", null);
    }
    if (lib == null) {
      return "libfuse.so.2 not found: apt-get install libfuse2 (or run scripts/setup.sh)";
    }
    int version;
    try {
      version = lib.fuse_version();
    } catch (RuntimeException | LinkageError e) {
      return "the loaded libfuse has no fuse_version(): install libfuse2 (apt-get install "
          + "libfuse2)";
    }
    if (version >= 30) {
      return "found libfuse " + version / 10 + "." + version % 10 + " but jnr-fuse needs "
          + "libfuse 2 (libfuse.so.2): apt-get install libfuse2";
    }
    if (os == Platform.OS.LINUX) {
      if (!Files.exists(Path.of("/dev/fuse"))) {
        return "/dev/fuse is missing (modprobe fuse, or run the container with "
            + "--device /dev/fuse)";
      }
      if (!isRoot() && !onPath("fusermount")) {
        return "libfuse2 mounts as a non-root user only through its setuid helper fusermount, "
            + "which is missing: install the 'fuse' package (it replaces fuse3 on Debian), or "
            + "run as root";
      }
    }
    return null;
  }

  private static @Nullable LibFuseProbe load(String name, @Nullable String searchPath) {
    try {
      LibraryLoader<LibFuseProbe> l = LibraryLoader.create(LibFuseProbe.class).failImmediately();
      if (searchPath != null) {
        l.search(searchPath);
      }
      return l.load(name);
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  private static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          String[] f = line.substring(4).trim().split("\\s+");
          return f.length > 1 && f[1].equals("0");
        }
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      path = "/usr/bin:/bin:/usr/sbin:/sbin";
    }
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/bin", tool));
  }
}
