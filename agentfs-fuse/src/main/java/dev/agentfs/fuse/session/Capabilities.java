package dev.agentfs.fuse.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The capability questions the kernel transport asks of its own process: does it hold
 * CAP_SYS_ADMIN (mount(2) needs it in the mount's user namespace), and does that capability
 * count for the whole machine (registering passthrough backing files needs it in the initial
 * user namespace, and allow_other only reaches other users there)? Read from /proc/self rather
 * than guessed from the uid, so a root without the capability (a restricted container), a
 * capable non-root, and the root of an unprivileged user namespace ({@code unshare -Urm}) are
 * all told right.
 *
 * @since 0.1
 */
public final class Capabilities {
  private static final int CAP_SYS_ADMIN = 21;
  /** /proc/self/uid_map of the initial user namespace: every uid maps onto itself. */
  private static final String IDENTITY_MAP = "0 0 4294967295";

  private Capabilities() {}

  /**
   * True when this process's effective set has CAP_SYS_ADMIN (or when it cannot be told). In a
   * user namespace this is the capability over that namespace, which is enough for mount(2).
   */
  public static boolean sysAdmin() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
          return (caps & (1L << CAP_SYS_ADMIN)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return true; // cannot tell; let the kernel give the real answer
    }
    return true;
  }

  /**
   * True when this process is in the initial user namespace (or when it cannot be told). Told
   * by /proc/self/uid_map, which is the identity map only there: comparing /proc/self/ns/user
   * with /proc/1/ns/user would need ptrace access to pid 1, which a namespace's root lacks.
   */
  public static boolean initialUserNamespace() {
    try {
      return isIdentityMap(Files.readString(Path.of("/proc/self/uid_map")));
    } catch (IOException | RuntimeException e) {
      return true; // no /proc or no user namespaces: let the kernel give the real answer
    }
  }

  /** Whether a uid_map text maps every uid onto itself, as the initial namespace's does. */
  static boolean isIdentityMap(String uidMap) {
    return String.join(" ", uidMap.strip().split("\\s+")).equals(IDENTITY_MAP);
  }
}
