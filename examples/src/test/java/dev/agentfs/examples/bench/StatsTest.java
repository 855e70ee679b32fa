package dev.agentfs.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void medianOfAnOddCountIsTheMiddleSample() {
    Stats s = Stats.of(List.of(3.0, 1.0, 2.0));
    assertEquals(new Stats(3, 2.0, 1.0, 3.0), s);
    assertEquals(1.0, s.spread(), 1e-12);
  }

  @Test
  void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertEquals(new Stats(4, 2.5, 1.0, 10.0), Stats.of(List.of(10.0, 2.0, 1.0, 3.0)));
  }

  @Test
  void oneSampleIsItsOwnSpread() {
    assertEquals(new Stats(1, 5.0, 5.0, 5.0), Stats.of(List.of(5.0)));
  }

  @Test
  void noSamplesIsAnError() {
    assertThrows(IllegalArgumentException.class, () -> Stats.of(List.of()));
  }

  @Test
  void quickSizesAreSmallAndScaleHasFloors() {
    Sizes q = Sizes.scaled(Sizes.QUICK);
    assertEquals(64L << 20, q.seqBytes());
    assertEquals(625, q.metaFiles());
    Sizes tiny = Sizes.scaled(1e-6);
    assertEquals(4L << 20, tiny.seqBytes());
    assertEquals(10, tiny.metaFiles());
    assertEquals(Sizes.full(), Sizes.scaled(1));
  }
}
