package dev.agentfs.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  private static Report report() {
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("quick", true);
    return new Report(meta, List.of(
        new Sample("native", "seq_write", 0, 1.0, 1L << 30, "bytes", Map.of()),
        new Sample("memory", "seq_write", 0, 2.0, 1L << 30, "bytes",
            Map.of("WRITE", 256L)),
        new Sample("native", "seq_write", 1, 3.0, 1L << 30, "bytes", Map.of()),
        new Sample("memory", "seq_write", 1, 4.0, 1L << 30, "bytes",
            Map.of("WRITE", 256L)),
        new Sample("native", "meta_create", 0, 0.5, 1000, "ops", Map.of()),
        new Sample("memory", "meta_create", 0, 5.0, 1000, "ops", Map.of("MKDIR", 500L)),
        new Sample("memory-writeback", "meta_create", 0, 2.5, 1000, "ops", Map.of())),
        List.of("tree on memory (sample 1): boom \"quoted\""));
  }

  @Test
  void ratioIsMedianOverNativeMedian() {
    Report r = report();
    assertEquals(List.of("seq_write", "meta_create"), r.measurements());
    assertEquals(List.of("native", "memory", "memory-writeback"), r.configs());
    assertEquals(1.5, r.ratio("seq_write", "memory"), 1e-12); // 3.0 / 2.0
    assertEquals(10.0, r.ratio("meta_create", "memory"), 1e-12);
    assertNull(r.ratio("seq_write", "memory-writeback"));
    Stats s = r.stats("seq_write", "native");
    assertNotNull(s);
    assertEquals(new Stats(2, 2.0, 1.0, 3.0), s);
  }

  @Test
  void jsonHasEverySampleWithItsRequestCountsAndTheSummary() {
    String json = report().toJson();
    assertTrue(json.startsWith("{\"meta\":{\"quick\":true}"), json);
    assertTrue(json.contains("{\"config\":\"memory\",\"workload\":\"seq_write\",\"sample\":1,"
        + "\"seconds\":4.0,\"bytes\":1073741824,\"rate_per_s\":2.684E8,"
        + "\"fuse_requests\":{\"WRITE\":256}}"), json);
    assertTrue(json.contains("\"meta_create\":{\"native\":{\"median_s\":0.5,\"min_s\":0.5,"
        + "\"max_s\":0.5,\"n\":1,\"ratio_to_native\":1.0},\"memory\":{\"median_s\":5.0,\"min_s\":5.0,\"max_s\":5.0,"
        + "\"n\":1,\"ratio_to_native\":10.0}"), json);
    assertTrue(json.contains("\"failures\":[\"tree on memory (sample 1): boom \\\"quoted\\\"\"]"),
        json);
    assertEquals(7, json.split("\"workload\":").length - 1);
  }

  @Test
  void markdownTableHasMediansSpreadAndRatios() {
    String md = report().toMarkdown();
    List<String> lines = md.lines().toList();
    assertEquals("| measurement | unit | native | memory | memory-writeback | memory / native "
        + "| memory-writeback / native |", lines.get(0));
    assertEquals("|---|---|---:|---:|---:|---:|---:|", lines.get(1));
    // native: 1 GiB in 1 and 3 s (median 2 s): 512 MiB/s, 341..1024; memory: 2 and 4 s
    assertEquals("| seq_write | MiB/s | 512 (341–1024), 2.00 s | 341 (256–512), 3.00 s | – "
        + "| 1.50× | – |", lines.get(2));
    assertEquals("| meta_create | ops/s | 2000, 0.50 s | 200, 5.00 s | 400, 2.50 s | 10.00× "
        + "| 5.00× |", lines.get(3));
    assertTrue(md.contains("Failed samples"), md);
  }

  @Test
  void chartIsAReadablePng(@TempDir Path dir) throws Exception {
    report().write(dir);
    BufferedImage img = ImageIO.read(dir.resolve("chart.png").toFile());
    assertNotNull(img);
    assertTrue(img.getWidth() >= 800 && img.getHeight() >= 200,
        img.getWidth() + "x" + img.getHeight());
    assertTrue(Files.readString(dir.resolve("results.md")).contains("| seq_write |"));
    assertTrue(Files.size(dir.resolve("results.json")) > 100);
  }
}
