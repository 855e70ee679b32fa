package dev.agentfs.junit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small, fixed project tree for tests: a README, two Java sources and a test. The same files
 * every time, so tests can assert on them; {@link #FILES} lists them.
 */
public final class SampleWorkspace {
  /** Relative path to content of every file {@link #create(Path)} writes, in creation order. */
  public static final Map<String, String> FILES;

  static {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("README.md", "# Sample project\n\nA tiny workspace for AgentFS tests.\n");
    f.put("src/main/java/com/example/App.java", """
        package com.example;

        public class App {
          public static void main(String[] args) {
            System.out.println(new Greeter().greet("world"));
          }
        }
        """);
    f.put("src/main/java/com/example/Greeter.java", """
        package com.example;

        public class Greeter {
          public String greet(String who) {
            return "Hello, " + who;
          }
        }
        """);
    f.put("src/test/java/com/example/GreeterTest.java", """
        package com.example;

        class GreeterTest {
          void greets() {
            assert new Greeter().greet("x").equals("Hello, x");
          }
        }
        """);
    FILES = java.util.Collections.unmodifiableMap(f);
  }

  private SampleWorkspace() {}

  /** Writes the sample files under {@code dir} (created if missing) and returns {@code dir}. */
  public static Path create(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (Map.Entry<String, String> e : FILES.entrySet()) {
      Path p = dir.resolve(e.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
    }
    return dir;
  }
}
