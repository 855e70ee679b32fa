package dev.agentfs.core;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * An immutable hash array mapped trie. Updates copy only the nodes on the path to the changed
 * key, so a directory with a million entries is shared, not copied, by a snapshot, and one
 * create after the snapshot copies about log32(n) small arrays.
 */
final class Hamt<K, V> {
  private static final Hamt<?, ?> EMPTY = new Hamt<>(new Node(0, new Object[0]), 0);

  private final Node root;
  private final int size;

  private Hamt(Node root, int size) {
    this.root = root;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  static <K, V> Hamt<K, V> empty() {
    return (Hamt<K, V>) EMPTY;
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  @SuppressWarnings("unchecked")
  @Nullable V get(K key) {
    return (V) get(root, 0, key, key.hashCode());
  }

  private static @Nullable Object get(Node n, int shift, Object key, int h) {
    if (shift >= 32) {
      return n.collisionGet(key);
    }
    int bit = 1 << ((h >>> shift) & 31);
    if ((n.bitmap & bit) == 0) {
      return null;
    }
    int idx = 2 * Integer.bitCount(n.bitmap & (bit - 1));
    Object k = n.slots[idx];
    if (k == null) {
      return get((Node) n.slots[idx + 1], shift + 5, key, h);
    }
    return k.equals(key) ? n.slots[idx + 1] : null;
  }

  Hamt<K, V> with(K key, V value) {
    boolean[] added = new boolean[1];
    Node nr = put(root, 0, key, key.hashCode(), value, added);
    return nr == root ? this : new Hamt<>(nr, size + (added[0] ? 1 : 0));
  }

  Hamt<K, V> without(K key) {
    if (get(key) == null) {
      return this;
    }
    Node nr = remove(root, 0, key, key.hashCode());
    return new Hamt<>(nr == null ? new Node(0, new Object[0]) : nr, size - 1);
  }

  @SuppressWarnings("unchecked")
  void forEach(BiConsumer<K, V> action) {
    walk(root, (BiConsumer<Object, Object>) action);
  }

  private static void walk(Node n, BiConsumer<Object, Object> action) {
    for (int i = 0; i < n.slots.length; i += 2) {
      if (n.slots[i] == null) {
        walk((Node) n.slots[i + 1], action);
      } else {
        action.accept(n.slots[i], n.slots[i + 1]);
      }
    }
  }

  /** A node: bitmap of present 5-bit fragments and key/value pairs; a null key marks a child
   *  node in the value slot. A collision node (all keys share one full hash) has bitmap -1
   *  and a plain list of pairs. */
  private static final class Node {
    final int bitmap;
    final Object[] slots;

    Node(int bitmap, Object[] slots) {
      this.bitmap = bitmap;
      this.slots = slots;
    }

    @Nullable Object collisionGet(Object key) {
      for (int i = 0; i < slots.length; i += 2) {
        if (Objects.equals(slots[i], key)) {
          return slots[i + 1];
        }
      }
      return null;
    }
  }

  private static Node put(Node n, int shift, Object key, int h, Object value, boolean[] added) {
    if (shift >= 32) {
      // Full 32-bit hash collision: linear list.
      for (int i = 0; i < n.slots.length; i += 2) {
        if (n.slots[i].equals(key)) {
          if (n.slots[i + 1] == value) {
            return n;
          }
          Object[] s = n.slots.clone();
          s[i + 1] = value;
          return new Node(-1, s);
        }
      }
      Object[] s = Arrays.copyOf(n.slots, n.slots.length + 2);
      s[s.length - 2] = key;
      s[s.length - 1] = value;
      added[0] = true;
      return new Node(-1, s);
    }
    int bit = 1 << ((h >>> shift) & 31);
    int idx = 2 * Integer.bitCount(n.bitmap & (bit - 1));
    if ((n.bitmap & bit) == 0) {
      Object[] s = new Object[n.slots.length + 2];
      System.arraycopy(n.slots, 0, s, 0, idx);
      s[idx] = key;
      s[idx + 1] = value;
      System.arraycopy(n.slots, idx, s, idx + 2, n.slots.length - idx);
      added[0] = true;
      return new Node(n.bitmap | bit, s);
    }
    Object k = n.slots[idx];
    Object v = n.slots[idx + 1];
    Object[] s = n.slots.clone();
    if (k == null) {
      Node child = put((Node) v, shift + 5, key, h, value, added);
      if (child == v) {
        return n;
      }
      s[idx + 1] = child;
    } else if (k.equals(key)) {
      if (v == value) {
        return n;
      }
      s[idx + 1] = value;
    } else {
      Node child = pair(shift + 5, k, k.hashCode(), v, key, h, value);
      added[0] = true;
      s[idx] = null;
      s[idx + 1] = child;
    }
    return new Node(n.bitmap, s);
  }

  private static Node pair(int shift, Object k1, int h1, Object v1, Object k2, int h2,
      Object v2) {
    if (shift >= 32) {
      return new Node(-1, new Object[] {k1, v1, k2, v2});
    }
    int f1 = (h1 >>> shift) & 31;
    int f2 = (h2 >>> shift) & 31;
    if (f1 == f2) {
      return new Node(1 << f1, new Object[] {null, pair(shift + 5, k1, h1, v1, k2, h2, v2)});
    }
    return f1 < f2
        ? new Node((1 << f1) | (1 << f2), new Object[] {k1, v1, k2, v2})
        : new Node((1 << f1) | (1 << f2), new Object[] {k2, v2, k1, v1});
  }

  private static @Nullable Node remove(Node n, int shift, Object key, int h) {
    if (shift >= 32) {
      for (int i = 0; i < n.slots.length; i += 2) {
        if (n.slots[i].equals(key)) {
          if (n.slots.length == 2) {
            return null;
          }
          Object[] s = new Object[n.slots.length - 2];
          System.arraycopy(n.slots, 0, s, 0, i);
          System.arraycopy(n.slots, i + 2, s, i, n.slots.length - i - 2);
          return new Node(-1, s);
        }
      }
      return n;
    }
    int bit = 1 << ((h >>> shift) & 31);
    if ((n.bitmap & bit) == 0) {
      return n;
    }
    int idx = 2 * Integer.bitCount(n.bitmap & (bit - 1));
    Object k = n.slots[idx];
    if (k == null) {
      Node child = remove((Node) n.slots[idx + 1], shift + 5, key, h);
      if (child != null) {
        Object[] s = n.slots.clone();
        s[idx + 1] = child;
        return new Node(n.bitmap, s);
      }
    } else if (!k.equals(key)) {
      return n;
    }
    if (n.slots.length == 2) {
      return null;
    }
    Object[] s = new Object[n.slots.length - 2];
    System.arraycopy(n.slots, 0, s, 0, idx);
    System.arraycopy(n.slots, idx + 2, s, idx, n.slots.length - idx - 2);
    return new Node(n.bitmap & ~bit, s);
  }
}
