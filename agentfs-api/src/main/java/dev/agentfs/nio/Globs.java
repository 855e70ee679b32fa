package dev.agentfs.nio;

import java.nio.file.PathMatcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Path matchers for "glob:" and "regex:" patterns, with the glob rules {@link
 * java.nio.file.FileSystem#getPathMatcher} documents for Unix: {@code *} matches within a name,
 * {@code **} across names, {@code ?} one character, {@code [...]} a class ({@code !} negates),
 * {@code {a,b}} alternatives (not nested), backslash escapes.
 */
final class Globs {
  private Globs() {}

  static PathMatcher matcher(String syntaxAndPattern) {
    int colon = syntaxAndPattern.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected syntax:pattern, got " + syntaxAndPattern);
    }
    String syntax = syntaxAndPattern.substring(0, colon);
    String pattern = syntaxAndPattern.substring(colon + 1);
    Pattern re;
    if (syntax.equalsIgnoreCase("glob")) {
      re = Pattern.compile(toRegex(pattern));
    } else if (syntax.equalsIgnoreCase("regex")) {
      re = Pattern.compile(pattern);
    } else {
      throw new UnsupportedOperationException("syntax '" + syntax + "' not recognized");
    }
    return path -> re.matcher(path.toString()).matches();
  }

  static String toRegex(String glob) {
    StringBuilder re = new StringBuilder("^");
    boolean inGroup = false;
    int i = 0;
    int n = glob.length();
    while (i < n) {
      char c = glob.charAt(i++);
      switch (c) {
        case '\\' -> {
          if (i == n) {
            throw new PatternSyntaxException("no character to escape", glob, i - 1);
          }
          literal(re, glob.charAt(i++));
        }
        case '/' -> re.append('/');
        case '*' -> {
          if (i < n && glob.charAt(i) == '*') {
            re.append(".*");
            i++;
          } else {
            re.append("[^/]*");
          }
        }
        case '?' -> re.append("[^/]");
        case '[' -> {
          re.append("[[^/]&&[");
          if (i < n && (glob.charAt(i) == '!' || glob.charAt(i) == '^')) {
            re.append('^');
            i++;
          }
          boolean first = true;
          boolean closed = false;
          while (i < n) {
            char d = glob.charAt(i++);
            if (d == ']' && !first) {
              closed = true;
              break;
            }
            first = false;
            if (d == '/') {
              throw new PatternSyntaxException("explicit '/' in class", glob, i - 1);
            }
            if (d == '\\' || d == '[' || d == '&' || d == '^' || (d == ']')) {
              re.append('\\');
            }
            re.append(d);
          }
          if (!closed) {
            throw new PatternSyntaxException("missing ']'", glob, i - 1);
          }
          re.append("]]");
        }
        case '{' -> {
          if (inGroup) {
            throw new PatternSyntaxException("nested groups are not supported", glob, i - 1);
          }
          re.append("(?:(?:");
          inGroup = true;
        }
        case '}' -> {
          if (inGroup) {
            re.append("))");
            inGroup = false;
          } else {
            literal(re, c);
          }
        }
        case ',' -> {
          if (inGroup) {
            re.append(")|(?:");
          } else {
            literal(re, c);
          }
        }
        default -> literal(re, c);
      }
    }
    if (inGroup) {
      throw new PatternSyntaxException("missing '}'", glob, n - 1);
    }
    return re.append('$').toString();
  }

  private static void literal(StringBuilder re, char c) {
    if ("\\^$.|?*+()[]{}".indexOf(c) >= 0) {
      re.append('\\');
    }
    re.append(c);
  }
}
