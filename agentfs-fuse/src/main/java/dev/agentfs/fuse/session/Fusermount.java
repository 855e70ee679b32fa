package dev.agentfs.fuse.session;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.fuse.sys.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounting and unmounting through the setuid {@code fusermount3} helper of the fuse3 package,
 * the way libfuse does it (lib/mount.c): a socket pair, the helper started with one end as
 * descriptor {@code _FUSE_COMMFD}, and the opened /dev/fuse descriptor received back as
 * SCM_RIGHTS once the helper has mounted it. The helper is started with posix_spawn rather
 * than ProcessBuilder because the JDK closes every descriptor but 0-2 in its children. What
 * the helper prints goes to a pipe and into the exception when it fails.
 *
 * @since 0.1
 */
public final class Fusermount {
  private static final Logger LOG = LoggerFactory.getLogger(Fusermount.class);
  /** The helper's name, looked up on PATH like libfuse's posix_spawnp does. */
  public static final String PROGRAM = "fusermount3";
  /** execvp's search path when PATH is unset. */
  private static final String DEFAULT_PATH = "/bin:/usr/bin";
  private static final Path FUSE_CONF = Path.of("/etc/fuse.conf");
  private static final int MAX_OUTPUT = 16 * 1024;

  private final Syscalls sys;
  private final Path program;

  Fusermount(Syscalls sys, Path program) {
    this.sys = sys;
    this.program = program;
  }

  /** The helper on this process's PATH, or null. */
  public static @Nullable Path find() {
    return find(System.getenv("PATH"));
  }

