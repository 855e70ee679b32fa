package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import java.io.PrintStream;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Read and write a branch with plain java.nio, no mount and no kernel: {@link
 * Branch#asFileSystem()} is a {@link FileSystem} whose {@code Files.*} calls go straight to the
 * copy-on-write core, so code written against {@link Path} runs unchanged in a sandbox.
 */
public final class InProcessNio {
  private InProcessNio() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    try (AgentFs fs = AgentFs.builder().build()) {
      try (FileSystem main = fs.main().asFileSystem()) {
        Path src = Files.createDirectories(main.getPath("/src"));
        Files.writeString(src.resolve("App.java"), "class App {}\n");
        Files.writeString(main.getPath("/notes.txt"), "line 1\nline 2\n");
      }
      Branch task = fs.createBranch("task", fs.main());
      try (FileSystem nio = task.asFileSystem()) {
        Path notes = nio.getPath("/notes.txt");
        Files.writeString(notes, "line 3\n", java.nio.file.StandardOpenOption.APPEND);
        Files.move(nio.getPath("/src/App.java"), nio.getPath("/src/Main.java"));
        try (Stream<Path> walk = Files.walk(nio.getPath("/"))) {
          out.println("task tree: " + walk.map(Path::toString).sorted().toList());
        }
        try (Stream<String> lines = Files.lines(notes)) {
          out.println("task notes.txt lines: " + lines.count());
        }
        out.println("file system: " + nio.provider().getScheme() + ", store "
            + Files.getFileStore(notes).name());
      }
      out.println("main still has App.java: " + fs.main().exists("/src/App.java")
          + ", notes: " + fs.main().readString("/notes.txt").lines().count() + " lines");
    }
  }
}
