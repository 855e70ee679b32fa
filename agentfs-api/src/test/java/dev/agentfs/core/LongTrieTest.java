package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class LongTrieTest {
  private static long key(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(64);
      case 1 -> r.nextInt(5000);
      case 2 -> r.nextLong() & Long.MAX_VALUE;
      default -> (1L << r.nextInt(63)) + r.nextInt(3) - 1;
    };
  }

  private static <V> void same(TreeMap<Long, V> model, LongTrie<V> t, long seed) {
    String ctx = "seed=" + seed;
    assertEquals(model.size(), t.size(), ctx);
    List<Long> keys = new ArrayList<>();
    List<Object> vals = new ArrayList<>();
    t.forEach((k, v) -> {
      keys.add(k);
      vals.add(v);
    });
    assertEquals(new ArrayList<>(model.keySet()), keys, ctx);
    assertEquals(new ArrayList<>(model.values()), vals, ctx);
    for (Map.Entry<Long, V> e : model.entrySet()) {
      assertSame(e.getValue(), t.get(e.getKey()), ctx + " key " + e.getKey());
    }
    // nextKey walks the same order
    List<Long> walked = new ArrayList<>();
    for (long k = t.nextKey(-1); k >= 0; k = t.nextKey(k)) {
      walked.add(k);
    }
    assertEquals(new ArrayList<>(model.keySet()), walked, ctx);
  }

  @Test
  void randomizedAgainstTreeMapWithPersistence() {
    long seed0 = System.nanoTime();
    for (int round = 0; round < 60; round++) {
      long seed = seed0 + round;
      Random r = new Random(seed);
      TreeMap<Long, String> model = new TreeMap<>();
      LongTrie<String> t = LongTrie.empty();
      List<TreeMap<Long, String>> oldModels = new ArrayList<>();
      List<LongTrie<String>> oldTries = new ArrayList<>();
      int ops = 200 + r.nextInt(400);
      for (int i = 0; i < ops; i++) {
        long k = r.nextInt(3) == 0 && !model.isEmpty()
            ? new ArrayList<>(model.keySet()).get(r.nextInt(model.size())) : key(r);
        if (r.nextInt(3) == 0) {
          model.remove(k);
          t = t.without(k);
        } else {
          String v = "v" + i;
          model.put(k, v);
          t = t.with(k, v);
        }
        assertEquals(model.get(k), t.get(k), "seed=" + seed + " op " + i);
        if (r.nextInt(20) == 0) {
          oldModels.add(new TreeMap<>(model));
          oldTries.add(t);
        }
      }
      same(model, t, seed);
      for (int i = 0; i < oldModels.size(); i++) {
        same(oldModels.get(i), oldTries.get(i), seed);
      }
      // random nextKey probes
      for (int i = 0; i < 200; i++) {
        long after = r.nextBoolean() ? key(r) : r.nextInt(10000) - 1;
        Long want = model.higherKey(after);
        assertEquals(want == null ? -1 : want, t.nextKey(after), "seed=" + seed + " after " + after);
      }
    }
  }

  @Test
  void edgesAndNegativeKeys() {
    LongTrie<String> t = LongTrie.empty();
    assertEquals(-1, t.nextKey(-1));
    assertNull(t.get(0));
    assertNull(t.get(-5));
    assertThrows(IllegalArgumentException.class, () -> LongTrie.<String>empty().with(-1, "x"));
    t = t.with(Long.MAX_VALUE, "max").with(0, "zero");
    assertEquals("max", t.get(Long.MAX_VALUE));
    assertEquals("zero", t.get(0));
    assertEquals(Long.MAX_VALUE, t.nextKey(0));
    assertEquals(-1, t.nextKey(Long.MAX_VALUE));
    assertEquals(0, t.nextKey(-1));
    t = t.without(0).without(Long.MAX_VALUE);
    assertEquals(0, t.size());
    assertEquals(-1, t.nextKey(-1));
    assertSame(t, t.without(42));
  }

  @Test
  void diffReportsExactlyChangedKeys() {
    long seed0 = System.nanoTime();
    for (int round = 0; round < 40; round++) {
      long seed = seed0 + round;
      Random r = new Random(seed);
      LongTrie<Object> a = LongTrie.empty();
      Map<Long, Object> ma = new HashMap<>();
      int n = 1 + r.nextInt(3000);
      for (int i = 0; i < n; i++) {
        long k = r.nextInt(4) == 0 ? key(r) : r.nextInt(n * 2);
        Object v = new Object();
        a = a.with(k, v);
        ma.put(k, v);
      }
      LongTrie<Object> b = a;
      Map<Long, Object> mb = new HashMap<>(ma);
      int changes = r.nextInt(30);
      for (int i = 0; i < changes; i++) {
        long k = r.nextBoolean() && !mb.isEmpty()
            ? new ArrayList<>(mb.keySet()).get(r.nextInt(mb.size())) : key(r);
        if (r.nextBoolean()) {
          b = b.without(k);
          mb.remove(k);
        } else {
          Object v = new Object();
          b = b.with(k, v);
          mb.put(k, v);
        }
      }
      TreeSet<Long> expected = new TreeSet<>();
      TreeSet<Long> all = new TreeSet<>(ma.keySet());
      all.addAll(mb.keySet());
      for (long k : all) {
        if (ma.get(k) != mb.get(k)) {
          expected.add(k);
        }
      }
      TreeSet<Long> got = new TreeSet<>();
      LongTrie.diff(a, b, (k, before, after) -> {
        assertSame(ma.get(k), before, "seed=" + seed);
        assertSame(mb.get(k), after, "seed=" + seed);
        if (!got.add(k)) {
          throw new AssertionError("reported twice " + k + " seed=" + seed);
        }
      });
      assertEquals(expected, got, "seed=" + seed);
      TreeSet<Long> back = new TreeSet<>();
      LongTrie.diff(b, a, (k, before, after) -> back.add(k));
      assertEquals(expected, back, "seed=" + seed);
    }
  }
}
