package dev.agentfs.it;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.Content;
import dev.agentfs.spi.MetadataLog;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A backstore decorator that breaks on demand, switchable while a mount serves it: chosen
 * calls fail with a chosen errno (EIO, ENOSPC, ...) until {@link #heal()}, and calls on
 * contents carrying a tag can be held (a backstore as slow as the test wants) until
 * {@link #release()}. Everything else goes to the wrapped backstore unchanged, so a test sees
 * exactly what the filesystem above makes of a failing or stalled store (or of a buggy one
 * that throws unchecked exceptions). A failed call
 * changes nothing underneath (it fails before delegating), as the {@link Content} contract
 * asks of a failed write.
 */
public final class FaultyBackstore implements Backstore {
  /** The calls that can be broken. */
  public enum Call { NEW_CONTENT, READ, WRITE, TRUNCATE, ALLOCATE, SYNC, COPY, LOG_APPEND, LOG_SYNC }

  private final Backstore inner;
  private final @Nullable MetadataLog log;
  private final Map<Call, Errno> failing = new ConcurrentHashMap<>();
  private final Set<Call> buggy = ConcurrentHashMap.newKeySet();
  private final Map<Call, AtomicLong> injected = new ConcurrentHashMap<>();
  private volatile @Nullable String nextTag;

  // The hold: calls in heldCalls on contents tagged heldTag wait on this monitor.
  private final Object gate = new Object();
  private @Nullable String heldTag;
  private Set<Call> heldCalls = EnumSet.noneOf(Call.class);
  private int waiting;

  public FaultyBackstore(Backstore inner) {
    this.inner = inner;
    MetadataLog l = inner.metadataLog();
    this.log = l == null ? null : new FaultyLog(l);
  }

  /** From now on every call in {@code calls} fails with {@code errno}. */
  public void fail(Errno errno, Call... calls) {
    for (Call c : calls) {
      failing.put(c, errno);
    }
  }

  /**
   * From now on every call in {@code calls} throws an unchecked exception, as a buggy
   * backstore would, instead of failing with an errno as the contract asks.
   */
  public void breakWithBug(Call... calls) {
    buggy.addAll(List.of(calls));
  }

  /** Every call works again. */
  public void heal() {
    failing.clear();
    buggy.clear();
  }

  /** How many calls of kind {@code c} were failed on purpose so far. */
  public long injected(Call c) {
    AtomicLong n = injected.get(c);
    return n == null ? 0 : n.get();
  }

  /** The next content created carries {@code tag} (copies of it do not). */
  public void tagNextContent(String tag) {
    nextTag = tag;
  }

  /** Calls in {@code calls} on contents tagged {@code tag} wait until {@link #release()}. */
  public void hold(String tag, Call... calls) {
    synchronized (gate) {
      heldTag = tag;
      heldCalls = calls.length == 0 ? EnumSet.noneOf(Call.class) : EnumSet.of(calls[0], calls);
    }
  }

  /** Lets every held call go on, and holds nothing more. */
  public void release() {
    synchronized (gate) {
      heldTag = null;
      heldCalls = EnumSet.noneOf(Call.class);
      gate.notifyAll();
    }
  }

  /** Waits until at least {@code n} calls are held; false when {@code timeout} passes first. */
  public boolean awaitHeld(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (gate) {
      while (waiting < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        gate.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  /** Calls held right now. */
  public int held() {
    synchronized (gate) {
      return waiting;
    }
  }

  private void enter(Call c, @Nullable String tag, @Nullable String what)
      throws AgentFsException {
    if (tag != null) {
      synchronized (gate) {
        if (tag.equals(heldTag) && heldCalls.contains(c)) {
          waiting++;
          gate.notifyAll();
          try {
            while (tag.equals(heldTag) && heldCalls.contains(c)) {
              gate.wait();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentFsException(Errno.EINTR, what, null, "interrupted while held");
          } finally {
            waiting--;
          }
        }
      }
    }
    if (buggy.contains(c)) {
      injected.computeIfAbsent(c, k -> new AtomicLong()).incrementAndGet();
      throw new IllegalStateException("injected bug in " + c + " of " + what);
    }
    Errno e = failing.get(c);
    if (e != null) {
      injected.computeIfAbsent(c, k -> new AtomicLong()).incrementAndGet();
      throw new AgentFsException(e, what, null, "injected " + c);
    }
  }

  @Override
  public String name() {
    return "faulty(" + inner.name() + ")";
  }

  @Override
  public java.nio.file.@Nullable Path hostDirectory() {
    return inner.hostDirectory();
  }

  @Override
  public Set<BackstoreFeature> features() {
    return inner.features();
  }

  @Override
  public Content newContent() throws AgentFsException {
    enter(Call.NEW_CONTENT, null, null);
    String tag = nextTag;
    nextTag = null;
    return new FaultyContent(inner.newContent(), tag);
  }

  @Override
  public Content openContent(String id) throws AgentFsException {
    return new FaultyContent(inner.openContent(id), null);
  }

  @Override
  public void retainOnly(Set<String> live) throws AgentFsException {
    inner.retainOnly(live);
  }

  @Override
  public long capacityBytes() {
    return inner.capacityBytes();
  }

  @Override
  public long usedBytes() {
    return inner.usedBytes();
  }

  @Override
  public @Nullable MetadataLog metadataLog() {
    return log;
  }

  @Override
  public void close() {
    release();
    inner.close();
  }

  private final class FaultyContent implements Content {
    private final Content c;
    private final @Nullable String tag;

    FaultyContent(Content c, @Nullable String tag) {
      this.c = c;
      this.tag = tag;
    }

    private String what() {
      return "content " + (tag != null ? tag : c.id() != null ? c.id() : "#" + hashCode());
    }

    @Override
    public long size() {
      return c.size();
    }

    @Override
    public long allocatedBytes() {
      return c.allocatedBytes();
    }

    @Override
    public int read(long position, ByteBuffer dst) throws AgentFsException {
      enter(Call.READ, tag, what());
      return c.read(position, dst);
    }

    @Override
    public void write(long position, ByteBuffer src) throws AgentFsException {
      enter(Call.WRITE, tag, what());
      c.write(position, src);
    }

    @Override
    public void truncate(long size) throws AgentFsException {
      enter(Call.TRUNCATE, tag, what());
      c.truncate(size);
    }

    @Override
    public void allocate(long offset, long length, boolean keepSize) throws AgentFsException {
      enter(Call.ALLOCATE, tag, what());
      c.allocate(offset, length, keepSize);
    }

    @Override
    public void punchHole(long offset, long length) throws AgentFsException {
      enter(Call.ALLOCATE, tag, what());
      c.punchHole(offset, length);
    }

    @Override
    public long seekData(long offset) throws AgentFsException {
      return c.seekData(offset);
    }

    @Override
    public long seekHole(long offset) throws AgentFsException {
      return c.seekHole(offset);
    }

    @Override
    public Content copy() throws AgentFsException {
      enter(Call.COPY, tag, what());
      return new FaultyContent(c.copy(), null);
    }

    @Override
    public @Nullable String id() {
      return c.id();
    }

    @Override
    public @Nullable Path hostPath() {
      return c.hostPath();
    }

    @Override
    public void sync(boolean dataOnly) throws AgentFsException {
      enter(Call.SYNC, tag, what());
      c.sync(dataOnly);
    }

    @Override
    public void release() {
      c.release();
    }
  }

  private final class FaultyLog implements MetadataLog {
    private final MetadataLog l;

    FaultyLog(MetadataLog l) {
      this.l = l;
    }

    @Override
    public void append(List<ByteBuffer> batch, boolean sync) throws AgentFsException {
      enter(Call.LOG_APPEND, null, "metadata log");
      l.append(batch, sync);
    }

    @Override
    public void sync() throws AgentFsException {
      enter(Call.LOG_SYNC, null, "metadata log");
      l.sync();
    }

    @Override
    public void replay(BatchSink sink) throws AgentFsException {
      l.replay(sink);
    }

    @Override
    public long sizeBytes() {
      return l.sizeBytes();
    }

    @Override
    public void close() {
      l.close();
    }
  }
}
