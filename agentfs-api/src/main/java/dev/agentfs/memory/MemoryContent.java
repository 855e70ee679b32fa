package dev.agentfs.memory;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Content;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * The bytes of one file in a {@link MemoryBackstore}: a sparse table of reference-counted chunks.
 *
 * <p>The table is a sorted map from leaf number to a leaf array of up to 1024 chunk references.
 * Leaf arrays grow by doubling, so a small file costs a one-slot array, a dense file is a few
 * array lookups, and a file written only at 1 TiB costs one leaf, not a 16-million-slot array.
 * An absent chunk is a hole.
 *
 * <p>Every mutation first plans what it needs (which chunks to create, grow or copy), reserves
 * that capacity in one step, and only then changes the table, so ENOSPC leaves the content
 * untouched. Bytes past {@link #size()} are always zero, which lets a grow by truncate or by
 * {@code allocate} be pure metadata.
 *
 * <p>Locking: a read-write lock per content; readers share it, mutators take it exclusively. A
 * chunk is written in place only when this content is its sole owner ({@code refs == 1}); nobody
 * else can then gain a reference, because {@link #copy()} needs this content's read lock.
 */
final class MemoryContent implements Content {
  private static final int LEAF_SHIFT = 10;
  private static final int LEAF_SIZE = 1 << LEAF_SHIFT;
  private static final int LEAF_MASK = LEAF_SIZE - 1;

  private static final byte NOOP = 0;
  private static final byte GROW = 1;
  private static final byte COW = 2;
  private static final byte NEW = 3;
  private static final byte SKIP = 4;

  private final MemoryBackstore store;
  private final int chunkSize;
  private final int shift;
  private final int chunkMask;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final TreeMap<Long, Chunk[]> leaves = new TreeMap<>();

  // Written under the write lock; volatile so size() and allocatedBytes() need no lock.
  private volatile long size;
  private volatile long allocated;
  private boolean released;

  MemoryContent(MemoryBackstore store) {
    this.store = store;
    this.chunkSize = store.chunkSize();
    this.shift = Integer.numberOfTrailingZeros(chunkSize);
    this.chunkMask = chunkSize - 1;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long allocatedBytes() {
    return allocated;
  }

  @Override
  public int read(long position, ByteBuffer dst) throws AgentFsException {
    if (position < 0) {
      throw invalid("negative read offset " + position);
    }
    lock.readLock().lock();
    try {
      checkLive();
      long sz = size;
      if (position >= sz || !dst.hasRemaining()) {
        return 0;
      }
      int n = (int) Math.min(dst.remaining(), sz - position);
      int done = 0;
      while (done < n) {
        long p = position + done;
        int off = (int) (p & chunkMask);
        int k = Math.min(n - done, chunkSize - off);
        Chunk c = get(p >>> shift);
        if (c == null) {
          store.putZeros(dst, k);
        } else {
          store.read(c, off, dst, k);
        }
        done += k;
      }
      return n;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void write(long position, ByteBuffer src) throws AgentFsException {
    int n = src.remaining();
    if (position < 0) {
      throw invalid("negative write offset " + position);
    }
    if (position > MemoryBackstore.MAX_FILE_SIZE - n) {
      throw tooBig(position, n);
    }
    lock.writeLock().lock();
    try {
      checkLive();
      if (n == 0) {
        return;
      }
      long end = position + n;
      long first = position >>> shift;
      int count = (int) (((end - 1) >>> shift) - first + 1);
      byte[] kinds = new byte[count];
      int[] lengths = new int[count];
      int base = src.position();
      long cost = 0;
      for (int i = 0; i < count; i++) {
        long cStart = (first + i) << shift;
        int off = (int) (Math.max(position, cStart) - cStart);
        int stop = (int) (Math.min(end, cStart + chunkSize) - cStart);
        Chunk c = get(first + i);
        if (c == null) {
          // A hole already reads as zeros; writing zeros into it needs no storage.
          if (store.isZero(src, base + (int) (cStart + off - position), stop - off)) {
            kinds[i] = SKIP;
          } else {
            kinds[i] = NEW;
            lengths[i] = store.lengthFor(stop);
            cost += lengths[i];
          }
        } else if (c.refs.get() > 1) {
          kinds[i] = COW;
          lengths[i] = Math.max(c.length, store.lengthFor(stop));
          cost += lengths[i];
        } else if (c.length < stop) {
          kinds[i] = GROW;
          lengths[i] = store.lengthFor(stop);
          cost += lengths[i] - c.length;
        } else {
          kinds[i] = NOOP;
        }
      }
      store.reserve(cost);
      long pending = cost;
      try {
        for (int i = 0; i < count; i++) {
          long idx = first + i;
          long cStart = idx << shift;
          int off = (int) (Math.max(position, cStart) - cStart);
          int stop = (int) (Math.min(end, cStart + chunkSize) - cStart);
          ByteBuffer piece = src.slice(base + (int) (cStart + off - position), stop - off);
          Chunk c = get(idx);
          switch (kinds[i]) {
            case NOOP:
              store.write(c, off, piece);
              break;
            case GROW:
              {
                int delta = lengths[i] - c.length;
                store.grow(c, lengths[i]);
                pending -= delta;
                allocated += delta;
                store.write(c, off, piece);
                break;
              }
            case COW:
            case NEW:
              {
                // The planned COW stays a COW even if the other owner let go meanwhile: the
                // reservation was made for it, and copying a private chunk is still correct.
                Chunk fresh = store.newChunk(lengths[i], c, c == null ? 0 : c.length);
                pending -= lengths[i];
                try {
                  store.write(fresh, off, piece);
                } catch (AgentFsException | RuntimeException e) {
                  store.decRef(fresh);
                  throw e;
                }
                set(idx, fresh);
                allocated += lengths[i];
                if (c != null) {
                  allocated -= c.length;
                  store.decRef(c);
                }
                break;
              }
            default: // SKIP
              break;
          }
          // Grow as we go: if a later chunk fails (spill EIO), what was written stays visible.
          if (cStart + stop > size) {
            size = cStart + stop;
          }
        }
        src.position(base + n);
      } finally {
        store.unreserve(pending);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void truncate(long newSize) throws AgentFsException {
    if (newSize < 0) {
      throw invalid("negative size " + newSize);
    }
    if (newSize > MemoryBackstore.MAX_FILE_SIZE) {
      throw tooBig(newSize, 0);
    }
    lock.writeLock().lock();
    try {
      checkLive();
      if (newSize >= size) {
        size = newSize;
        return;
      }
      long boundary = newSize >>> shift;
      int keep = (int) (newSize & chunkMask);
      Chunk c = keep == 0 ? null : get(boundary);
      if (c != null && keep < c.length) {
        if (c.refs.get() > 1) {
          // Shared: the bytes past the new size must become zeros in our view only.
          int length = store.lengthFor(keep);
          store.reserve(length);
          Chunk fresh;
          try {
            fresh = store.newChunk(length, c, keep);
          } catch (AgentFsException | RuntimeException e) {
            store.unreserve(length);
            throw e;
          }
          set(boundary, fresh);
          allocated += length - c.length;
          store.decRef(c);
        } else {
          allocated -= store.trim(c, keep);
        }
      }
      dropRange(keep == 0 ? boundary : boundary + 1, Long.MAX_VALUE);
      size = newSize;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void allocate(long offset, long length, boolean keepSize) throws AgentFsException {
    checkRange(offset, length);
    lock.writeLock().lock();
    try {
      checkLive();
      long end = offset + length;
      long first = offset >>> shift;
      long last = (end - 1) >>> shift;
      int lastLength = store.lengthFor((int) (end - (last << shift)));
      // Plan from the chunks that exist (bounded by real storage), not by walking the range,
      // which may span billions of chunk slots.
      long existing = 0;
      long cost = 0;
      List<Chunk> grow = new ArrayList<>();
      List<Integer> growTo = new ArrayList<>();
      for (Map.Entry<Long, Chunk[]> e : leafRange(first, last)) {
        Chunk[] leaf = e.getValue();
        for (int s = 0; s < leaf.length; s++) {
          long idx = (e.getKey() << LEAF_SHIFT) | s;
          Chunk c = leaf[s];
          if (c == null || idx < first || idx > last) {
            continue;
          }
          existing++;
          int want = idx == last ? lastLength : chunkSize;
          // A shared chunk is left shared: like XFS/btrfs, fallocate does not unshare extents.
          if (c.refs.get() == 1 && c.length < want) {
            grow.add(c);
            growTo.add(want);
            cost += want - c.length;
          }
        }
      }
      long absent = last - first + 1 - existing;
      boolean lastAbsent = get(last) == null;
      long absentCost =
          absent > Long.MAX_VALUE / chunkSize
              ? Long.MAX_VALUE
              : absent * chunkSize - (lastAbsent ? chunkSize - lastLength : 0);
      cost = absentCost > Long.MAX_VALUE - cost ? Long.MAX_VALUE : cost + absentCost;
      long headroom = store.allocationHeadroom();
      if (cost > headroom) {
        throw MemoryBackstore.noSpace(cost, headroom);
      }
      store.reserve(cost);
      long pending = cost;
      try {
        for (int i = 0; i < grow.size(); i++) {
          Chunk c = grow.get(i);
          int delta = growTo.get(i) - c.length;
          store.grow(c, growTo.get(i));
          pending -= delta;
          allocated += delta;
        }
        for (long idx = first; idx <= last && absent > 0; idx++) {
          if (get(idx) == null) {
            int len = idx == last ? lastLength : chunkSize;
            Chunk fresh = store.newChunk(len, null, 0);
            pending -= len;
            set(idx, fresh);
            allocated += len;
            absent--;
          }
        }
        if (!keepSize && end > size) {
          size = end;
        }
      } finally {
        store.unreserve(pending);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void punchHole(long offset, long length) throws AgentFsException {
    checkRange(offset, length);
    lock.writeLock().lock();
    try {
      checkLive();
      long end = offset + length;
      long first = offset >>> shift;
      long last = (end - 1) >>> shift;
      long fullFrom = (offset + chunkMask) >>> shift;
      long fullTo = end >>> shift; // exclusive
      // At most two chunks are cut partially; plan them first because a shared one has to be
      // copied (and may hit ENOSPC) before anything changes.
      long[] partIdx = new long[2];
      int parts = 0;
      if (first < fullFrom || first >= fullTo) {
        partIdx[parts++] = first;
      }
      if (last != first && last >= fullTo) {
        partIdx[parts++] = last;
      }
      Chunk[] fresh = new Chunk[parts];
      long cost = 0;
      for (int p = 0; p < parts; p++) {
        Chunk c = get(partIdx[p]);
        long cStart = partIdx[p] << shift;
        int a = (int) (Math.max(offset, cStart) - cStart);
        int b = (int) (Math.min(end, cStart + chunkSize) - cStart);
        if (c != null && a < c.length && c.refs.get() > 1 && !(a == 0 && b >= c.length)) {
          int len = b >= c.length ? store.lengthFor(a) : c.length;
          cost += len;
        }
      }
      store.reserve(cost);
      long pending = cost;
      try {
        for (int p = 0; p < parts; p++) {
          Chunk c = get(partIdx[p]);
          long cStart = partIdx[p] << shift;
          int a = (int) (Math.max(offset, cStart) - cStart);
          int b = (int) (Math.min(end, cStart + chunkSize) - cStart);
          if (c != null && a < c.length && c.refs.get() > 1 && !(a == 0 && b >= c.length)) {
            int len = b >= c.length ? store.lengthFor(a) : c.length;
            fresh[p] = store.newChunk(len, c, b >= c.length ? a : c.length);
            pending -= len;
          }
        }
      } catch (AgentFsException | RuntimeException e) {
        for (Chunk f : fresh) {
          if (f != null) {
            store.decRef(f);
          }
        }
        store.unreserve(pending);
        throw e;
      }
      store.unreserve(pending);

      for (int p = 0; p < parts; p++) {
        long idx = partIdx[p];
        Chunk c = get(idx);
        if (c == null) {
          continue;
        }
        long cStart = idx << shift;
        int a = (int) (Math.max(offset, cStart) - cStart);
        int b = (int) (Math.min(end, cStart + chunkSize) - cStart);
        if (a >= c.length) {
          continue; // the cut range is past the stored bytes: already zeros
        }
        if (a == 0 && b >= c.length) {
          dropRange(idx, idx + 1);
          continue;
        }
        Chunk target = c;
        if (fresh[p] != null) {
          target = fresh[p];
          set(idx, target);
          allocated += target.length - c.length;
          store.decRef(c);
        }
        if (b >= target.length) {
          allocated -= store.trim(target, a);
        } else {
          store.zero(target, a, b - a);
        }
      }
      if (fullFrom < fullTo) {
        dropRange(fullFrom, fullTo);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Granularity is the chunk: a stored chunk is data even where it holds zeros. Returns -1
   * (the caller's ENXIO) when {@code offset} is at or past the size or only a hole follows.
   */
  @Override
  public long seekData(long offset) throws AgentFsException {
    if (offset < 0) {
      throw invalid("negative seek offset " + offset);
    }
    lock.readLock().lock();
    try {
      checkLive();
      long sz = size;
      if (offset >= sz) {
        return -1;
      }
      long idx = offset >>> shift;
      for (Map.Entry<Long, Chunk[]> e : leaves.tailMap(idx >>> LEAF_SHIFT, true).entrySet()) {
        Chunk[] leaf = e.getValue();
        long leafStart = e.getKey() << LEAF_SHIFT;
        for (int s = (int) Math.max(0, idx - leafStart); s < leaf.length; s++) {
          if (leaf[s] != null) {
            long pos = Math.max(offset, (leafStart + s) << shift);
            return pos < sz ? pos : -1;
          }
        }
      }
      return -1;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Granularity is the chunk. Returns -1 (the caller's ENXIO) when {@code offset} is at or
   * past the size, as lseek(SEEK_HOLE) does.
   */
  @Override
  public long seekHole(long offset) throws AgentFsException {
    if (offset < 0) {
      throw invalid("negative seek offset " + offset);
    }
    lock.readLock().lock();
    try {
      checkLive();
      long sz = size;
      if (offset >= sz) {
        return -1;
      }
      for (long idx = offset >>> shift; (idx << shift) < sz; idx++) {
        if (get(idx) == null) {
          return Math.min(sz, Math.max(offset, idx << shift));
        }
      }
      return sz;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Content copy() throws AgentFsException {
    lock.readLock().lock();
    try {
      checkLive();
      MemoryContent copy = new MemoryContent(store);
      for (Map.Entry<Long, Chunk[]> e : leaves.entrySet()) {
        Chunk[] leaf = e.getValue().clone();
        for (Chunk c : leaf) {
          if (c != null) {
            // Safe without the chunk's other owners: we hold a reference they cannot drop.
            c.refs.incrementAndGet();
          }
        }
        copy.leaves.put(e.getKey(), leaf);
      }
      copy.size = size;
      copy.allocated = allocated;
      return copy;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void sync(boolean dataOnly) throws AgentFsException {
    lock.readLock().lock();
    try {
      checkLive();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void release() {
    lock.writeLock().lock();
    try {
      if (released) {
        return;
      }
      released = true;
      for (Chunk[] leaf : leaves.values()) {
        for (Chunk c : leaf) {
          if (c != null) {
            store.decRef(c);
          }
        }
      }
      leaves.clear();
      allocated = 0;
      size = 0;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return "MemoryContent[size=" + size + ", allocated=" + allocated + "]";
  }

  // ---- chunk table --------------------------------------------------------------------------

  private @Nullable Chunk get(long idx) {
    Chunk[] leaf = leaves.get(idx >>> LEAF_SHIFT);
    int s = (int) (idx & LEAF_MASK);
    return leaf != null && s < leaf.length ? leaf[s] : null;
  }

  private void set(long idx, Chunk c) {
    Long key = idx >>> LEAF_SHIFT;
    int s = (int) (idx & LEAF_MASK);
    Chunk[] leaf = leaves.get(key);
    if (leaf == null || s >= leaf.length) {
      int want = Math.min(LEAF_SIZE, Math.max(1, Integer.highestOneBit(s) << 1));
      leaf = leaf == null ? new Chunk[want] : Arrays.copyOf(leaf, Math.max(want, leaf.length * 2));
      leaves.put(key, leaf);
    }
    leaf[s] = c;
  }

  private Iterable<Map.Entry<Long, Chunk[]>> leafRange(long firstIdx, long lastIdx) {
    return leaves.subMap(firstIdx >>> LEAF_SHIFT, true, lastIdx >>> LEAF_SHIFT, true).entrySet();
  }

  /** Drops chunks with index in [from, to), returning their storage; empty leaves go too. */
  private void dropRange(long from, long to) {
    if (from >= to) {
      return;
    }
    Iterator<Map.Entry<Long, Chunk[]>> it = leafRange(from, to - 1).iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Chunk[]> e = it.next();
      Chunk[] leaf = e.getValue();
      long leafStart = e.getKey() << LEAF_SHIFT;
      int lo = (int) Math.max(0, from - leafStart);
      int hi = (int) Math.min(leaf.length, to - leafStart);
      boolean empty = true;
      for (int s = 0; s < leaf.length; s++) {
        Chunk c = leaf[s];
        if (c == null) {
          continue;
        }
        if (s >= lo && s < hi) {
          allocated -= c.length;
          store.decRef(c);
          leaf[s] = null;
        } else {
          empty = false;
        }
      }
      if (empty) {
        it.remove();
      }
    }
  }

  // ---- checks -------------------------------------------------------------------------------

  private void checkLive() throws AgentFsException {
    if (released) {
      throw new AgentFsException(Errno.ESTALE, null, null, "content was released");
    }
  }

  private static void checkRange(long offset, long length) throws AgentFsException {
    if (offset < 0 || length <= 0) {
      throw invalid("bad range offset=" + offset + " length=" + length);
    }
    if (offset > MemoryBackstore.MAX_FILE_SIZE - length) {
      throw tooBig(offset, length);
    }
  }

  private static AgentFsException invalid(String detail) {
    return new AgentFsException(Errno.EINVAL, null, null, detail);
  }

  private static AgentFsException tooBig(long offset, long length) {
    return new AgentFsException(
        Errno.EFBIG,
        null,
        null,
        "offset " + offset + " + " + length + " exceeds " + MemoryBackstore.MAX_FILE_SIZE);
  }
}
