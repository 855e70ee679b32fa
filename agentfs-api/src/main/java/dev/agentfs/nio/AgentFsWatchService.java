package dev.agentfs.nio;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.agentfs.AgentFsException;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.ChangeListener;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.Watchable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Watches directories of one branch, driven by the core's {@link ChangeListener} callbacks
 * rather than by polling. The callbacks name an inode or a (directory, name) pair but not the
 * branch, and arrive on the thread that made the change, which must not be held up; so they are
 * queued, and a daemon thread per service compares each watched directory's entries (name,
 * inode, and the attributes stat shows) with what it last saw in this service's branch. A name
 * that appeared is ENTRY_CREATE, one that went away ENTRY_DELETE, one whose inode's attributes
 * or contents changed ENTRY_MODIFY — the mapping Linux's inotify gets from the JDK. Changes in
 * other branches, which share inode numbers, compare equal and raise nothing. Several changes
 * made before the thread looks may be reported as one, as with any watch service. Each key
 * queues its events by the JDK's rules ({@link PendingEvents}): repeats are counted, a burst of
 * modifications of one file is one ENTRY_MODIFY per poll, and more than 512 pending events
 * collapse into one OVERFLOW.
 */
final class AgentFsWatchService implements WatchService {
  private final AgentFsFileSystem fs;
  private final LinkedBlockingDeque<Key> ready = new LinkedBlockingDeque<>();
  private final LinkedBlockingQueue<Object> raw = new LinkedBlockingQueue<>();
  private final Map<Long, Key> byDir = new ConcurrentHashMap<>();
  private final Key closeSentinel;
  private final Thread worker;
  private final ChangeListener listener;
  private volatile boolean closed;

  private record EntryChange(long parent, byte[] name) {}

  private static final Object STOP = new Object();

  AgentFsWatchService(AgentFsFileSystem fs) {
    this.fs = fs;
    this.closeSentinel = new Key(fs.root(), -1, Set.of());
    this.listener = new ChangeListener() {
      @Override
      public void inodeChanged(long ino) {
        raw.add(ino);
      }

      @Override
      public void entryChanged(long parent, byte[] name) {
        raw.add(new EntryChange(parent, name.clone()));
      }
    };
    fs.core().addListener(listener);
    this.worker = new Thread(this::run, "agentfs-watch-" + fs.branch().name());
    worker.setDaemon(true);
    worker.start();
  }

  // ---------------------------------------------------------------- registration

  WatchKey register(AgentFsPath dir, WatchEvent.Kind<?>[] kinds, WatchEvent.Modifier... mods)
      throws IOException {
    if (dir.getFileSystem() != fs) {
      throw new java.nio.file.ProviderMismatchException();
    }
    Set<WatchEvent.Kind<?>> want = new HashSet<>();
    for (WatchEvent.Kind<?> k : kinds) {
      if (k == ENTRY_CREATE || k == ENTRY_DELETE || k == ENTRY_MODIFY) {
        want.add(k);
      } else if (k != OVERFLOW) {
        throw new UnsupportedOperationException(k.name() + " not supported");
      }
    }
    if (want.isEmpty()) {
      throw new IllegalArgumentException("No events to register");
    }
    ensureOpen();
    Attr a = fs.provider().stat(dir, true);
    if (!a.isDirectory()) {
      throw new NotDirectoryException(dir.toString());
    }
    synchronized (this) {
      ensureOpen();
      Key k = byDir.get(a.ino());
      if (k != null && k.isValid()) {
        k.kinds = Set.copyOf(want);
        return k;
      }
      k = new Key(dir, a.ino(), want);
      k.scan();
      byDir.put(a.ino(), k);
      return k;
    }
  }

  // ---------------------------------------------------------------- the worker

