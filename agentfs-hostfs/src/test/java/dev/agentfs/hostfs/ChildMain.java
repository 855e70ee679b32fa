package dev.agentfs.hostfs;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * What the tests run in a child JVM: {@code hold DIR} keeps the backstore open until stdin
 * closes; {@code try DIR} tries to open it and prints the outcome; {@code crash DIR} writes
 * content and logs it forever, printing "synced N" after each durable step, until killed;
 * {@code compact DIR STAGE} runs {@link #compactionSteps} through an AgentFs, compacting the log
 * every 40 steps, and stops for good at {@code STAGE} of the second compaction (see {@link
 * FileMetadataLog#compact}), printing "stage STAGE", so the parent can kill it exactly there.
 */
public final class ChildMain {
  private ChildMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "hold":
        try (HostFsBackstore s = HostFsBackstore.open(dir)) {
          out.println("locked");
          out.flush();
          while (System.in.read() >= 0) {
            // Wait for the parent to close our stdin.
          }
        }
        break;
      case "try":
        try (HostFsBackstore s = HostFsBackstore.open(dir)) {
          out.println("opened");
        } catch (AgentFsException e) {
          out.println(e.errno() + " " + e.getMessage());
        }
        break;
      case "crash":
        crash(dir, out);
        break;
      case "compact":
        compact(dir, args[2], out);
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
  }

  /** The bytes of step {@code i}: deterministic, so the parent can check them. */
  static byte[] data(int i) {
    byte[] b = new byte[1 + (i * 7919) % 200_000];
    for (int k = 0; k < b.length; k++) {
      b[k] = (byte) (i * 31 + k * 7 + (k >>> 9));
    }
    return b;
  }

  /** Steps between two explicit compactions in {@code compact} mode. */
  static final int COMPACT_EVERY = 40;

  /** Snapshots are taken every this many steps and deleted this many steps later, times two. */
  static final int SNAPSHOT_EVERY = 20;

  private static void compact(Path dir, String stage, PrintStream out) throws Exception {
    AtomicInteger compactions = new AtomicInteger();
    FileMetadataLog.compactionStage = s -> {
      if (s.equals("start")) {
        compactions.incrementAndGet();
      }
      if (s.equals(stage) && compactions.get() == 2) {
        out.println("stage " + s);
        out.flush();
        while (true) {
          LockSupport.park(); // until SIGKILL, holding the log's locks as a real stall would
        }
      }
    };
    // Only the explicit compactions below: the test picks where in them the kill lands.
    HostFsBackstore store = HostFsBackstore.builder().compactLogAbove(Long.MAX_VALUE).open(dir);
    AgentFs fs = AgentFs.builder().backstore(store).build();
    for (int i = 0; ; i++) {
      compactionStep(fs, i);
      fs.core().syncMetadata();
      out.println("synced " + i);
      out.flush();
      if (i % COMPACT_EVERY == COMPACT_EVERY - 1) {
        fs.core().compactMetadata();
      }
    }
  }

  /**
   * Step {@code i}: creates /f{i} with {@link #data}(i), deletes /f{i-5}, overwrites /counter
   * with "i" and chmods it (so inode records pile up), snapshots every {@link #SNAPSHOT_EVERY}
   * steps and deletes the snapshot taken two snapshots before.
   */
  static void compactionStep(AgentFs fs, int i) throws AgentFsException {
    Branch main = fs.main();
    main.write("/f" + i, data(i));
    if (i >= 5) {
      main.delete("/f" + (i - 5));
    }
    main.write("/counter", Integer.toString(i));
    main.chmod("/counter", 0600 | (i % 8) << 3);
    if (i % SNAPSHOT_EVERY == 0) {
      main.snapshot("s" + i);
      if (i >= 2 * SNAPSHOT_EVERY) {
        fs.deleteSnapshot("s" + (i - 2 * SNAPSHOT_EVERY));
      }
    }
  }

  private static void crash(Path dir, PrintStream out) throws Exception {
    HostFsBackstore s = HostFsBackstore.open(dir);
    FileMetadataLog log = s.metadataLog();
    for (int i = 0; ; i++) {
      var c = s.newContent();
      byte[] d = data(i);
      c.write(0, ByteBuffer.wrap(d));
      c.sync(true);
      byte[] rec = (i + " " + c.id() + " " + d.length).getBytes(StandardCharsets.UTF_8);
      log.append(List.of(ByteBuffer.wrap(rec)), true);
      out.println("synced " + i);
      out.flush();
      // Unsynced work after the durable step: the kill may land anywhere in it.
      var junk = s.newContent();
      junk.write(0, ByteBuffer.wrap(d));
      log.append(List.of(ByteBuffer.wrap(("junk " + junk.id()).getBytes(StandardCharsets.UTF_8))), false);
    }
  }
}
