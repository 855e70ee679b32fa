package dev.agentfs.control;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads the JSON the control protocol replies with, so that Java clients of a control file
 * (discovery, tools) get values instead of text: objects become {@code Map<String, Object>}
 * in key order, arrays {@code List<Object>}, numbers {@code Long} when integral and
 * {@code Double} otherwise, plus {@code String}, {@code Boolean} and null. Strict: anything
 * that is not one JSON value (trailing text included) is EIO, since a well-behaved server
 * never sends it.
 *
 * @since 0.1
 */
public final class JsonReader {
  private final String s;
  private int i;

  private JsonReader(String s) {
    this.s = s;
  }

  /** One JSON value. */
  public static @Nullable Object parse(String json) throws AgentFsException {
    JsonReader r = new JsonReader(json);
    Object v = r.value();
    r.space();
    if (r.i != json.length()) {
      throw r.bad("text after the value");
    }
    return v;
  }

  /** Every non-empty line of a JSON-lines reply, each an object. */
  public static List<Map<String, Object>> objects(String lines) throws AgentFsException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : lines.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (!(parse(line) instanceof Map<?, ?> m)) {
        throw new AgentFsException(Errno.EIO, ControlFrames.CONTROL, null,
            "reply line is not a JSON object: " + line);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> o = (Map<String, Object>) m;
      out.add(o);
    }
    return out;
  }

  private @Nullable Object value() throws AgentFsException {
    space();
    if (i >= s.length()) {
      throw bad("unexpected end");
    }
    char c = s.charAt(i);
    switch (c) {
      case '{' -> {
        return object();
      }
      case '[' -> {
        return array();
      }
      case '"' -> {
        return string();
      }
      case 't' -> {
        return word("true", Boolean.TRUE);
      }
      case 'f' -> {
        return word("false", Boolean.FALSE);
      }
      case 'n' -> {
        return word("null", null);
      }
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw bad("unexpected '" + c + "'");
      }
    }
  }

  private Map<String, Object> object() throws AgentFsException {
    Map<String, Object> m = new LinkedHashMap<>();
    i++;
    space();
    if (peek() == '}') {
      i++;
      return m;
    }
    while (true) {
      space();
      if (peek() != '"') {
        throw bad("expected a key");
      }
      String k = string();
      space();
      expect(':');
      m.put(k, value());
      space();
      char c = next();
      if (c == '}') {
        return m;
      }
      if (c != ',') {
        throw bad("expected ',' or '}'");
      }
    }
  }

  private List<Object> array() throws AgentFsException {
    List<Object> l = new ArrayList<>();
    i++;
    space();
    if (peek() == ']') {
      i++;
      return l;
    }
    while (true) {
      l.add(value());
      space();
      char c = next();
      if (c == ']') {
        return l;
      }
      if (c != ',') {
        throw bad("expected ',' or ']'");
      }
    }
  }

  private String string() throws AgentFsException {
    i++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw bad("control character in a string");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = next();
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (i + 4 > s.length()) {
            throw bad("short \\u escape");
          }
          try {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          } catch (NumberFormatException x) {
            throw bad("bad \\u escape");
          }
          i += 4;
        }
        default -> throw bad("bad escape \\" + e);
      }
    }
  }

  private Object number() throws AgentFsException {
    int start = i;
    if (peek() == '-') {
      i++;
    }
    boolean integral = true;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        i++;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        integral = false;
        i++;
      } else {
        break;
      }
    }
    String n = s.substring(start, i);
    try {
      return integral ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
    } catch (NumberFormatException e) {
      throw bad("bad number '" + n + "'");
    }
  }

  private @Nullable Object word(String w, @Nullable Object v) throws AgentFsException {
    if (!s.startsWith(w, i)) {
      throw bad("expected " + w);
    }
    i += w.length();
    return v;
  }

  private void space() {
    while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
  }

  private char peek() throws AgentFsException {
    if (i >= s.length()) {
      throw bad("unexpected end");
    }
    return s.charAt(i);
  }

  private char next() throws AgentFsException {
    char c = peek();
    i++;
    return c;
  }

  private void expect(char c) throws AgentFsException {
    if (next() != c) {
      throw bad("expected '" + c + "'");
    }
  }

  private AgentFsException bad(String what) {
    return new AgentFsException(Errno.EIO, ControlFrames.CONTROL, null,
        "bad JSON at " + i + ": " + what);
  }
}
