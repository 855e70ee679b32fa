package dev.agentfs.nio;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a scenario observed, one line per step: a value rendered without anything that
 * legitimately differs between file systems (the scenario root, inode numbers), or the class
 * of the exception it threw and the paths that exception named, relative to the root.
 */
final class Transcript {
  @FunctionalInterface
  interface Call {
    Object call() throws Exception;
  }

  @FunctionalInterface
  interface Run {
    void run() throws Exception;
  }

  private final Path root;
  private final List<String> lines = new ArrayList<>();

  Transcript(Path root) {
    this.root = root;
  }

  List<String> lines() {
    return lines;
  }

  /** Records the value of {@code c}, or the exception it threw; returns the value or null. */
  Object step(String label, Call c) {
    try {
      Object v = c.call();
      lines.add(label + " = " + render(v));
      return v;
    } catch (Exception e) {
      lines.add(label + " ! " + describe(e));
      return null;
    }
  }

  void run(String label, Run r) {
    step(label, () -> {
      r.run();
      return "ok";
    });
  }

  void add(String label, Object v) {
    lines.add(label + " = " + render(v));
  }

  String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
    if (e instanceof FileSystemException f) {
      sb.append('(').append(rel(f.getFile()));
      if (f.getOtherFile() != null) {
        sb.append(" -> ").append(rel(f.getOtherFile()));
      }
      sb.append(')');
    }
    return sb.toString();
  }

  private String rel(String s) {
    if (s == null) {
      return "null";
    }
    String r = root.toString();
    if (s.equals(r)) {
      return ".";
    }
    return s.startsWith(r + "/") ? s.substring(r.length() + 1) : s;
  }

  String render(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof byte[] b) {
      return "bytes:" + new String(b, StandardCharsets.UTF_8);
    }
    if (v instanceof ByteBuffer b) {
      return "buffer:" + b.remaining();
    }
    if (v instanceof Path p) {
      return p.getFileSystem() == root.getFileSystem() ? "path:" + rel(p.toString())
          : "path:" + p;
    }
    if (v instanceof FileTime t) {
      return "time:" + t.toInstant();
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, String> sorted = new TreeMap<>();
      m.forEach((k, x) -> sorted.put(String.valueOf(k), render(x)));
      return sorted.toString();
    }
    if (v instanceof java.util.Set<?> c) {
      return c.stream().map(this::render).sorted().collect(Collectors.joining(", ", "{", "}"));
    }
    if (v instanceof Collection<?> c) {
      return c.stream().map(this::render).collect(Collectors.joining(", ", "[", "]"));
    }
    return v.toString();
  }
}
