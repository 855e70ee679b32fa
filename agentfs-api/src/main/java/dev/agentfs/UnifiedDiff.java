package dev.agentfs;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Unified diffs ({@code diff -u} format, three lines of context) of text files, for showing what
 * an agent changed. Lines are compared with Myers' O(ND) algorithm, so the cost grows with the
 * size of the change. Files that are not UTF-8 text, or too large to show, get no patch.
 */
public final class UnifiedDiff {
  /** Files larger than this are not diffed line by line. */
  public static final int MAX_BYTES = 1 << 20;

  private static final int CONTEXT = 3;

  private UnifiedDiff() {}

  /**
   * The patch turning {@code before} into {@code after} (either may be null for a file that
   * does not exist on that side), or null when either side is not text or too large. Empty
   * when they are equal.
   */
  public static @Nullable String diff(String path, byte @Nullable [] before,
      byte @Nullable [] after) {
    List<String> a = lines(before);
    List<String> b = lines(after);
    if (a == null || b == null) {
      return null;
    }
    List<int[]> script = script(a, b);
    if (script.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    out.append("--- ").append(before == null ? "/dev/null" : "a" + path).append('\n');
    out.append("+++ ").append(after == null ? "/dev/null" : "b" + path).append('\n');
    // script: one entry per line of the merged sequence: {op, indexA, indexB}, op 0 = same.
    int i = 0;
    while (i < script.size()) {
      if (script.get(i)[0] == 0) {
        i++;
        continue;
      }
      int start = Math.max(0, i - CONTEXT);
      int end = i;
      int lastChange = i;
      while (end < script.size()) {
        if (script.get(end)[0] != 0) {
          lastChange = end;
        } else if (end - lastChange > 2 * CONTEXT) {
          break;
        }
        end++;
      }
      end = Math.min(script.size(), lastChange + CONTEXT + 1);
      hunk(out, script.subList(start, end), a, b);
      i = end;
    }
    return out.toString();
  }

  private static void hunk(StringBuilder out, List<int[]> h, List<String> a, List<String> b) {
    int aStart = -1;
    int bStart = -1;
    int aLen = 0;
    int bLen = 0;
    for (int[] e : h) {
      if (e[0] <= 0) {
        aLen++;
        if (aStart < 0) {
          aStart = e[1];
        }
      }
      if (e[0] >= 0) {
        bLen++;
        if (bStart < 0) {
          bStart = e[2];
        }
      }
    }
    out.append("@@ -").append(range(aStart, aLen, h, true)).append(" +")
        .append(range(bStart, bLen, h, false)).append(" @@\n");
    for (int[] e : h) {
      if (e[0] == 0) {
        out.append(' ').append(a.get(e[1])).append('\n');
      } else if (e[0] < 0) {
        out.append('-').append(a.get(e[1])).append('\n');
      } else {
        out.append('+').append(b.get(e[2])).append('\n');
      }
    }
  }

  private static String range(int start, int len, List<int[]> h, boolean left) {
    if (len == 0) {
      // An empty side names the line before the hunk, as diff -u does.
      int before = left ? h.get(0)[1] : h.get(0)[2];
      return Math.max(0, before) + ",0";
    }
    return (start + 1) + (len == 1 ? "" : "," + len);
  }

  private static @Nullable List<String> lines(byte @Nullable [] data) {
    if (data == null) {
      return List.of();
    }
    if (data.length > MAX_BYTES) {
      return null;
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(data)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    if (text.indexOf('\0') >= 0) {
      return null;
    }
    List<String> out = new ArrayList<>(List.of(text.split("\n", -1)));
    if (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
      out.remove(out.size() - 1);
    }
    return out;
  }

  /**
   * The edit script between {@code a} and {@code b} as entries {op, ia, ib}: op 0 keeps line
   * ia of a (= line ib of b), -1 deletes line ia of a, +1 inserts line ib of b. Empty when the
   * lists are equal.
   */
  static List<int[]> script(List<String> a, List<String> b) {
    int n = a.size();
    int m = b.size();
    int max = n + m;
    int[] v = new int[2 * max + 2];
    List<int[]> trace = new ArrayList<>();
    int dFound = -1;
    outer:
    for (int d = 0; d <= max; d++) {
      trace.add(v.clone());
      for (int k = -d; k <= d; k += 2) {
        int x;
        if (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) {
          x = v[max + k + 1];
        } else {
          x = v[max + k - 1] + 1;
        }
        int y = x - k;
        while (x < n && y < m && a.get(x).equals(b.get(y))) {
          x++;
          y++;
        }
        v[max + k] = x;
        if (x >= n && y >= m) {
          dFound = d;
          break outer;
        }
      }
    }
    if (dFound == 0) {
      return List.of();
    }
    List<int[]> rev = new ArrayList<>();
    int x = n;
    int y = m;
    for (int d = dFound; d > 0; d--) {
      int[] vd = trace.get(d);
      int k = x - y;
      int prevK = (k == -d || (k != d && vd[max + k - 1] < vd[max + k + 1])) ? k + 1 : k - 1;
      int prevX = vd[max + prevK];
      int prevY = prevX - prevK;
      while (x > prevX && y > prevY) {
        rev.add(new int[] {0, --x, --y});
      }
      if (x == prevX) {
        rev.add(new int[] {1, x, --y});
      } else {
        rev.add(new int[] {-1, --x, y});
      }
    }
    while (x > 0 && y > 0) {
      rev.add(new int[] {0, --x, --y});
    }
    List<int[]> out = new ArrayList<>(rev.size());
    for (int i = rev.size() - 1; i >= 0; i--) {
      out.add(rev.get(i));
    }
    return out;
  }
}
