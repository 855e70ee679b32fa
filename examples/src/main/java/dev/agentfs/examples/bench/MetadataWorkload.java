package dev.agentfs.examples.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * metadata, in this JVM: {@code metaFiles} times mkdir + create/write/close of a 100-byte file
 * (2 ops each), then stat of every directory and file (2 ops each), listing the top directory
 * and every subdirectory (1 op per entry returned), and unlink + rmdir (2 ops each). Each phase
 * is its own measurement in ops/s.
 */
final class MetadataWorkload implements Workload {
  private static final byte[] SMALL = "x".repeat(100).getBytes(StandardCharsets.US_ASCII);

  @Override
  public String name() {
    return "metadata";
  }

  @Override
  public void run(Context ctx, Recorder rec) throws Exception {
    Path top = ctx.dir().resolve("meta");
    Files.createDirectory(top);
    int n = ctx.sizes().metaFiles();
    rec.time("meta_create", "ops", () -> {
      for (int i = 0; i < n; i++) {
        Path d = Files.createDirectory(top.resolve("d" + i));
        Files.write(d.resolve("f"), SMALL);
      }
      return 2L * n;
    });
    rec.time("meta_stat", "ops", () -> {
      long size = 0;
      for (int i = 0; i < n; i++) {
        Path d = top.resolve("d" + i);
        size += Files.readAttributes(d, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
            .size();
        size += Files.readAttributes(d.resolve("f"), BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS).size();
      }
      if (size < (long) n * SMALL.length) {
        throw new IllegalStateException("stat saw " + size + " bytes");
      }
      return 2L * n;
    });
    rec.time("meta_list", "ops", () -> {
      long entries = count(top);
      for (int i = 0; i < n; i++) {
        entries += count(top.resolve("d" + i));
      }
      if (entries != 2L * n) {
        throw new IllegalStateException("listing saw " + entries + " entries, made " + 2 * n);
      }
      return entries;
    });
    rec.time("meta_unlink", "ops", () -> {
      for (int i = 0; i < n; i++) {
        Path d = top.resolve("d" + i);
        Files.delete(d.resolve("f"));
        Files.delete(d);
      }
      return 2L * n;
    });
  }

  private static long count(Path dir) throws java.io.IOException {
    long c = 0;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path ignored : s) {
        c++;
      }
    }
    return c;
  }
}
