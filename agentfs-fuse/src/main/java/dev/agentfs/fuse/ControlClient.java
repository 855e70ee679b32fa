package dev.agentfs.fuse;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlChannel;
import dev.agentfs.control.ControlFrames;
import dev.agentfs.fuse.sys.JnrSyscalls;
import dev.agentfs.fuse.sys.Syscalls;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A client of a mount's control file, {@code <mount>/.agentfs/control}: each request is one
 * {@link ControlFrames#IOC_CONTROL} ioctl on a descriptor opened O_RDWR on it, and
 * {@link #call} pages through long replies (docs/control-protocol.md). Any process that can
 * open the file can use it; the server sees the caller's pid and credentials. Thread-safe
 * (requests on one client are serialized).
 *
 * <pre>{@code
 * try (ControlClient c = ControlClient.open(Path.of("/mnt/ws"))) {
 *   String lines = c.call(Op.BRANCH_LIST, Map.of());
 * }
 * }</pre>
 */
public final class ControlClient implements ControlChannel {
  /** Where the control file is, relative to the mount point. */
  public static final String CONTROL_FILE = ".agentfs/control";

  private final Syscalls sys;
  private final Path mountPoint;
  private final ByteBuffer buf = ByteBuffer.allocateDirect(ControlFrames.FRAME_SIZE);
  private int fd;

  private ControlClient(Syscalls sys, Path mountPoint, int fd) {
    this.sys = sys;
    this.mountPoint = mountPoint;
    this.fd = fd;
  }

  /** Opens the control file of the mount at {@code mountPoint}. */
  public static ControlClient open(Path mountPoint) throws AgentFsException {
    return open(mountPoint, JnrSyscalls.get());
  }

  /** {@link #open(Path)} through {@code sys} (tests use a fake). */
  public static ControlClient open(Path mountPoint, Syscalls sys) throws AgentFsException {
    Path mp = mountPoint.toAbsolutePath();
    String file = mp.resolve(CONTROL_FILE).toString();
    int fd = sys.open(file, Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
    if (fd < 0) {
      Errno errno = Errno.of(-fd);
      String detail = switch (errno) {
        case ENOENT, ENOTDIR -> "no " + CONTROL_FILE + ": not an agentfs mount, or one without"
            + " a control plane";
        case ENOTCONN -> "the mount's server is gone (stale mount)";
        default -> "cannot open " + CONTROL_FILE + ": " + sys.strerror(-fd);
      };
      throw new AgentFsException(errno, mp.toString(), null, detail);
    }
    return new ControlClient(sys, mp, fd);
  }

  public Path mountPoint() {
    return mountPoint;
  }

  @Override
  public String where() {
    return mountPoint.toString();
  }

  /** One ioctl: the request in, padded to FRAME_SIZE, and the FRAME_SIZE-byte reply out. */
  @Override
  public synchronized byte[] exchange(byte[] request) throws AgentFsException {
    if (fd < 0) {
      throw new AgentFsException(Errno.EBADF, mountPoint.toString(), null,
          "control client closed");
    }
    if (request.length > ControlFrames.FRAME_SIZE) {
      throw new AgentFsException(Errno.EINVAL, mountPoint.toString(), null,
          "control request of " + request.length + " bytes");
    }
    buf.clear();
    buf.put(request);
    while (buf.hasRemaining()) {
      buf.put((byte) 0);
    }
    buf.clear();
    int r = sys.ioctlBuffer(fd, ControlFrames.IOC_CONTROL, buf);
    if (r < 0) {
      Errno errno = Errno.of(-r);
      String detail = errno == Errno.ENOTTY || errno == Errno.ENOSYS
          ? CONTROL_FILE + " does not answer the control ioctl (not an agentfs control file?)"
          : "control ioctl: " + sys.strerror(-r);
      throw new AgentFsException(errno, mountPoint.toString(), null, detail);
    }
    byte[] reply = new byte[ControlFrames.FRAME_SIZE];
    buf.clear();
    buf.get(reply);
    return reply;
  }

  @Override
  public synchronized void close() {
    if (fd >= 0) {
      sys.close(fd);
      fd = -1;
    }
  }
}
