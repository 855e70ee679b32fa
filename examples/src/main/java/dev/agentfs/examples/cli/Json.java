package dev.agentfs.examples.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One JSON object per line, the CLI's output format. Small on purpose: strings, numbers,
 * booleans, lists and nested maps are all the CLI prints, so no JSON library is needed.
 * Public for the {@code bench} command, which writes its results file with it too.
 */
public final class Json {
  private final Map<String, Object> fields = new LinkedHashMap<>();

  public static Json event(String event) {
    return new Json().put("event", event);
  }

  public static Json of(String key, Object value) {
    return new Json().put(key, value);
  }

  public Json put(String key, Object value) {
    fields.put(key, value);
    return this;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    write(sb, fields);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Json j) {
      write(sb, j.fields);
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(sb, String.valueOf(e.getKey()));
        sb.append(':');
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(sb, l.get(i));
      }
      sb.append(']');
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else {
      quote(sb, v.toString());
    }
  }

  /**
   * The string value of {@code key} in the first JSON object of {@code text} that has one
   * (a flat object as the control protocol prints), or null.
   */
  static @Nullable String stringField(String text, String key) {
    String needle = "\"" + key + "\":\"";
    int i = text.indexOf(needle);
    if (i < 0) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (i += needle.length(); i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"') {
        return sb.toString();
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (++i >= text.length()) {
        return null;
      }
      char e = text.charAt(i);
      switch (e) {
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'u' -> {
          if (i + 4 >= text.length()) {
            return null;
          }
          try {
            sb.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
          } catch (NumberFormatException ex) {
            return null;
          }
          i += 4;
        }
        default -> sb.append(e); // \" \\ \/
      }
    }
    return null;
  }

  public static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
