package dev.agentfs;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The one exception the filesystem throws for anything a caller can get wrong or the backstore
 * can fail at: it carries the {@link Errno} a kernel would return and the path (or paths) the
 * operation named, so an error printed anywhere says what failed, where, and why.
 *
 * @since 0.1
 */
public final class AgentFsException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Errno errno;
  private final @Nullable String path;
  private final @Nullable String otherPath;

  public AgentFsException(Errno errno, @Nullable String path) {
    this(errno, path, null, null);
  }

  public AgentFsException(
      Errno errno, @Nullable String path, @Nullable String otherPath, @Nullable String detail) {
    super(message(errno, path, otherPath, detail));
    this.errno = errno;
    this.path = path;
    this.otherPath = otherPath;
  }

  public AgentFsException(Errno errno, @Nullable String path, Throwable cause) {
    super(message(errno, path, null, cause.toString()), cause);
    this.errno = errno;
    this.path = path;
    this.otherPath = null;
  }

  private static String message(
      Errno errno, @Nullable String path, @Nullable String other, @Nullable String detail) {
    StringBuilder sb = new StringBuilder(errno.name());
    if (path != null) {
      sb.append(": ").append(path);
    }
    if (other != null) {
      sb.append(" -> ").append(other);
    }
    if (detail != null) {
      sb.append(" (").append(detail).append(')');
    }
    return sb.toString();
  }

  public Errno errno() {
    return errno;
  }

  public @Nullable String path() {
    return path;
  }

  public @Nullable String otherPath() {
    return otherPath;
  }

  /** A copy of this failure naming {@code path}, used where a lower layer knew only an inode. */
  public AgentFsException withPath(String newPath) {
    if (path != null) {
      return this;
    }
    AgentFsException e = new AgentFsException(errno, newPath, otherPath, null);
    e.setStackTrace(getStackTrace());
    return e;
  }
}
