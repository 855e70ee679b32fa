package dev.agentfs.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A host file of fixed-size chunk slots that takes chunk data once the heap passes the spill
 * threshold. Slots are recycled through a free list so the file does not grow without bound
 * under churn. It is opened DELETE_ON_CLOSE, which on Linux unlinks it at once: the data lives
 * in an anonymous file that disappears with the process, even after a crash.
 *
 * <p>Positional {@link FileChannel} reads and writes are thread-safe, so only slot bookkeeping
 * is synchronised. Slots never written past a chunk's length may hold stale data from a former
 * owner; callers write every byte they later read.
 */
final class SpillFile implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final int slotSize;
  private long nextSlot;
  private long[] free = new long[16];
  private int freeCount;
  private long slotsInUse;

  SpillFile(Path directory, int slotSize) throws IOException {
    this.slotSize = slotSize;
    Files.createDirectories(directory);
    this.path = Files.createTempFile(directory, "agentfs-spill-", ".chunks");
    this.channel =
        FileChannel.open(
            path,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE,
            StandardOpenOption.DELETE_ON_CLOSE);
  }

  /** Bytes the host file currently spans (its high-water mark of slots). */
  long fileSize() throws IOException {
    return channel.size();
  }

  synchronized long allocate() {
    slotsInUse++;
    if (freeCount > 0) {
      return free[--freeCount];
    }
    return nextSlot++;
  }

  synchronized void release(long slot) {
    slotsInUse--;
    if (freeCount == free.length) {
      free = Arrays.copyOf(free, free.length * 2);
    }
    free[freeCount++] = slot;
  }

  synchronized long slotsInUse() {
    return slotsInUse;
  }

  /** Reads exactly {@code dst.remaining()} bytes at {@code offset} inside {@code slot}. */
  void read(long slot, int offset, ByteBuffer dst) throws IOException {
    long pos = slot * slotSize + offset;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        // Past the end of the host file: the slot was never written that far.
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

  /** Writes all of {@code src} at {@code offset} inside {@code slot}. */
  void write(long slot, int offset, ByteBuffer src) throws IOException {
    long pos = slot * slotSize + offset;
    while (src.hasRemaining()) {
      pos += channel.write(src, pos);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      Files.deleteIfExists(path);
    }
  }
}
