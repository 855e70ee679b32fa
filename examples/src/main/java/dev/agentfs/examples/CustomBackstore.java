package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Backstores;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreFeature;
import dev.agentfs.spi.BackstoreProvider;
import dev.agentfs.spi.Content;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A third-party backstore through the SPI: {@link QuotaBackstore} wraps another backstore (here
 * the in-memory one), refuses writes past a quota with ENOSPC and counts what the core asks of
 * it. {@link Provider} registers it in {@code META-INF/services} under the scheme {@code
 * quota}, so {@code Backstores.open("quota:64k")} and {@code agentfs.jar mount --backstore
 * quota:64k} find it. The test runs the backstore conformance kit against it.
 */
public final class CustomBackstore {
  private CustomBackstore() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws AgentFsException {
    Backstore store = Backstores.open("quota:256k");           // found through the Provider
    QuotaBackstore quota = (QuotaBackstore) store;
    try (AgentFs fs = AgentFs.builder().backstore(store).build()) {
      Branch main = fs.main();
      main.write("/a.bin", bytes(100 * 1024));
      // used counts the inner store's chunks: 64 KiB + 36 KiB stored as 64 + 64.
      out.println("after a 100 KiB file: used " + store.usedBytes() / 1024 + " KiB of "
          + store.capacityBytes() / 1024 + " KiB");

      Branch copy = fs.createBranch("copy", main);             // shares a.bin's chunks...
      copy.append("/a.bin", new byte[] {1});                   // ...but the last one
      out.println("after a branch appended 1 byte: used " + store.usedBytes() / 1024 + " KiB");

      try {
        main.write("/b.bin", bytes(200 * 1024));
      } catch (AgentFsException e) {
        out.println("a 200 KiB file fails: " + e.errno());
      }
      out.println("calls: " + quota.newContents + " newContent, " + quota.copies + " copy, "
          + quota.refused + " refused");
    }
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) 'x');                     // zeros would be stored as holes
    return b;
  }

  /** Registered in META-INF/services/dev.agentfs.spi.BackstoreProvider. */
  public static final class Provider implements BackstoreProvider {
    @Override
    public String scheme() {
      return "quota";
    }

    /** {@code SIZE[:INNER-SPEC]}, e.g. {@code 64m} or {@code 1g:hostfs:/var/agentfs}. */
    @Override
    public Backstore open(String argument) throws AgentFsException {
      int colon = argument.indexOf(':');
      String size = colon < 0 ? argument : argument.substring(0, colon);
      String inner = colon < 0 ? "memory" : argument.substring(colon + 1);
      long bytes;
      try {
        bytes = parse(size);
      } catch (NumberFormatException e) {
        throw new AgentFsException(Errno.EINVAL, "quota:" + argument, null,
            "quota:SIZE[:INNER], e.g. quota:64m");
      }
      return new QuotaBackstore(Backstores.open(inner), bytes, line -> { });
    }

    private static long parse(String s) {
      String t = s.strip().toLowerCase(java.util.Locale.ROOT);
      int shift = t.endsWith("k") ? 10 : t.endsWith("m") ? 20 : t.endsWith("g") ? 30 : 0;
      return Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1)) << shift;
    }
  }

  /** Delegates everything, checks a quota before anything that may take storage. */
  public static final class QuotaBackstore implements Backstore {
    private final Backstore inner;
    private final long quota;
    private final Consumer<String> log;
    final AtomicLong newContents = new AtomicLong();
    final AtomicLong copies = new AtomicLong();
    final AtomicLong refused = new AtomicLong();

    public QuotaBackstore(Backstore inner, long quota, Consumer<String> log) {
      this.inner = inner;
      this.quota = quota;
      this.log = log;
    }

    @Override
    public String name() {
      return "quota(" + quota + "):" + inner.name();
    }

    @Override
    public Set<BackstoreFeature> features() {
      Set<BackstoreFeature> f = EnumSet.noneOf(BackstoreFeature.class);
      f.addAll(inner.features());
      f.remove(BackstoreFeature.HOST_FILES);   // writes through host fds would bypass the quota
      f.add(BackstoreFeature.BOUNDED);
      return f;
    }

    @Override
    public Content newContent() throws AgentFsException {
      newContents.incrementAndGet();
      return new QuotaContent(inner.newContent());
    }

    @Override
    public long capacityBytes() {
      return Math.min(quota, inner.capacityBytes());
    }

    @Override
    public long usedBytes() {
      return inner.usedBytes();
    }

    @Override
    public void close() {
      log.accept("close " + name());
      inner.close();
    }

    /** Refuses a change that could need {@code more} bytes beyond the quota. */
    void reserve(long more) throws AgentFsException {
      if (more > 0 && inner.usedBytes() + more > quota) {
        refused.incrementAndGet();
        log.accept("refused " + more + " bytes");
        throw new AgentFsException(Errno.ENOSPC, null, null, "quota of " + quota + " bytes");
      }
    }

    private final class QuotaContent implements Content {
      private final Content c;

      QuotaContent(Content c) {
        this.c = c;
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
        return c.read(position, dst);
      }

      @Override
      public void write(long position, ByteBuffer src) throws AgentFsException {
        reserve(src.remaining());
        c.write(position, src);
      }

      @Override
      public void truncate(long size) throws AgentFsException {
        c.truncate(size);                       // growing makes a hole: no storage
      }

      @Override
      public void allocate(long offset, long length, boolean keepSize) throws AgentFsException {
        reserve(length);
        c.allocate(offset, length, keepSize);
      }

      @Override
      public void punchHole(long offset, long length) throws AgentFsException {
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
        copies.incrementAndGet();
        return new QuotaContent(c.copy());      // shares storage: costs nothing yet
      }

      @Override
      public void sync(boolean dataOnly) throws AgentFsException {
        c.sync(dataOnly);
      }

      @Override
      public void release() {
        c.release();
      }
    }
  }
}
