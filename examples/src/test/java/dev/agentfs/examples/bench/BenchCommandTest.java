package dev.agentfs.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.examples.cli.UsageException;
import dev.agentfs.fuse.KernelTransportProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
  @Test
  void quickMeansOneSampleOfSmallSizes() throws Exception {
    BenchCommand.Options o = BenchCommand.parse(List.of("--quick", "--configs", "native,memory",
        "--workloads", "metadata"));
    assertEquals(1, o.samples());
    assertEquals(Sizes.scaled(Sizes.QUICK), o.sizes());
    assertEquals(List.of("native", "memory"), o.configs());
    assertEquals(List.of("metadata"), o.workloads());
    BenchCommand.Options full = BenchCommand.parse(List.of());
    assertEquals(3, full.samples());
    assertEquals(Sizes.full(), full.sizes());
    assertTrue(full.configs().containsAll(List.of("native", "memory", "memory-writeback")));
    assertTrue(full.outDir().endsWith("bench-results"));
  }

  @Test
  void unknownNamesAreUsageErrors() {
    UsageException e = assertThrows(UsageException.class,
        () -> BenchCommand.parse(List.of("--configs", "native,nfs")));
    assertTrue(e.getMessage().contains("unknown configuration 'nfs'"), e.getMessage());
    assertThrows(UsageException.class, () -> BenchCommand.parse(List.of("--workloads", "x")));
    assertThrows(UsageException.class, () -> BenchCommand.parse(List.of("--samples", "0")));
    assertThrows(UsageException.class, () -> BenchCommand.parse(List.of("--scale", "-1")));
    assertThrows(UsageException.class, () -> BenchCommand.parse(List.of("--out")));
  }

  @Test
  void requestCountsAreDiffed() {
    assertEquals(Map.of("LOOKUP", 3L, "MKDIR", 1L), BenchCommand.diff(
        Map.of("LOOKUP", 2L, "GETATTR", 5L),
        Map.of("LOOKUP", 5L, "GETATTR", 5L, "MKDIR", 1L)));
  }

  @Test
  void metadataOnNativeAndMemoryEndToEnd(@TempDir Path tmp) throws Exception {
    String why = new KernelTransportProvider().unavailableReason();
    Assumptions.assumeTrue(why == null, "kernel FUSE transport unavailable: " + why);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path results = tmp.resolve("out");
    BenchCommand.run(List.of("--quick", "--workloads", "metadata", "--configs", "native,memory",
            "--scale", "0.0005", "--out", results.toString(), "--work",
            tmp.resolve("work").toString()),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    // 4 phases x 2 configurations, then "done"
    assertEquals(9, lines.size(), lines::toString);
    assertTrue(lines.get(0).startsWith(
        "{\"event\":\"sample\",\"config\":\"native\",\"workload\":\"meta_create\",\"sample\":0,"),
        lines.get(0));
    assertTrue(lines.get(4).startsWith(
        "{\"event\":\"sample\",\"config\":\"memory\",\"workload\":\"meta_create\""), lines.get(4));
    assertTrue(lines.get(4).contains("\"MKDIR\":10"), lines.get(4));
    assertTrue(lines.get(8).startsWith("{\"event\":\"done\""), lines.get(8));
    assertTrue(lines.get(8).contains("\"failed\":0"), lines.get(8));
    String md = Files.readString(results.resolve("results.md"));
    assertTrue(md.contains("| meta_unlink | ops/s |"), md);
    assertTrue(Files.size(results.resolve("chart.png")) > 1000);
    assertTrue(Files.readString(results.resolve("results.json")).contains("\"fuse_requests\""));
    // everything mounted was unmounted and removed
    assertTrue(Files.notExists(tmp.resolve("work/mnt-memory")));
    assertTrue(Files.notExists(tmp.resolve("work/native")));
  }

  @Test
  void branchExecAndIoUringConfigurationsRun(@TempDir Path tmp) throws Exception {
    String why = new KernelTransportProvider().unavailableReason();
    Assumptions.assumeTrue(why == null, "kernel FUSE transport unavailable: " + why);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BenchCommand.run(List.of("--quick", "--workloads", "metadata", "--configs",
            "branch-exec,memory-uring", "--scale", "0.0005", "--out",
            tmp.resolve("out").toString(), "--work", tmp.resolve("work").toString()),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(9, lines.size(), lines::toString);
    // Requests were counted on the branch's own mount, where the workload ran.
    assertTrue(lines.get(0).contains("\"config\":\"branch-exec\"") && lines.get(0)
        .contains("\"MKDIR\":10"), lines.get(0));
    assertTrue(lines.get(4).contains("\"config\":\"memory-uring\"") && lines.get(4)
        .contains("\"MKDIR\":10"), lines.get(4));
    assertTrue(lines.get(8).contains("\"failed\":0"), lines.get(8));
  }
}
