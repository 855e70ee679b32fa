package dev.agentfs.nio;

import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes the {@link MappedByteBuffer}s {@link AgentFsFileChannel#map} returns. Java can only
 * create one by mapping a host file through the default file system, so there are two sources:
 * the host file that holds a file's bytes (a host-directory backstore), mapped in place and
 * pinned to its inode until the buffer is garbage collected, exactly when the JDK unmaps it;
 * or, for bytes in memory or shared with a snapshot, a private copy of the range in an
 * unlinked temporary file under {@code java.io.tmpdir}.
 */
final class Mappings {
  private static final int CHUNK = 1 << 20;
  private static final Cleaner CLEANER = Cleaner.create();

  private Mappings() {}

  /** Reads file bytes at a position, as the channel does; -1 at the end. */
  @FunctionalInterface
  interface Reader {
    int read(ByteBuffer dst, long position) throws IOException;
  }

  /**
   * Maps {@code host} itself; the caller's pin on {@code ino} passes to the buffer, and is
   * released through {@link Vfs#releaseBacking} once the buffer is unreachable.
   */
  static MappedByteBuffer hostFile(Vfs vfs, long ino, Path host, MapMode mode, long position,
      long size) throws IOException {
    MappedByteBuffer b;
    // PRIVATE needs a writable descriptor (the JDK checks the channel, not the mapping).
    try (FileChannel ch = mode == MapMode.READ_ONLY ? FileChannel.open(host, READ)
        : FileChannel.open(host, READ, WRITE)) {
      b = ch.map(mode, position, size);
    }
    CLEANER.register(b, new Unpin(vfs, ino));
    return b;
  }

  /** Maps a copy of {@code size} bytes at {@code position}, taken now. */
  static MappedByteBuffer copy(Reader from, MapMode mode, long position, long size)
      throws IOException {
    Path tmp = Files.createTempFile("agentfs-map-", ".bytes");
    // DELETE_ON_CLOSE unlinks at once on Linux; the mapping keeps the pages.
    try (FileChannel ch = FileChannel.open(tmp, READ, WRITE, DELETE_ON_CLOSE)) {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Math.max(size, 1), CHUNK));
      long done = 0;
      while (done < size) {
        buf.clear().limit((int) Math.min(buf.capacity(), size - done));
        int n = from.read(buf, position + done);
        if (n <= 0) {
          break; // truncated meanwhile: the rest reads as zeros, as past a shrunk file
        }
        buf.flip();
        while (buf.hasRemaining()) {
          ch.write(buf, done + buf.position());
        }
        done += n;
      }
      return ch.map(mode, 0, size);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The cleaning action: holds what it needs, never the buffer. */
  private record Unpin(Vfs vfs, long ino) implements Runnable {
    @Override
    public void run() {
      vfs.releaseBacking(ino);
    }
  }
}