  /** The first executable {@code fusermount3} in the directories of {@code path}, or null. */
  public static @Nullable Path find(@Nullable String path) {
    String dirs = path == null ? DEFAULT_PATH : path;
    for (String dir : dirs.split(":")) {
      if (!dir.startsWith("/")) {
        continue; // empty or relative entries name the working directory: not for a mount helper
      }
      Path p = Path.of(dir, PROGRAM);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Unmounts {@code mountPoint} with umount2 ({@code lazy}: MNT_DETACH), or through {@code
   * fusermount3 -u [-z]} when umount2 is refused, as it is to a non-root owner. Returns 0 or
   * -errno (-EBUSY when the mount is in use and {@code lazy} is false).
   */
  public static int unmountWithFallback(Syscalls sys, String mountPoint, boolean lazy) {
    int r = sys.umount2(mountPoint, lazy ? Syscalls.MNT_DETACH : 0);
    if (r == -Syscalls.EPERM) {
      Path helper = find();
      if (helper != null) {
        r = new Fusermount(sys, helper).unmount(mountPoint, lazy);
      }
    }
    return r;
  }

  /** This process's PATH, for error messages. */
  static String searchPath() {
    String p = System.getenv("PATH");
    return p == null ? DEFAULT_PATH + " (PATH unset)" : p;
  }

  /**
   * True when /etc/fuse.conf has a {@code user_allow_other} line, without which fusermount3
   * refuses allow_other to everyone but root.
   */
  public static boolean userAllowOther() {
    try {
      for (String line : Files.readAllLines(FUSE_CONF, StandardCharsets.UTF_8)) {
        int hash = line.indexOf('#');
        String l = (hash >= 0 ? line.substring(0, hash) : line).strip();
        if (l.equals("user_allow_other")) {
          return true;
        }
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }

  Path program() {
    return program;
  }

  /** True when the helper is owned by root and setuid, so it can mount for other users. */
  boolean isSetuidRoot() {
    try {
      int mode = (Integer) Files.getAttribute(program, "unix:mode");
      int uid = (Integer) Files.getAttribute(program, "unix:uid");
      return uid == 0 && (mode & 04000) != 0;
    } catch (IOException | RuntimeException e) {
      return true; // cannot tell; let the helper give the real answer
    }
  }

  /**
   * Runs {@code fusermount3 -o options -- mountPoint} and returns the /dev/fuse descriptor it
   * mounted (close-on-exec, owned by the caller from now on).
   */
  int mount(String mountPoint, String options) throws AgentFsException {
    int[] sock = {-1, -1};
    int r = sys.socketpair(sock);
    if (r < 0) {
      throw new AgentFsException(Errno.of(-r), mountPoint, null,
          "socketpair for " + PROGRAM + " failed: " + sys.strerror(-r));
    }
    int fd = -1;
    Outcome o;
    try {
      // The helper's end becomes descriptor 3 in the child (4 when it already is 3: a dup2
      // onto itself would keep close-on-exec, and the helper would find nothing there).
      int childFd = sock[1] == 3 ? 4 : 3;
      List<String> argv = List.of(program.toString(), "-o", options, "--", mountPoint);
      o = run(argv, childFd, sock);
      fd = o.fd;
    } finally {
      sys.close(sock[0]);
      if (sock[1] >= 0) {
        sys.close(sock[1]);
      }
    }
    if (fd >= 0) {
      if (!o.output.isEmpty()) {
        LOG.warn("{} mounted {} and said: {}", PROGRAM, mountPoint, o.output);
      }
      return fd;
    }
    String said = o.output.isEmpty() ? "no message" : o.output;
    throw new AgentFsException(errnoOf(o.output, Errno.EPERM), mountPoint, null,
        program + " did not mount (" + describe(o.status) + "): " + said);
  }

  /**
   * Runs {@code fusermount3 -u [-z] -- mountPoint}: 0, or -errno read from what the helper
   * printed (-EBUSY when the mount is in use and {@code lazy} is false).
   */
  int unmount(String mountPoint, boolean lazy) {
    List<String> argv = new ArrayList<>(List.of(program.toString(), "-u"));
    if (lazy) {
      argv.add("-z");
    }
    argv.add("--");
    argv.add(mountPoint);
    Outcome o;
    try {
      o = run(argv, -1, null);
    } catch (AgentFsException e) {
      LOG.warn("cannot run {} to unmount {}: {}", PROGRAM, mountPoint, e.getMessage());
      return -e.errno().code();
    }
    if (exitCode(o.status) == 0) {
      return 0;
    }
    LOG.debug("{} -u {}: {} ({})", PROGRAM, mountPoint, o.output, describe(o.status));
    return -errnoOf(o.output, Errno.EIO).code();
  }

  private record Outcome(int fd, int status, String output) {}

  /**
   * Starts the helper with its stdout and stderr on a pipe and, when {@code sock} is given,
   * {@code sock[1]} as descriptor {@code childFd}; waits for it and collects the descriptor it
   * sent and what it printed.
   */
  private Outcome run(List<String> argv, int childFd, int @Nullable [] sock)
      throws AgentFsException {
    int[] out = {-1, -1};
    int r = sys.pipe(out);
    if (r < 0) {
      throw new AgentFsException(Errno.of(-r), program.toString(), null,
          "pipe for " + PROGRAM + " failed: " + sys.strerror(-r));
    }
    try {
      int[] from = sock == null ? new int[] {out[1], out[1]} : new int[] {out[1], out[1], sock[1]};
      int[] to = sock == null ? new int[] {1, 2} : new int[] {1, 2, childFd};
      int pid = sys.spawn(program.toString(), argv.toArray(String[]::new),
          environment(sock == null ? -1 : childFd), from, to);
      sys.close(out[1]);
      out[1] = -1;
      if (sock != null) {
        // Ours no more: the helper's exit must be the end of the socket for receiveFd.
        sys.close(sock[1]);
        sock[1] = -1;
      }
      if (pid < 0) {
        throw new AgentFsException(Errno.of(-pid), program.toString(), null,
            "cannot start " + PROGRAM + ": " + sys.strerror(-pid));
      }
      int fd = -1;
      if (sock != null) {
        fd = sys.receiveFd(sock[0]);
        if (fd < 0 && fd != -Syscalls.ENOMSG) {
          LOG.warn("receiving the descriptor from {} failed: {}", PROGRAM, sys.strerror(-fd));
        }
      }
      String said = drain(out[0]);
      int status = sys.waitpid(pid);
      return new Outcome(fd, status, said);
    } finally {
      sys.close(out[0]);
      if (out[1] >= 0) {
        sys.close(out[1]);
      }
    }
  }

  /** This process's environment with {@code _FUSE_COMMFD} set (or removed), in the C locale. */
  private static String[] environment(int commFd) {
    List<String> env = new ArrayList<>();
    if (commFd >= 0) {
      env.add("_FUSE_COMMFD=" + commFd);
    }
    // The C locale keeps the helper's messages in the English errno texts errnoOf reads.
    env.add("LC_ALL=C");
    for (Map.Entry<String, String> e : System.getenv().entrySet()) {
      String k = e.getKey();
      if (!k.equals("_FUSE_COMMFD") && !k.equals("LC_ALL")) {
        env.add(k + "=" + e.getValue());
      }
    }
    return env.toArray(String[]::new);
  }

  /** Reads the pipe to its end (the helper's exit), keeping at most MAX_OUTPUT bytes. */
  private String drain(int fd) {
    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
    byte[] kept = new byte[MAX_OUTPUT];
    int n = 0;
    while (true) {
      buf.clear();
      int r = sys.read(fd, buf);
      if (r == -Syscalls.EINTR) {
        continue;
      }
      if (r <= 0) {
        break;
      }
      int take = Math.min(r, kept.length - n);
      buf.get(kept, n, take);
      n += take;
    }
    return new String(kept, 0, n, StandardCharsets.UTF_8).strip().replace('\n', ' ');
  }

  /** The errno a helper message names, {@code otherwise} when it names none we know. */
  static Errno errnoOf(String said, Errno otherwise) {
    if (said.contains("Device or resource busy")) {
      return Errno.EBUSY;
    }
    if (said.contains("Permission denied") || said.contains("no write access")
        || said.contains("not owned by user")) {
      return Errno.EACCES;
    }
    if (said.contains("No such file or directory")) {
      return Errno.ENOENT;
    }
    if (said.contains("Not a directory")) {
      return Errno.ENOTDIR;
    }
    if (said.contains("fuse device not found")) {
      return Errno.ENODEV;
    }
    if (said.contains("Invalid argument") || said.contains("not found in")) {
      return Errno.EINVAL;
    }
    return otherwise;
  }

  private static int exitCode(int status) {
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1;
  }

  private static String describe(int status) {
    if (status < 0) {
      return "waitpid failed";
    }
    if ((status & 0x7f) == 0) {
      return "exit " + ((status >> 8) & 0xff);
    }
    return "killed by signal " + (status & 0x7f);
  }
}
