package dev.agentfs.examples.bench;

import dev.agentfs.examples.cli.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code bench --jmh}: runs {@link CoreBenchmarks} in a forked JVM; JMH's own log goes to
 * jmh.log, its results to jmh.json, and one JSON line per result to stdout.
 */
final class JmhRunner {
  private JmhRunner() {}

  static void run(boolean quick, Path outDir, PrintStream out) throws RunnerException {
    ChainedOptionsBuilder o = new OptionsBuilder()
        .include(CoreBenchmarks.class.getName() + "\\.")
        .result(outDir.resolve("jmh.json").toString())
        .resultFormat(ResultFormatType.JSON)
        .output(outDir.resolve("jmh.log").toString()) // stdout stays JSON lines
        .shouldFailOnError(true);
    if (quick) {
      o.param("entries", "10000", "100000")
          .warmupIterations(1).warmupTime(TimeValue.milliseconds(300))
          .measurementIterations(2).measurementTime(TimeValue.milliseconds(300));
    }
    Collection<RunResult> results = new Runner(o.build()).run();
    for (RunResult r : results) {
      var p = r.getParams();
      String entries = p.getParamsKeys().contains("entries") ? p.getParam("entries") : null;
      Json j = Json.event("jmh").put("benchmark", p.getBenchmark()
          .substring(p.getBenchmark().lastIndexOf('.') + 1));
      if (entries != null) {
        j.put("entries", Long.parseLong(entries));
      }
      out.println(j.put("us_per_op", Report.round(r.getPrimaryResult().getScore()))
          .put("error_us", Report.round(r.getPrimaryResult().getScoreError())));
    }
    out.flush();
  }
}
