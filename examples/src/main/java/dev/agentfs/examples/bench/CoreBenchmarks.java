package dev.agentfs.examples.bench;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Snapshot;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Modes;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Core-level JMH benchmarks, no FUSE: snapshot and branch creation over trees of 10k, 100k and
 * 1M entries (the design promises O(1), so the three must be flat), small-file write+read
 * through the Java API, and a 4 KiB write into a 64 MiB file right after a snapshot (the
 * copy-on-write path: one 64 KiB chunk and a new inode version). Run with {@code bench --jmh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class CoreBenchmarks {
  /** A filesystem holding {@code entries} empty files, 1000 per directory. */
  @State(Scope.Benchmark)
  public static class Tree {
    @Param({"10000", "100000", "1000000"})
    public int entries;
    AgentFs fs;
    Branch main;
    Snapshot base;
    long seq;

    @Setup(Level.Trial)
    public void fill() throws AgentFsException {
      fs = AgentFs.builder().build();
      main = fs.main();
      byte[] none = new byte[0];
      for (int i = 0; i < entries; i++) {
        if (i % 1000 == 0) {
          main.mkdir("/d" + i / 1000);
        }
        main.write("/d" + i / 1000 + "/f" + i, none);
      }
      base = main.snapshot("base");
    }

    @TearDown(Level.Trial)
    public void close() {
      fs.close();
    }
  }

  @Benchmark
  public Snapshot snapshot(Tree t) throws AgentFsException {
    return t.main.snapshot("s" + t.seq++);
  }

  @Benchmark
  public Branch branch(Tree t) throws AgentFsException {
    return t.fs.createBranch("b" + t.seq++, t.base);
  }

  /** A fresh filesystem per iteration for the small-file benchmark. */
  @State(Scope.Thread)
  public static class Empty {
    AgentFs fs;
    Branch main;
    long seq;
    final byte[] data = new byte[1024];

    @Setup(Level.Iteration)
    public void open() throws AgentFsException {
      fs = AgentFs.builder().build();
      main = fs.main();
      main.mkdir("/d");
    }

    @TearDown(Level.Iteration)
    public void close() {
      fs.close();
    }
  }

  /** Create a 1 KiB file and read it back, through {@link Branch}. */
  @Benchmark
  public byte[] smallFileWriteRead(Empty e) throws AgentFsException {
    String p = "/d/f" + e.seq++;
    e.main.write(p, e.data);
    return e.main.read(p);
  }

  /** A 64 MiB file open for writing through the Vfs. */
  @State(Scope.Thread)
  public static class BigFile {
    static final long SIZE = 64L << 20;
    AgentFs fs;
    Branch main;
    long ino;
    long fh;
    long seq;
    final ByteBuffer block = ByteBuffer.allocate(4096);
    final SplittableRandom random = new SplittableRandom(1);

    @Setup(Level.Iteration)
    public void open() throws AgentFsException {
      fs = AgentFs.builder().build();
      main = fs.main();
      main.write("/big", new byte[(int) SIZE]);
      ino = main.stat("/big").ino();
      fh = main.vfs().open(Caller.ROOT, ino, Modes.O_RDWR);
    }

    @TearDown(Level.Iteration)
    public void close() throws AgentFsException {
      main.vfs().release(ino, fh);
      fs.close();
    }
  }

  /** Snapshot, then write 4 KiB at a random offset: pays the copy-on-write every time. */
  @Benchmark
  public int snapshotThenWrite4k(BigFile b) throws AgentFsException {
    b.main.snapshot("s" + b.seq++);
    b.block.clear();
    return b.main.vfs().write(Caller.ROOT, b.ino, b.fh,
        b.random.nextLong(BigFile.SIZE / 4096) * 4096, b.block);
  }

  /** Write 4 KiB at a random offset with no snapshot in between: the in-place baseline. */
  @Benchmark
  public int write4k(BigFile b) throws AgentFsException {
    b.block.clear();
    return b.main.vfs().write(Caller.ROOT, b.ino, b.fh,
        b.random.nextLong(BigFile.SIZE / 4096) * 4096, b.block);
  }
}