  private void run() {
    try {
      while (!closed) {
        Object o = raw.take();
        if (o == STOP) {
          return;
        }
        handle(o);
        for (Object more; (more = raw.poll()) != null; ) {
          if (more == STOP) {
            return;
          }
          handle(more);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handle(Object o) {
    if (o instanceof EntryChange ec) {
      Key k = byDir.get(ec.parent());
      if (k != null) {
        k.entryChanged(ec.name());
      }
    } else if (o instanceof Long ino) {
      Key self = byDir.get(ino);
      if (self != null) {
        self.checkAlive();
      }
      for (Key k : byDir.values()) {
        k.inodeChanged(ino);
      }
    }
  }

  // ---------------------------------------------------------------- the service

  private void ensureOpen() {
    if (closed) {
      throw new ClosedWatchServiceException();
    }
  }

  private @Nullable WatchKey checkKey(@Nullable Key k) {
    if (k == closeSentinel) {
      ready.offer(closeSentinel);
      throw new ClosedWatchServiceException();
    }
    return k;
  }

  @Override
  public @Nullable WatchKey poll() {
    ensureOpen();
    return checkKey(ready.poll());
  }

  @Override
  public @Nullable WatchKey poll(long timeout, TimeUnit unit) throws InterruptedException {
    ensureOpen();
    return checkKey(ready.poll(timeout, unit));
  }

  @Override
  public WatchKey take() throws InterruptedException {
    ensureOpen();
    WatchKey k = checkKey(ready.take());
    if (k == null) {
      throw new IllegalStateException();
    }
    return k;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    fs.core().removeListener(listener);
    fs.untrack(this);
    raw.add(STOP);
    for (Key k : byDir.values()) {
      k.valid = false;
    }
    byDir.clear();
    ready.clear();
    ready.offer(closeSentinel);
  }

  // ---------------------------------------------------------------- keys

  private record Seen(long ino, long mtime, long ctime, long size, int mode, int nlink) {
    static Seen of(Attr a) {
      return new Seen(a.ino(), a.mtimeNs(), a.ctimeNs(), a.size(), a.mode(), a.nlink());
    }
  }

  private record Name(byte[] bytes) {
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Name n && java.util.Arrays.equals(n.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(bytes);
    }
  }

  final class Key implements WatchKey {
    private final AgentFsPath dir;
    private final long dirIno;
    volatile Set<WatchEvent.Kind<?>> kinds;
    volatile boolean valid = true;
    /** Only the worker thread (and register, before the key is published) touch these. */
    private final Map<Name, Seen> children = new HashMap<>();
    private final Map<Long, Set<Name>> namesByIno = new HashMap<>();
    private final PendingEvents events = new PendingEvents();
    private boolean signalled;

    Key(AgentFsPath dir, long dirIno, Set<WatchEvent.Kind<?>> kinds) {
      this.dir = dir;
      this.dirIno = dirIno;
      this.kinds = kinds;
    }

    void scan() throws IOException {
      AgentFsFileSystem f = fs;
      try {
        long fh = f.vfs().opendir(f.caller(), dirIno, 0);
        try {
          List<byte[]> names = new ArrayList<>();
          f.vfs().readdir(f.caller(), dirIno, fh, 2, false, (name, child, mode, next, attr) -> {
            names.add(name);
            return true;
          });
          for (byte[] n : names) {
            Seen s = look(n);
            if (s != null) {
              put(new Name(n), s);
            }
          }
        } finally {
          f.vfs().releasedir(dirIno, fh);
        }
      } catch (dev.agentfs.AgentFsException e) {
        throw Errors.map(e, dir.toString(), null);
      }
    }

    private @Nullable Seen look(byte[] name) {
      try {
        return Seen.of(fs.attr(fs.lookup(dirIno, name)));
      } catch (AgentFsException e) {
        return null;
      }
    }

    private void put(Name n, Seen s) {
      Seen old = children.put(n, s);
      if (old != null && old.ino() != s.ino()) {
        unindex(n, old.ino());
      }
      namesByIno.computeIfAbsent(s.ino(), x -> new HashSet<>()).add(n);
    }

    private void unindex(Name n, long ino) {
      Set<Name> s = namesByIno.get(ino);
      if (s != null) {
        s.remove(n);
        if (s.isEmpty()) {
          namesByIno.remove(ino);
        }
      }
    }

    void entryChanged(byte[] raw) {
      if (!valid) {
        return;
      }
      Name n = new Name(raw);
      Seen before = children.get(n);
      Seen now = look(raw);
      if (before == null && now != null) {
        put(n, now);
        signal(ENTRY_CREATE, raw);
      } else if (before != null && now == null) {
        children.remove(n);
        unindex(n, before.ino());
        signal(ENTRY_DELETE, raw);
      } else if (before != null && now != null && !before.equals(now)) {
        put(n, now);
        signal(before.ino() != now.ino() ? ENTRY_CREATE : ENTRY_MODIFY, raw);
      }
    }

    void inodeChanged(long ino) {
      if (!valid) {
        return;
      }
      Set<Name> names = namesByIno.get(ino);
      if (names == null) {
        return;
      }
      for (Name n : List.copyOf(names)) {
        Seen before = children.get(n);
        Seen now = look(n.bytes());
        if (before == null || now == null || now.ino() != before.ino()) {
          entryChanged(n.bytes());
        } else if (!now.equals(before)) {
          children.put(n, now);
          signal(ENTRY_MODIFY, n.bytes());
        }
      }
    }

    /** The watched directory itself was removed (or replaced): the key is cancelled. */
    void checkAlive() {
      try {
        Attr a = fs.attr(dirIno);
        if (a.nlink() > 0) {
          return;
        }
      } catch (AgentFsException e) {
        // gone
      }
      valid = false;
      byDir.remove(dirIno, this);
      synchronized (this) {
        if (!signalled) {
          signalled = true;
          ready.offer(this);
        }
      }
    }

    private void signal(WatchEvent.Kind<Path> kind, byte[] name) {
      if (!kinds.contains(kind)) {
        return;
      }
      Path ctx = new AgentFsPath(fs, name);
      synchronized (this) {
        if (events.add(kind, ctx) && !signalled) {
          signalled = true;
          ready.offer(this);
        }
      }
    }

    @Override
    public boolean isValid() {
      return valid && !closed;
    }

    @Override
    public synchronized List<WatchEvent<?>> pollEvents() {
      return events.drain();
    }

    @Override
    public synchronized boolean reset() {
      if (!isValid()) {
        return false;
      }
      if (signalled) {
        if (events.isEmpty()) {
          signalled = false;
        } else {
          ready.offer(this);
        }
      }
      return true;
    }

    @Override
    public void cancel() {
      valid = false;
      byDir.remove(dirIno, this);
    }

    @Override
    public Watchable watchable() {
      return dir;
    }

    @Override
    public String toString() {
      return "WatchKey[" + dir + "]";
    }
  }
}
