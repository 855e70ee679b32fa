package dev.agentfs.core;

import java.util.Arrays;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * An immutable radix trie from non-negative longs to values, ordered by key. Every update
 * returns a new trie that shares all untouched nodes with the old one (path copying), so
 * keeping an old root is an O(1) snapshot. Keys are expected to be dense counters (inode
 * numbers, directory cookies); the trie grows a level whenever a key outgrows it.
 */
final class LongTrie<V> {
  private static final int BITS = 5;
  private static final int WIDTH = 1 << BITS;
  private static final int MASK = WIDTH - 1;
  private static final LongTrie<?> EMPTY = new LongTrie<>(null, 0, 0);

  /** Inner nodes are Object[] of children; leaves (shift 0) hold values. */
  final Object @Nullable [] root;

  final int shift;
  final int size;

  private LongTrie(Object @Nullable [] root, int shift, int size) {
    this.root = root;
    this.shift = shift;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  static <V> LongTrie<V> empty() {
    return (LongTrie<V>) EMPTY;
  }

  int size() {
    return size;
  }

  /** True when a trie whose root is at {@code s} can hold {@code key} (key is non-negative). */
  private static boolean fits(long key, int s) {
    return s + BITS >= 63 || key < (1L << (s + BITS));
  }

  @SuppressWarnings("unchecked")
  @Nullable V get(long key) {
    Object[] node = root;
    if (node == null || key < 0 || !fits(key, shift)) {
      return null;
    }
    for (int s = shift; s > 0; s -= BITS) {
      node = (Object[]) node[(int) ((key >>> s) & MASK)];
      if (node == null) {
        return null;
      }
    }
    return (V) node[(int) (key & MASK)];
  }

  LongTrie<V> with(long key, V value) {
    if (key < 0) {
      throw new IllegalArgumentException("negative key " + key);
    }
    Object[] r = root == null ? new Object[WIDTH] : root;
    int s = shift;
    while (!fits(key, s)) {
      Object[] up = new Object[WIDTH];
      up[0] = r;
      r = up;
      s += BITS;
    }
    boolean[] added = new boolean[1];
    Object[] nr = put(r, s, key, value, added);
    return new LongTrie<>(nr, s, size + (added[0] ? 1 : 0));
  }

  private static Object[] put(Object[] node, int s, long key, Object value, boolean[] added) {
    Object[] copy = Arrays.copyOf(node, WIDTH);
    int i = (int) ((key >>> s) & MASK);
    if (s == 0) {
      added[0] = copy[i] == null;
      copy[i] = value;
    } else {
      Object[] child = (Object[]) copy[i];
      copy[i] = put(child == null ? new Object[WIDTH] : child, s - BITS, key, value, added);
    }
    return copy;
  }

  LongTrie<V> without(long key) {
    if (get(key) == null) {
      return this;
    }
    Object[] nr = remove(root, shift, key);
    return size == 1 ? empty() : new LongTrie<>(nr, shift, size - 1);
  }

  private static Object @Nullable [] remove(Object[] node, int s, long key) {
    int i = (int) ((key >>> s) & MASK);
    Object[] copy = Arrays.copyOf(node, WIDTH);
    if (s == 0) {
      copy[i] = null;
    } else {
      copy[i] = remove((Object[]) node[i], s - BITS, key);
    }
    for (Object o : copy) {
      if (o != null) {
        return copy;
      }
    }
    return null;
  }

  /** The smallest key strictly greater than {@code after}, or -1. */
  long nextKey(long after) {
    if (root == null) {
      return -1;
    }
    long from = after + 1;
    if (from < 0 || !fits(from, shift)) {
      return -1;
    }
    return next(root, shift, from, 0);
  }

  private static long next(Object[] node, int s, long from, long prefix) {
    int start = (int) ((from >>> s) & MASK);
    for (int i = start; i < WIDTH; i++) {
      Object child = node[i];
      if (child == null) {
        continue;
      }
      long base = prefix | ((long) i << s);
      if (s == 0) {
        return base;
      }
      long sub = next((Object[]) child, s - BITS, i == start ? from : 0, base);
      if (sub >= 0) {
        return sub;
      }
    }
    return -1;
  }

  /** Visits every entry in key order. */
  @SuppressWarnings("unchecked")
  void forEach(BiConsumer<Long, V> action) {
    if (root != null) {
      walk(root, shift, 0, (BiConsumer<Long, Object>) action);
    }
  }

  private static void walk(Object[] node, int s, long prefix, BiConsumer<Long, Object> action) {
    for (int i = 0; i < WIDTH; i++) {
      Object child = node[i];
      if (child != null) {
        long base = prefix | ((long) i << s);
        if (s == 0) {
          action.accept(base, child);
        } else {
          walk((Object[]) child, s - BITS, base, action);
        }
      }
    }
  }

  /** Reports keys whose values differ by identity between {@code a} and {@code b}, skipping
   *  shared subtrees, so the cost grows with the change and not with the size. */
  static <V> void diff(LongTrie<V> a, LongTrie<V> b, DiffVisitor<V> visitor) {
    int s = Math.max(a.shift, b.shift);
    diffNodes(lift(a, s), lift(b, s), s, 0, visitor);
  }

  interface DiffVisitor<V> {
    void changed(long key, @Nullable V before, @Nullable V after);
  }

  private static Object @Nullable [] lift(LongTrie<?> t, int s) {
    Object[] r = t.root;
    for (int x = t.shift; x < s && r != null; x += BITS) {
      Object[] up = new Object[WIDTH];
      up[0] = r;
      r = up;
    }
    return r;
  }

  @SuppressWarnings("unchecked")
  private static <V> void diffNodes(Object @Nullable [] a, Object @Nullable [] b, int s,
      long prefix, DiffVisitor<V> v) {
    if (a == b) {
      return;
    }
    for (int i = 0; i < WIDTH; i++) {
      Object ca = a == null ? null : a[i];
      Object cb = b == null ? null : b[i];
      if (ca == cb) {
        continue;
      }
      long base = prefix | ((long) i << s);
      if (s == 0) {
        v.changed(base, (V) ca, (V) cb);
      } else {
        diffNodes((Object[]) ca, (Object[]) cb, s - BITS, base, v);
      }
    }
  }
}
