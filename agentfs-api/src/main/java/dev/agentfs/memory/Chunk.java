package dev.agentfs.memory;

import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One stored chunk of file data, shared by reference between content copies.
 *
 * <p>The storage holds the first {@link #length} bytes of the chunk; the rest of the chunk reads
 * as zeros. Keeping short chunks short is what makes a 1-byte file cost 512 bytes instead of a
 * whole chunk. The fields change only while the chunk is private ({@code refs == 1}) and its
 * single owner holds its write lock, so a shared chunk is effectively immutable and readers of
 * other owners never see it change.
 */
final class Chunk {
  /** Owners holding this chunk; storage is freed when it drops to zero. */
  final AtomicInteger refs = new AtomicInteger(1);

  /** Stored bytes, a power of two between the minimum chunk length and the chunk size. */
  int length;

  /** Heap storage, or null when the chunk lives in the spill file. */
  byte @Nullable [] heap;

  /** Slot in the spill file, or -1 when the chunk is on the heap. */
  long slot = -1;

  Chunk(int length, byte[] heap) {
    this.length = length;
    this.heap = heap;
  }

  Chunk(int length, long slot) {
    this.length = length;
    this.slot = slot;
  }

  boolean spilled() {
    return heap == null;
  }
}
