package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.FileLock;
import dev.agentfs.vfs.Modes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * POSIX record locks (per owner, byte ranges, split and merged as fcntl does) and flock locks
 * (per open file, whole file) for the inodes of one branch. As on Linux the two kinds do not
 * conflict with each other. Blocking requests wait on this table's monitor and end with EINTR
 * when their thread is interrupted (the transport interrupts on FUSE_INTERRUPT).
 */
final class LockTable {
  private record Lk(long owner, long start, long end, int type, int pid) {
    boolean overlaps(long s, long e) {
      return start <= e && s <= end;
    }
  }

  private final Map<Long, List<Lk>> posix = new HashMap<>();
  private final Map<Long, List<Lk>> flocks = new HashMap<>();

  synchronized FileLock getlk(long ino, long owner, FileLock want) {
    Lk c = conflict(posix.get(ino), owner, want.start(), want.end(), want.type());
    if (c == null) {
      return new FileLock(want.start(), want.end(), Modes.F_UNLCK, 0);
    }
    return new FileLock(c.start, c.end, c.type, c.pid);
  }

  synchronized void setlk(long ino, long owner, FileLock l, boolean wait, boolean flock)
      throws AgentFsException {
    Map<Long, List<Lk>> table = flock ? flocks : posix;
    long start = flock ? 0 : l.start();
    long end = flock ? Long.MAX_VALUE : l.end();
    if (start < 0 || end < start) {
      throw new AgentFsException(Errno.EINVAL, null);
    }
    if (l.type() != Modes.F_UNLCK) {
      while (conflict(table.get(ino), owner, start, end, l.type()) != null) {
        if (!wait) {
          throw new AgentFsException(Errno.EAGAIN, null);
        }
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AgentFsException(Errno.EINTR, null);
        }
      }
    }
    List<Lk> list = table.computeIfAbsent(ino, k -> new ArrayList<>());
    subtract(list, owner, start, end);
    if (l.type() != Modes.F_UNLCK) {
      list.add(new Lk(owner, start, end, l.type(), l.pid()));
      merge(list, owner);
    }
    if (list.isEmpty()) {
      table.remove(ino);
    }
    notifyAll();
  }

  /** Drops every POSIX lock {@code owner} holds on {@code ino} (close of any descriptor). */
  synchronized void releasePosix(long ino, long owner) {
    release(posix, ino, owner);
  }

  /** Drops the flock lock held through open file {@code fh}. */
  synchronized void releaseFlock(long ino, long fh) {
    release(flocks, ino, fh);
  }

  private void release(Map<Long, List<Lk>> table, long ino, long owner) {
    List<Lk> list = table.get(ino);
    if (list != null && list.removeIf(x -> x.owner == owner)) {
      if (list.isEmpty()) {
        table.remove(ino);
      }
      notifyAll();
    }
  }

  private static Lk conflict(List<Lk> list, long owner, long start, long end, int type) {
    if (list == null) {
      return null;
    }
    for (Lk x : list) {
      if (x.owner != owner && x.overlaps(start, end)
          && (type == Modes.F_WRLCK || x.type == Modes.F_WRLCK)) {
        return x;
      }
    }
    return null;
  }

  /** Removes [start, end] from the owner's locks, splitting locks that straddle it. */
  private static void subtract(List<Lk> list, long owner, long start, long end) {
    List<Lk> add = new ArrayList<>();
    for (Iterator<Lk> it = list.iterator(); it.hasNext(); ) {
      Lk x = it.next();
      if (x.owner != owner || !x.overlaps(start, end)) {
        continue;
      }
      it.remove();
      if (x.start < start) {
        add.add(new Lk(owner, x.start, start - 1, x.type, x.pid));
      }
      if (x.end > end) {
        add.add(new Lk(owner, end + 1, x.end, x.type, x.pid));
      }
    }
    list.addAll(add);
  }

  /** Coalesces the owner's overlapping or adjacent locks of one type, as Linux reports them. */
  private static void merge(List<Lk> list, long owner) {
    boolean changed = true;
    while (changed) {
      changed = false;
      outer:
      for (int i = 0; i < list.size(); i++) {
        Lk a = list.get(i);
        if (a.owner != owner) {
          continue;
        }
        for (int j = i + 1; j < list.size(); j++) {
          Lk b = list.get(j);
          if (b.owner == owner && b.type == a.type
              && a.start <= (b.end == Long.MAX_VALUE ? b.end : b.end + 1)
              && b.start <= (a.end == Long.MAX_VALUE ? a.end : a.end + 1)) {
            list.remove(j);
            list.set(i, new Lk(owner, Math.min(a.start, b.start), Math.max(a.end, b.end), a.type,
                a.pid));
            changed = true;
            break outer;
          }
        }
      }
    }
  }
}
