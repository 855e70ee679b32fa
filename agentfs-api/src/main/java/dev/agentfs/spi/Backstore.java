package dev.agentfs.spi;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where file content lives. A backstore hands out {@link Content} objects, reports capacity for
 * statfs, and declares optional {@link BackstoreFeature}s the builder and control plane can
 * query (durability, host file descriptors for kernel passthrough, reflink clones).
 *
 * <p>To write one: implement this interface and {@link Content}, then run the backstore
 * conformance kit ({@code AbstractBackstoreConformanceTest} in the agentfs-api test-jar) against
 * it. Register a {@link BackstoreProvider} in {@code META-INF/services} to make it selectable by
 * name from the CLI.
 *
 * @since 0.1
 */
public interface Backstore extends AutoCloseable {
  /** A short name for logs and JSON output, e.g. "memory" or "hostfs:/var/agentfs". */
  String name();

  Set<BackstoreFeature> features();

  /** A new, empty content object. */
  Content newContent() throws AgentFsException;

  /**
   * A new content holding the bytes of host file {@code file}: an overlay's lower file being
   * copied up or materialised. With {@code reflink} the copy must share the host file's
   * extents (FICLONE), and where that cannot be (a backstore without host files, another
   * filesystem, one without reflinks) this fails with ENOTSUP (EOPNOTSUPP) or EXDEV naming
   * {@code file}, having stored nothing. Without it the bytes are copied; this default reads
   * them into {@link #newContent()}, a backstore with host files can copy in the kernel.
   */
  default Content importFile(Path file, boolean reflink) throws AgentFsException {
    if (reflink) {
      throw new AgentFsException(Errno.ENOTSUP, file.toString(), null,
          "backstore " + name() + " keeps no host files to reflink into");
    }
    Content c = newContent();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      long pos = 0;
      while (true) {
        buf.clear();
        int n = ch.read(buf, pos);
        if (n <= 0) {
          break;
        }
        buf.flip();
        c.write(pos, buf);
        pos += n;
      }
      return c;
    } catch (IOException e) {
      c.release();
      if (e instanceof AgentFsException a) {
        throw a;
      }
      Errno errno = e instanceof java.nio.file.NoSuchFileException ? Errno.ENOENT
          : e instanceof java.nio.file.AccessDeniedException ? Errno.EACCES : Errno.EIO;
      throw new AgentFsException(errno, file.toString(), e);
    }
  }

  /** Total bytes this backstore may hold ({@link Long#MAX_VALUE} when unbounded). */
  long capacityBytes();

  /** Bytes currently in use by content objects. */
  long usedBytes();

  /** Bytes still available to new data. */
  default long availableBytes() {
    return Math.max(0, capacityBytes() - usedBytes());
  }

  /**
   * The metadata log of a durable backstore ({@link BackstoreFeature#DURABLE}), or null when
   * the backstore keeps nothing across restarts.
   */
  default @Nullable MetadataLog metadataLog() {
    return null;
  }

  /**
   * The host directory that holds this backstore's files, or null when it keeps none (memory).
   * AgentFs keeps it out of its own mounts: an overlay whose lower tree contains it does not
   * show it, and a mount point at or above it is refused, since mounting there would hide the
   * store from the server that reads it.
   */
  default java.nio.file.@Nullable Path hostDirectory() {
    return null;
  }

  /** Re-opens the content whose {@link Content#id()} is {@code id} (durable backstores). */
  default Content openContent(String id) throws AgentFsException {
    throw new AgentFsException(Errno.ENOTSUP, id, null, name() + " does not keep content");
  }

  /**
   * Deletes stored content whose id is not in {@code live}: what a crash left behind between
   * creating content and logging it. Called once after replay.
   */
  default void retainOnly(Set<String> live) throws AgentFsException {}

  @Override
  void close();
}
