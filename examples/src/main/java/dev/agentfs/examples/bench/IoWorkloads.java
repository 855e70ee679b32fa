package dev.agentfs.examples.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The data-path workloads, run in this JVM with Java NIO {@link FileChannel}s (not dd): one
 * code path for every configuration, direct buffers so no extra copy, and fdatasync through
 * {@link FileChannel#force force(false)}. Buffers hold pseudo-random bytes so no layer can
 * shortcut zeros.
 */
final class IoWorkloads {
  static final int RAND_BLOCK = 4096;
  static final long SEED = 0x5eed_7L;

  private IoWorkloads() {}

  /** seq_write: one file, {@code seqBytes} in blocks, fdatasync at the end. */
  static final class SeqWrite implements Workload {
    @Override
    public String name() {
      return "seq_write";
    }

    @Override
    public void run(Context ctx, Recorder rec) throws Exception {
      Path f = ctx.dir().resolve("seq.bin");
      ByteBuffer block = randomBlock(ctx.sizes().blockBytes());
      rec.time("seq_write", "bytes", () -> write(f, ctx.sizes().seqBytes(), block));
    }
  }

  /** seq_read: writes the file untimed, drops caches, then reads it through in blocks. */
  static final class SeqRead implements Workload {
    @Override
    public String name() {
      return "seq_read";
    }

    @Override
    public void run(Context ctx, Recorder rec) throws Exception {
      Path f = ctx.dir().resolve("seq.bin");
      ByteBuffer block = randomBlock(ctx.sizes().blockBytes());
      write(f, ctx.sizes().seqBytes(), block);
      ctx.caches().drop();
      rec.time("seq_read", "bytes", () -> {
        long total = 0;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
          while (true) {
            block.clear();
            int n = ch.read(block);
            if (n < 0) {
              break;
            }
            total += n;
          }
        }
        return total;
      });
    }
  }

  /**
   * rand_read: writes a file untimed, drops caches, then does {@code randReads} positional
   * 4 KiB reads at 4 KiB-aligned offsets from a fixed seed; reports bytes read.
   */
  static final class RandRead implements Workload {
    @Override
    public String name() {
      return "rand_read";
    }

    @Override
    public void run(Context ctx, Recorder rec) throws Exception {
      Path f = ctx.dir().resolve("rand.bin");
      long size = ctx.sizes().randFileBytes();
      write(f, size, randomBlock(ctx.sizes().blockBytes()));
      ctx.caches().drop();
      int reads = ctx.sizes().randReads();
      ByteBuffer buf = ByteBuffer.allocateDirect(RAND_BLOCK);
      rec.time("rand_read_4k", "bytes", () -> {
        SplittableRandom r = new SplittableRandom(SEED);
        long blocks = size / RAND_BLOCK;
        long total = 0;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
          for (int i = 0; i < reads; i++) {
            long pos = r.nextLong(blocks) * RAND_BLOCK;
            buf.clear();
            while (buf.hasRemaining()) {
              int n = ch.read(buf, pos + buf.position());
              if (n < 0) {
                throw new IOException("short file at " + pos);
              }
            }
            total += RAND_BLOCK;
          }
        }
        return total;
      });
    }
  }

  /** concurrent_write: {@code writers} threads, one file each, fdatasync each. */
  static final class ConcurrentWrite implements Workload {
    @Override
    public String name() {
      return "concurrent_write";
    }

    @Override
    public void run(Context ctx, Recorder rec) throws Exception {
      int writers = ctx.sizes().writers();
      long each = ctx.sizes().writerBytes();
      List<ByteBuffer> blocks = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        blocks.add(randomBlock(ctx.sizes().blockBytes()));
      }
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        rec.time("concurrent_write", "bytes", () -> {
          List<Future<Long>> done = new ArrayList<>();
          for (int i = 0; i < writers; i++) {
            Path f = ctx.dir().resolve("w" + i + ".bin");
            ByteBuffer b = blocks.get(i);
            done.add(pool.submit(() -> write(f, each, b)));
          }
          long total = 0;
          for (Future<Long> d : done) {
            total += d.get();
          }
          return total;
        });
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Writes {@code size} bytes (whole blocks) to a new file and fdatasyncs it. */
  static long write(Path f, long size, ByteBuffer block) throws IOException {
    long total = 0;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (total < size) {
        block.clear();
        if (size - total < block.capacity()) {
          block.limit((int) (size - total));
        }
        while (block.hasRemaining()) {
          total += ch.write(block);
        }
      }
      ch.force(false);
    }
    return total;
  }

  static ByteBuffer randomBlock(int size) {
    ByteBuffer b = ByteBuffer.allocateDirect(size);
    SplittableRandom r = new SplittableRandom(SEED);
    while (b.remaining() >= 8) {
      b.putLong(r.nextLong());
    }
    b.clear();
    return b;
  }
}
