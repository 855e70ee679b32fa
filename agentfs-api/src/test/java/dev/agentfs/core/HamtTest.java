package dev.agentfs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HamtTest {
  /** A key with a deliberately poor hash: many full 32-bit collisions and shared prefixes. */
  record BadKey(int id, int hash) {
    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BadKey k && k.id == id;
    }
  }

  private static BadKey key(Random r, int space) {
    int id = r.nextInt(space);
    int h = switch (id % 4) {
      case 0 -> 7;                      // full collision
      case 1 -> id & 0x1f;              // collide on everything above the first level
      case 2 -> (id % 3) << 30;         // differ only in top bits
      default -> id * 0x9E3779B9;
    };
    return new BadKey(id, h);
  }

  private static <K, V> void same(Map<K, V> model, Hamt<K, V> h, long seed) {
    assertEquals(model.size(), h.size(), "seed=" + seed);
    assertEquals(model.isEmpty(), h.isEmpty(), "seed=" + seed);
    Map<K, V> walked = new HashMap<>();
    h.forEach((k, v) -> {
      if (walked.put(k, v) != null) {
        throw new AssertionError("key twice " + k + " seed=" + seed);
      }
    });
    assertEquals(model, walked, "seed=" + seed);
    for (Map.Entry<K, V> e : model.entrySet()) {
      assertSame(e.getValue(), h.get(e.getKey()), "seed=" + seed);
    }
  }

  @Test
  void randomizedAgainstHashMapWithCollisionsAndPersistence() {
    long seed0 = System.nanoTime();
    for (int round = 0; round < 80; round++) {
      long seed = seed0 + round;
      Random r = new Random(seed);
      int space = 4 + r.nextInt(300);
      Map<BadKey, String> model = new HashMap<>();
      Hamt<BadKey, String> h = Hamt.empty();
      List<Map<BadKey, String>> oldM = new ArrayList<>();
      List<Hamt<BadKey, String>> oldH = new ArrayList<>();
      for (int i = 0; i < 600; i++) {
        BadKey k = key(r, space);
        if (r.nextInt(3) == 0) {
          model.remove(k);
          h = h.without(k);
        } else {
          String v = "v" + i;
          model.put(k, v);
          h = h.with(k, v);
        }
        assertEquals(model.get(k), h.get(k), "seed=" + seed + " op " + i);
        assertEquals(model.size(), h.size(), "seed=" + seed + " op " + i);
        if (r.nextInt(25) == 0) {
          oldM.add(new HashMap<>(model));
          oldH.add(h);
        }
      }
      same(model, h, seed);
      for (int i = 0; i < oldM.size(); i++) {
        same(oldM.get(i), oldH.get(i), seed);
      }
      // drain completely
      for (BadKey k : new ArrayList<>(model.keySet())) {
        h = h.without(k);
        model.remove(k);
        same(model, h, seed);
      }
      assertTrue(h.isEmpty());
    }
  }

  @Test
  void namesAsKeys() {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    Map<Name, Integer> model = new HashMap<>();
    Hamt<Name, Integer> h = Hamt.empty();
    for (int i = 0; i < 5000; i++) {
      Name n = Name.of("f" + r.nextInt(3000));
      Integer boxed = i;
      if (r.nextInt(4) == 0) {
        model.remove(n);
        h = h.without(n);
      } else {
        model.put(n, boxed);
        h = h.with(n, boxed);
      }
    }
    same(model, h, seed);
  }

  @Test
  void samValueIsNoOp() {
    Hamt<String, String> h = Hamt.<String, String>empty().with("a", "x");
    String v = h.get("a");
    assertSame(h, h.with("a", v));
    assertSame(h, h.without("zz"));
  }
}
