package dev.agentfs.examples.bench;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.examples.cli.Json;
import dev.agentfs.examples.cli.UsageException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * {@code bench}: runs every selected workload {@code samples} times, and within each sample
 * every selected configuration in turn (so native and AgentFS alternate and share whatever
 * the machine is doing at that moment). Each configuration is set up fresh for each sample and
 * taken down afterwards, also when the workload fails. One JSON line per measurement on
 * stdout, progress on stderr when it is a terminal, result files in {@code --out}.
 */
public final class BenchCommand {
  private static final Map<String, Supplier<Workload>> WORKLOADS = new LinkedHashMap<>();

  static {
    WORKLOADS.put("seq_write", IoWorkloads.SeqWrite::new);
    WORKLOADS.put("seq_read", IoWorkloads.SeqRead::new);
    WORKLOADS.put("rand_read", IoWorkloads.RandRead::new);
    WORKLOADS.put("concurrent_write", IoWorkloads.ConcurrentWrite::new);
    WORKLOADS.put("metadata", MetadataWorkload::new);
    WORKLOADS.put("tree", TreeWorkload::new);
  }

  private final PrintStream out;
  private final PrintStream err;
  private final boolean progress;
  private boolean warnedCaches;
  private boolean cachesDropped = true;

  private BenchCommand(PrintStream out, PrintStream err, boolean progress) {
    this.out = out;
    this.err = err;
    this.progress = progress;
  }

  /** The options of one run. */
  record Options(boolean quick, Path outDir, Path work, List<String> configs,
      List<String> workloads, int samples, Sizes sizes, double scale, boolean jmh) {}

  public static void run(List<String> args, PrintStream out, PrintStream err)
      throws UsageException, AgentFsException {
    Options o = parse(args);
    if (o.jmh()) {
      try {
        Files.createDirectories(o.outDir());
        JmhRunner.run(o.quick(), o.outDir(), out);
      } catch (IOException | org.openjdk.jmh.runner.RunnerException e) {
        throw new AgentFsException(Errno.EIO, o.outDir().toString(), e);
      }
      return;
    }
    new BenchCommand(out, err, System.console() != null).execute(o);
  }

