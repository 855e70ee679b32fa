package dev.agentfs.examples.bench;

import dev.agentfs.examples.cli.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The results of one run and the files made from them: {@code results.json} (every sample),
 * {@code results.md} (median per measurement and configuration, spread, ratio to native) and
 * the data behind {@code chart.png}.
 */
public final class Report {
  private final Map<String, Object> meta;
  private final List<Sample> samples;
  private final List<String> failures;

  public Report(Map<String, Object> meta, List<Sample> samples, List<String> failures) {
    this.meta = meta;
    this.samples = List.copyOf(samples);
    this.failures = List.copyOf(failures);
  }

  public List<Sample> samples() {
    return samples;
  }

  /** Measurement names in the order first measured. */
  public List<String> measurements() {
    Set<String> s = new LinkedHashSet<>();
    samples.forEach(x -> s.add(x.workload()));
    return List.copyOf(s);
  }

  /** Configuration names in the order first measured. */
  public List<String> configs() {
    Set<String> s = new LinkedHashSet<>();
    samples.forEach(x -> s.add(x.config()));
    return List.copyOf(s);
  }

  /** Seconds of every sample of one measurement on one configuration, or null if none. */
  public @Nullable Stats stats(String measurement, String config) {
    List<Double> v = new ArrayList<>();
    for (Sample s : samples) {
      if (s.workload().equals(measurement) && s.config().equals(config)) {
        v.add(s.seconds());
      }
    }
    return v.isEmpty() ? null : Stats.of(v);
  }

  /**
   * Median time on {@code config} over median time on native: how many times slower (1 means
   * as fast as native). Null when either has no sample.
   */
  public @Nullable Double ratio(String measurement, String config) {
    Stats c = stats(measurement, config);
    Stats n = stats(measurement, "native");
    if (c == null || n == null || n.median() <= 0) {
      return null;
    }
    return c.median() / n.median();
  }

  private @Nullable Sample first(String measurement) {
    for (Sample s : samples) {
      if (s.workload().equals(measurement)) {
        return s;
      }
    }
    return null;
  }

  public String toJson() {
    List<Object> list = new ArrayList<>();
    for (Sample s : samples) {
      list.add(sampleJson(new Json(), s));
    }
    Map<String, Object> ratios = new LinkedHashMap<>();
    for (String m : measurements()) {
      Map<String, Object> row = new LinkedHashMap<>();
      for (String c : configs()) {
        Stats st = stats(m, c);
        if (st != null) {
          Json j = Json.of("median_s", round(st.median())).put("min_s", round(st.min()))
              .put("max_s", round(st.max())).put("n", st.n());
          Double r = ratio(m, c);
          if (r != null) {
            j.put("ratio_to_native", round(r));
          }
          row.put(c, j);
        }
      }
      ratios.put(m, row);
    }
    return Json.of("meta", meta).put("summary", ratios).put("failures", failures)
        .put("samples", list).toString() + "\n";
  }

  static Json sampleJson(Json into, Sample s) {
    return into.put("config", s.config()).put("workload", s.workload()).put("sample", s.index())
        .put("seconds", round(s.seconds())).put(s.unit(), s.amount())
        .put("rate_per_s", round(s.rate())).put("fuse_requests", s.fuseRequests());
  }

  /** Rounds to 4 significant digits so the files stay readable (and never NaN). */
  static double round(double v) {
    if (!Double.isFinite(v) || v == 0) {
      return 0;
    }
    return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue();
  }

  public String toMarkdown() {
    List<String> configs = configs();
    StringBuilder sb = new StringBuilder();
    sb.append("| measurement | unit |");
    for (String c : configs) {
      sb.append(' ').append(c).append(" |");
    }
    for (String c : configs) {
      if (!c.equals("native")) {
        sb.append(' ').append(c).append(" / native |");
      }
    }
    sb.append("\n|---|---|");
    sb.append("---:|".repeat(configs.size() * 2 - (configs.contains("native") ? 1 : 0)));
    sb.append('\n');
    for (String m : measurements()) {
      Sample first = first(m);
      String unit = first == null ? "" : first.unit().equals("bytes") ? "MiB/s" : "ops/s";
      sb.append("| ").append(m).append(" | ").append(unit).append(" |");
      for (String c : configs) {
        Stats st = stats(m, c);
        sb.append(' ').append(st == null ? "–" : cell(m, c, st)).append(" |");
      }
      for (String c : configs) {
        if (!c.equals("native")) {
          Double r = ratio(m, c);
          sb.append(' ').append(r == null ? "–" : String.format(Locale.ROOT, "%.2f×", r))
              .append(" |");
        }
      }
      sb.append('\n');
    }
    sb.append("\nCells: median rate (min–max rate) over the samples, then median seconds. "
        + "Ratio: median seconds on the configuration over median seconds on native "
        + "(higher is slower; 1.00× is native speed).\n");
    if (!failures.isEmpty()) {
      sb.append("\nFailed samples:\n\n");
      for (String f : failures) {
        sb.append("- ").append(f.replace("\n", " ")).append('\n');
      }
    }
    return sb.toString();
  }

  /** "123.4 (110.2–130.0) 1.23 s": median rate, rate spread, median seconds. */
  private String cell(String m, String c, Stats st) {
    long amount = 0;
    boolean bytes = false;
    for (Sample s : samples) {
      if (s.workload().equals(m) && s.config().equals(c)) {
        amount = s.amount();
        bytes = s.unit().equals("bytes");
        break;
      }
    }
    double div = bytes ? 1 << 20 : 1;
    double med = amount / div / st.median();
    double lo = amount / div / st.max();
    double hi = amount / div / st.min();
    if (st.n() == 1) {
      return String.format(Locale.ROOT, "%s, %s s", num(med), num(st.median()));
    }
    return String.format(Locale.ROOT, "%s (%s–%s), %s s", num(med), num(lo), num(hi),
        num(st.median()));
  }

  static String num(double v) {
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  /** Writes results.json, results.md and chart.png into {@code dir}. */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("results.json"), toJson(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("results.md"), "# AgentFS benchmark results\n\n"
        + metaMarkdown() + "\n" + toMarkdown(), StandardCharsets.UTF_8);
    Chart.write(this, dir.resolve("chart.png"));
  }

  private String metaMarkdown() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Object> e : meta.entrySet()) {
      sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }
}
