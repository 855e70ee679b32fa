package dev.agentfs.consumer;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.Snapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Uses AgentFS as a dependency: builds an in-memory instance, writes, snapshots, branches,
 * mounts the main branch (when /dev/fuse exists and we are root) and reads back through the
 * mount with plain java.nio. Prints one JSON line and exits 0, or exits 1 on a mismatch.
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    boolean modular = Main.class.getModule().getLayer() != null
        || AgentFs.class.getModule().isNamed();
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      main.mkdirs("/src");
      main.write("/src/App.java", "class App {}");
      Snapshot base = main.snapshot("base");
      Branch task = fs.createBranch("task-1", base);
      task.write("/src/App.java", "class App { int x; }");
      int changes = fs.diff("base", "task-1").size();
      check("main after branch write", main.readString("/src/App.java"), "class App {}");

      String mount = "skipped";
      if (Files.exists(Path.of("/dev/fuse")) && isRoot()) {
        Path dir = Files.createTempDirectory("agentfs-consumer");
        try (var handle = fs.mount(dir)) {
          String viaMount = Files.readString(dir.resolve("src/App.java"), StandardCharsets.UTF_8);
          check("read through the mount", viaMount, "class App {}");
          Files.writeString(dir.resolve("src/Written.txt"), "from the mount");
          check("write through the mount", main.readString("/src/Written.txt"), "from the mount");
          mount = "ok";
        } finally {
          Files.deleteIfExists(dir);
        }
      }
      System.out.printf(
          "{\"ok\":true,\"snapshot\":\"%s\",\"branch\":\"%s\",\"changes\":%d,\"mount\":\"%s\","
              + "\"namedModule\":%b,\"java\":\"%s\"}%n",
          base.name(), task.name(), changes, mount, modular, Runtime.version());
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (Exception e) {
      return false;
    }
  }

  private static void check(String what, String actual, String expected) {
    if (!expected.equals(actual)) {
      System.out.printf("{\"ok\":false,\"check\":\"%s\",\"expected\":\"%s\",\"actual\":\"%s\"}%n",
          what, expected, actual);
      System.exit(1);
    }
  }
}
