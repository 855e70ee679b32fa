package dev.agentfs.nio;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.WatchEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The queueing rules of the JDK's watch keys (sun.nio.fs.AbstractWatchKey in JDK 17), one rule
 * per test, on plain string contexts; NioScenarioTest compares whole watch services with the
 * default file system.
 */
class PendingEventsTest {
  private final PendingEvents q = new PendingEvents();

  private static List<String> render(List<WatchEvent<?>> events) {
    List<String> out = new ArrayList<>();
    for (WatchEvent<?> e : events) {
      out.add(e.kind().name() + " " + e.context() + " " + e.count());
    }
    return out;
  }

  @Test
  void aRepeatAtTheTailIsCounted() {
    assertTrue(q.add(ENTRY_CREATE, "a"));
    assertFalse(q.add(ENTRY_CREATE, "a"));
    assertTrue(q.add(ENTRY_CREATE, "b"));
    assertTrue(q.add(ENTRY_CREATE, "a"));
    assertEquals(List.of("ENTRY_CREATE a 2", "ENTRY_CREATE b 1", "ENTRY_CREATE a 1"),
        render(q.drain()));
  }

  @Test
  void modificationsOfOneContextAreOneEventPerPollWhereverItSits() {
    q.add(ENTRY_MODIFY, "f");
    q.add(ENTRY_CREATE, "h");
    q.add(ENTRY_MODIFY, "g");
    assertFalse(q.add(ENTRY_MODIFY, "f"));
    assertFalse(q.add(ENTRY_MODIFY, "f"));
    assertEquals(List.of("ENTRY_MODIFY f 3", "ENTRY_CREATE h 1", "ENTRY_MODIFY g 1"),
        render(q.drain()));
    assertTrue(q.isEmpty());
    assertTrue(q.add(ENTRY_MODIFY, "f"), "a new poll starts a new event");
    assertEquals(List.of("ENTRY_MODIFY f 1"), render(q.drain()));
  }

  @Test
  void anotherKindForTheContextEndsItsModifyRun() {
    q.add(ENTRY_MODIFY, "f");
    q.add(ENTRY_DELETE, "f");
    q.add(ENTRY_CREATE, "g");
    assertTrue(q.add(ENTRY_MODIFY, "f"));
    assertEquals(List.of("ENTRY_MODIFY f 1", "ENTRY_DELETE f 1", "ENTRY_CREATE g 1",
        "ENTRY_MODIFY f 1"), render(q.drain()));
  }

  @Test
  void theEventAfterTheLimitReplacesEverythingWithOneOverflow() {
    for (int i = 0; i < PendingEvents.MAX; i++) {
      assertTrue(q.add(ENTRY_CREATE, "n" + i));
    }
    assertTrue(q.add(ENTRY_CREATE, "one-too-many"));
    assertFalse(q.add(ENTRY_DELETE, "x"));
    assertFalse(q.add(ENTRY_MODIFY, "n1"));
    List<WatchEvent<?>> events = q.drain();
    assertEquals(1, events.size());
    assertEquals(OVERFLOW, events.get(0).kind());
    assertEquals(null, events.get(0).context());
    assertEquals(3, events.get(0).count());
    assertTrue(q.add(ENTRY_CREATE, "fresh"));
    assertEquals(List.of("ENTRY_CREATE fresh 1"), render(q.drain()));
  }

  @Test
  void modifyRunsDoNotGrowAFullList() {
    for (int i = 0; i < PendingEvents.MAX - 2; i++) {
      q.add(ENTRY_CREATE, "n" + i);
    }
    q.add(ENTRY_MODIFY, "f");
    q.add(ENTRY_CREATE, "last");
    for (int i = 0; i < 10_000; i++) {
      assertFalse(q.add(ENTRY_MODIFY, "f"));
    }
    List<String> events = render(q.drain());
    assertEquals(PendingEvents.MAX, events.size());
    assertEquals("ENTRY_MODIFY f 10001", events.get(PendingEvents.MAX - 2));
    assertEquals("ENTRY_CREATE last 1", events.get(PendingEvents.MAX - 1));
  }

  @Test
  void drainedEventsNoLongerCount() {
    q.add(ENTRY_MODIFY, "f");
    List<WatchEvent<?>> first = q.drain();
    q.add(ENTRY_MODIFY, "f");
    assertEquals(1, first.get(0).count());
  }
}