  static Options parse(List<String> args) throws UsageException {
    boolean quick = false;
    Path outDir = Path.of("bench-results");
    Path work = Path.of("/var/tmp/agentfs-bench");
    List<String> configs = BenchConfigs.defaults();
    List<String> workloads = new ArrayList<>(WORKLOADS.keySet());
    Integer samples = null;
    boolean jmh = false;
    Double scale = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--quick" -> quick = true;
        case "--out" -> outDir = Path.of(value(args, ++i, a));
        case "--work" -> work = Path.of(value(args, ++i, a));
        case "--configs" -> configs = names(value(args, ++i, a), BenchConfigs.all().keySet(),
            "configuration");
        case "--workloads" -> workloads = names(value(args, ++i, a), WORKLOADS.keySet(),
            "workload");
        case "--samples" -> samples = positive(value(args, ++i, a), a);
        case "--scale" -> { // hidden: tests and experiments
          try {
            scale = Double.parseDouble(value(args, ++i, a));
          } catch (NumberFormatException e) {
            throw new UsageException("--scale needs a number");
          }
          if (!(scale > 0)) {
            throw new UsageException("--scale must be > 0");
          }
        }
        case "--jmh" -> jmh = true;
        default -> throw new UsageException("unexpected bench argument '" + a + "'");
      }
    }
    double f = scale != null ? scale : quick ? Sizes.QUICK : 1;
    int n = samples != null ? samples : quick ? 1 : 3;
    return new Options(quick, outDir.toAbsolutePath().normalize(),
        work.toAbsolutePath().normalize(), configs, workloads, n, Sizes.scaled(f), f, jmh);
  }

  private static List<String> names(String csv, java.util.Set<String> known, String what)
      throws UsageException {
    List<String> out = new ArrayList<>();
    for (String s : csv.split(",")) {
      String t = s.strip();
      if (t.isEmpty()) {
        continue;
      }
      if (!known.contains(t)) {
        throw new UsageException("unknown " + what + " '" + t + "' (have: "
            + String.join(", ", known) + ")");
      }
      if (!out.contains(t)) {
        out.add(t);
      }
    }
    if (out.isEmpty()) {
      throw new UsageException("no " + what + " selected");
    }
    return out;
  }

  private static int positive(String v, String flag) throws UsageException {
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new UsageException(flag + " needs a positive integer, got '" + v + "'");
  }

  private static String value(List<String> args, int i, String flag) throws UsageException {
    if (i >= args.size()) {
      throw new UsageException(flag + " needs a value");
    }
    return args.get(i);
  }

  private void execute(Options o) throws AgentFsException {
    long started = System.nanoTime();
    Path scratch = o.work().resolve("scratch");
    try {
      Files.createDirectories(scratch);
      Files.createDirectories(o.outDir());
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, o.work().toString(), e);
    }
    List<Sample> samples = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int total = o.workloads().size() * o.samples() * o.configs().size();
    int done = 0;
    for (String wname : o.workloads()) {
      Workload w = WORKLOADS.get(wname).get();
      for (int i = 0; i < o.samples(); i++) {
        for (String cname : o.configs()) {
          done++;
          progress("[%d/%d] %s on %s, sample %d", done, total, wname, cname, i + 1);
          runOne(o, w, BenchConfigs.all().get(cname).get(), i, scratch, samples, failures);
        }
      }
    }
    Files2.deleteTree(o.work().resolve("native"));
    Map<String, Object> meta = meta(o, (System.nanoTime() - started) / 1e9);
    Report report = new Report(meta, samples, failures);
    try {
      report.write(o.outDir());
    } catch (IOException e) {
      throw new AgentFsException(Errno.EIO, o.outDir().toString(), e);
    }
    out.println(Json.event("done").put("out", o.outDir().toString())
        .put("samples", samples.size()).put("failed", failures.size())
        .put("seconds", Report.round((System.nanoTime() - started) / 1e9)));
    out.flush();
    progress("results in %s", o.outDir());
    if (!failures.isEmpty()) {
      throw new AgentFsException(Errno.EIO, o.outDir().resolve("results.json").toString(),
          null, failures.size() + " measurement(s) failed; first: " + failures.get(0));
    }
  }

  private void runOne(Options o, Workload w, BenchConfig config, int index, Path scratch,
      List<Sample> samples, List<String> failures) {
    try (BenchConfig c = config) {
      Path root = c.setUp(o.work());
      Path dir = root.resolve("run-" + w.name());
      Files.createDirectory(dir);
      Workload.Context ctx = new Workload.Context(dir, scratch, o.sizes(), this::dropCaches);
      w.run(ctx, (name, unit, body) -> {
        Map<String, Long> before = c.requestCounts();
        long t0 = System.nanoTime();
        long amount = body.run();
        long t1 = System.nanoTime();
        Map<String, Long> requests = diff(before, c.requestCounts());
        Sample s = new Sample(c.name(), name, index, (t1 - t0) / 1e9, amount, unit, requests);
        samples.add(s);
        out.println(Report.sampleJson(Json.event("sample"), s));
        out.flush();
        progress("  %-18s %-17s %8.3f s  %s", name, c.name(), s.seconds(), rate(s));
      });
    } catch (Exception e) {
      String why = w.name() + " on " + config.name() + " (sample " + (index + 1) + "): " + e;
      failures.add(why);
      out.println(Json.event("failed").put("config", config.name()).put("workload", w.name())
          .put("sample", index).put("error", e.toString()));
      out.flush();
      progress("  FAILED %s", why);
    }
  }

  static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> d = new TreeMap<>();
    for (Map.Entry<String, Long> e : after.entrySet()) {
      long n = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      if (n != 0) {
        d.put(e.getKey(), n);
      }
    }
    return d;
  }

  private static String rate(Sample s) {
    return s.unit().equals("bytes")
        ? String.format(java.util.Locale.ROOT, "%.1f MiB/s", s.rate() / (1 << 20))
        : String.format(java.util.Locale.ROOT, "%.0f ops/s", s.rate());
  }

  /**
   * {@code sync; echo 3 > /proc/sys/vm/drop_caches}. The kernel's page cache of a FUSE mount
   * goes too; the in-memory backstore of course stays warm in this JVM.
   */
  void dropCaches() throws IOException, InterruptedException {
    if (!cachesDropped) {
      return;
    }
    Process p = new ProcessBuilder("sync").inheritIO().start();
    p.waitFor();
    try {
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3", StandardCharsets.US_ASCII);
    } catch (IOException e) {
      cachesDropped = false;
      if (!warnedCaches) {
        warnedCaches = true;
        err.println("agentfs: bench: cannot drop caches (" + e.getMessage()
            + "); reads may be served from the page cache");
      }
    }
  }

  private Map<String, Object> meta(Options o, double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("date", Instant.now().toString());
    m.put("quick", o.quick());
    m.put("scale", o.scale());
    m.put("samples_per_config", o.samples());
    m.put("configs", o.configs());
    m.put("workloads", o.workloads());
    Sizes s = o.sizes();
    Map<String, Object> sizes = new LinkedHashMap<>();
    sizes.put("seq_bytes", s.seqBytes());
    sizes.put("block_bytes", s.blockBytes());
    sizes.put("rand_file_bytes", s.randFileBytes());
    sizes.put("rand_reads", s.randReads());
    sizes.put("writers", s.writers());
    sizes.put("writer_bytes", s.writerBytes());
    sizes.put("meta_files", s.metaFiles());
    sizes.put("tree_files", s.treeFiles());
    m.put("sizes", sizes);
    m.put("caches_dropped", cachesDropped);
    m.put("work_dir", o.work().toString());
    m.put("host_fs", hostFs(o.work()));
    m.put("kernel", System.getProperty("os.version"));
    m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
    m.put("fuse_threads", dev.agentfs.Configuration.defaults().threads());
    m.put("io_method", "in-JVM Java NIO FileChannel (direct buffers, force(false) = fdatasync)");
    m.put("tools", "tar, git, grep, rm as child processes");
    m.put("seconds", Report.round(seconds));
    return m;
  }

  private static String hostFs(Path p) {
    try {
      return Files.getFileStore(p).type();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private void progress(String fmt, Object... args) {
    if (progress) {
      err.println(String.format(java.util.Locale.ROOT, fmt, args));
      err.flush();
    }
  }
}
