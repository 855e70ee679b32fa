package dev.agentfs.examples.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The agent-shaped workload, all through child processes the way an agent's tools touch a
 * workspace: {@code tar -xf} a generated source tree of {@code treeFiles} small files in
 * nested directories, {@code git init} (untimed), {@code git add -A}, {@code git status},
 * {@code grep -r}, {@code rm -rf}. Each tool is its own measurement, in files per second.
 */
final class TreeWorkload implements Workload {
  static final int FILES_PER_DIR = 20;
  static final String NEEDLE = "AGENTFS_NEEDLE";

  @Override
  public String name() {
    return "tree";
  }

  @Override
  public void run(Context ctx, Recorder rec) throws Exception {
    int files = ctx.sizes().treeFiles();
    Path tar = tarball(ctx.scratch(), files);
    Path dir = ctx.dir();
    Path s = ctx.scratch();
    rec.time("tree_extract", "ops", () -> {
      Procs.run(dir, s, List.of("tar", "-xf", tar.toString()));
      return files;
    });
    Path tree = dir.resolve("tree");
    Procs.run(tree, s, List.of("git", "init", "-q"));
    rec.time("git_add", "ops", () -> {
      Procs.run(tree, s, List.of("git", "add", "-A"));
      return files;
    });
    rec.time("git_status", "ops", () -> {
      Procs.run(tree, s, List.of("git", "status", "--porcelain"));
      return files;
    });
    rec.time("grep_r", "ops", () -> {
      Procs.run(tree, s, List.of("grep", "-r", "-l", NEEDLE, "."), 0, 1);
      return files;
    });
    rec.time("rm_rf", "ops", () -> {
      Procs.run(dir, s, List.of("rm", "-rf", "tree"));
      return files;
    });
  }

  /** The tar of the generated tree, made once per size in {@code scratch} and reused. */
  static synchronized Path tarball(Path scratch, int files)
      throws IOException, InterruptedException {
    Path tar = scratch.resolve("tree-" + files + ".tar");
    if (Files.exists(tar)) {
      return tar;
    }
    Path src = scratch.resolve("tree-src-" + files);
    Files2.deleteTree(src);
    generate(src.resolve("tree"), files);
    Path tmp = scratch.resolve("tree-" + files + ".tar.tmp");
    Procs.run(src, scratch, List.of("tar", "-cf", tmp.toString(), "tree"));
    Files.move(tmp, tar);
    Files2.deleteTree(src);
    return tar;
  }

  /**
   * A deterministic Java-like source tree: {@value #FILES_PER_DIR} files per leaf directory,
   * leaves three levels deep, files of 200 B to 6 KiB, one in 50 holding {@link #NEEDLE}.
   */
  static void generate(Path root, int files) throws IOException {
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < files; i++) {
      int d = i / FILES_PER_DIR;
      Path dir = root.resolve("src").resolve("m" + d / 100).resolve("p" + (d / 10) % 10)
          .resolve("d" + d % 10);
      if (i % FILES_PER_DIR == 0) {
        Files.createDirectories(dir);
      }
      String cls = "C" + i;
      StringBuilder sb = new StringBuilder(8192);
      sb.append("package m").append(d / 100).append(";\n\n/** Generated. */\npublic class ")
          .append(cls).append(" {\n");
      int target = 200 + r.nextInt(6 * 1024 - 200);
      int m = 0;
      while (sb.length() < target) {
        sb.append("  int method").append(m++).append("(int x) {\n    return x * ")
            .append(r.nextInt(1000)).append(" + ").append(r.nextInt(1000)).append(";\n  }\n");
      }
      if (i % 50 == 0) {
        sb.append("  // TODO ").append(NEEDLE).append('\n');
      }
      sb.append("}\n");
      Files.writeString(dir.resolve(cls + ".java"), sb, StandardCharsets.UTF_8);
    }
  }
}
