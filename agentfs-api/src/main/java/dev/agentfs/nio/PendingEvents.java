package dev.agentfs.nio;

import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.nio.file.WatchEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The events a watch key holds between two {@code pollEvents} calls, queued by the rules of the
 * JDK's own keys ({@code sun.nio.fs.AbstractWatchKey}, JDK 17), so code written against the
 * default file system sees the same lists here: an event equal (kind and context) to the last
 * one only raises that one's {@link WatchEvent#count()}, as does any event while the last one
 * is OVERFLOW; an ENTRY_MODIFY for a context whose latest queued event is an ENTRY_MODIFY raises
 * that event's count wherever it sits, so a burst of writes to one file is one event per poll;
 * and an event arriving when {@link #MAX} are queued drops them all for a single OVERFLOW
 * (context null), which every later event until the next poll only counts. Not thread-safe: the
 * owning key synchronises.
 */
final class PendingEvents {
  /**
   * The JDK's bound on one key's list. JDK 17 fixes it at 512; newer JDKs (25, for one) read
   * it from {@code jdk.nio.file.WatchService.maxEventsPerPoll}, default 512, which this does
   * not.
   */
  static final int MAX = 512;

  private List<Event<?>> events = new ArrayList<>();
  /** Per context, its latest queued event when that one is an ENTRY_MODIFY. */
  private final Map<Object, Event<?>> lastModify = new HashMap<>();

  /**
   * Queues an event of {@code kind} for {@code context}; true when a new event joined the list
   * (the key must be signalled), false when an existing one only counted it.
   */
  boolean add(WatchEvent.Kind<?> kind, @Nullable Object context) {
    boolean modify = kind == ENTRY_MODIFY;
    int size = events.size();
    if (size > 0) {
      Event<?> prev = events.get(size - 1);
      if (prev.kind() == OVERFLOW
          || (prev.kind() == kind && Objects.equals(prev.context(), context))) {
        prev.count++;
        return false;
      }
      if (!lastModify.isEmpty()) {
        if (modify) {
          Event<?> e = lastModify.get(context);
          if (e != null) {
            e.count++;
            return false;
          }
        } else {
          lastModify.remove(context);
        }
      }
      if (size >= MAX) {
        kind = OVERFLOW;
        modify = false;
        context = null;
      }
    }
    Event<?> e = new Event<>(kind, context);
    if (modify) {
      lastModify.put(context, e);
    } else if (kind == OVERFLOW) {
      events.clear();
      lastModify.clear();
    }
    events.add(e);
    return true;
  }

  boolean isEmpty() {
    return events.isEmpty();
  }

  /** Removes and returns every queued event, oldest first. */
  List<WatchEvent<?>> drain() {
    List<WatchEvent<?>> out = List.copyOf(events);
    events = new ArrayList<>();
    lastModify.clear();
    return out;
  }

  /** One queued event; its count grows while it is pending and freezes once drained. */
  private static final class Event<T> implements WatchEvent<T> {
    private final Kind<T> kind;
    private final @Nullable T context;
    private int count = 1;

    @SuppressWarnings("unchecked")
    Event(Kind<T> kind, @Nullable Object context) {
      this.kind = kind;
      this.context = (T) context;
    }

    @Override
    public Kind<T> kind() {
      return kind;
    }

    @Override
    public int count() {
      return count;
    }

    @Override
    public @Nullable T context() {
      return context;
    }

    @Override
    public String toString() {
      return kind + " " + context + (count > 1 ? " x" + count : "");
    }
  }
}
