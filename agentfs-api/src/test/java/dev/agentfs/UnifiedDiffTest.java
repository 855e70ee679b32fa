package dev.agentfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unified diffs, checked against GNU diff -u on the same files. */
class UnifiedDiffTest {
  @TempDir Path tmp;

  private String gnu(String a, String b) throws Exception {
    Files.writeString(tmp.resolve("a"), a);
    Files.writeString(tmp.resolve("b"), b);
    Process p = new ProcessBuilder("diff", "-u", "--label", "a/f", "--label", "b/f", "a", "b")
        .directory(tmp.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  private static String ours(String a, String b) {
    return UnifiedDiff.diff("/f", a.getBytes(StandardCharsets.UTF_8),
        b.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void matchesGnuDiffOnRandomEdits() throws Exception {
    Random r = new Random(11);
    for (int round = 0; round < 200; round++) {
      List<String> a = new ArrayList<>();
      for (int i = 0; i < 5 + r.nextInt(40); i++) {
        a.add("line " + r.nextInt(15));
      }
      List<String> b = new ArrayList<>(a);
      for (int e = 0; e < 1 + r.nextInt(6); e++) {
        int at = b.isEmpty() ? 0 : r.nextInt(b.size());
        switch (r.nextInt(3)) {
          case 0 -> b.add(at, "new " + r.nextInt(100));
          case 1 -> {
            if (!b.isEmpty()) {
              b.remove(at);
            }
          }
          default -> {
            if (!b.isEmpty()) {
              b.set(at, "changed " + r.nextInt(100));
            }
          }
        }
      }
      String sa = String.join("\n", a) + "\n";
      String sb = b.isEmpty() ? "" : String.join("\n", b) + "\n";
      String expected = gnu(sa, sb);
      String actual = ours(sa, sb);
      // GNU diff may pick a different but equally short script; compare the line counts.
      assertEquals(count(expected, '-'), count(actual, '-'), "round " + round + "\n" + expected
          + "---- ours\n" + actual);
      assertEquals(count(expected, '+'), count(actual, '+'), "round " + round);
    }
  }

  private static long count(String patch, char c) {
    return patch.lines().filter(l -> l.length() > 0 && l.charAt(0) == c
        && !l.startsWith("---") && !l.startsWith("+++")).count();
  }

  @Test
  void exactOutputForASimpleChange() throws Exception {
    String a = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
    String b = "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n";
    assertEquals(gnu(a, b), ours(a, b));
  }

  @Test
  void binaryAndEqual() {
    assertNull(UnifiedDiff.diff("/x", new byte[] {0, 1, 2}, new byte[] {3}));
    assertEquals("", ours("same\n", "same\n"));
    assertTrue(UnifiedDiff.diff("/n", null, "x\n".getBytes()).contains("--- /dev/null"));
  }

  @Test
  void patchOfABranch() throws Exception {
    try (AgentFs fs = AgentFs.builder().build()) {
      fs.main().write("/a.txt", "hello\nworld\n");
      fs.main().write("/gone.txt", "bye\n");
      Branch t = fs.createBranch("t", fs.main());
      t.write("/a.txt", "hello\nthere\n");
      t.delete("/gone.txt");
      t.write("/new.txt", "fresh\n");
      String p = fs.patch("t@base", "t");
      assertTrue(p.contains("--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"), p);
      assertTrue(p.contains("--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"), p);
      assertTrue(p.contains("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+fresh\n"), p);
    }
  }
}
