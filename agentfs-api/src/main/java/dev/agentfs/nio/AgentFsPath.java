package dev.agentfs.nio;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A Unix path in an {@link AgentFsFileSystem}. The path is held as the raw bytes of its names
 * separated by '/', normalised as Linux reads paths: repeated slashes collapse and a trailing
 * slash is dropped; "." and ".." stay until {@link #normalize()}. Names are bytes, not
 * characters: a path made from a directory entry names exactly that entry even when the entry
 * is not valid UTF-8. Strings given to the file system are encoded as UTF-8; {@link #toString()}
 * decodes as UTF-8 (malformed bytes show as U+FFFD). Ordering is by unsigned bytes.
 *
 * @since 0.1
 */
public final class AgentFsPath implements Path {
  private static final byte[] EMPTY = new byte[0];

  private final AgentFsFileSystem fs;
  private final byte[] path;
  private int @Nullable [] offsets;
  private @Nullable String string;
  private int hash;

  AgentFsPath(AgentFsFileSystem fs, byte[] raw) {
    this.fs = fs;
    this.path = normalizeSlashes(raw);
  }

  static AgentFsPath of(AgentFsFileSystem fs, String first, String... more) {
    StringBuilder sb = new StringBuilder(first);
    for (String m : more) {
      if (m.isEmpty()) {
        continue;
      }
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(m);
    }
    String s = sb.toString();
    if (s.indexOf('\0') >= 0) {
      throw new InvalidPathException(s, "Nul character not allowed");
    }
    return new AgentFsPath(fs, s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] normalizeSlashes(byte[] in) {
    int n = in.length;
    while (n > 1 && in[n - 1] == '/') {
      n--;
    }
    byte[] out = new byte[n];
    int j = 0;
    byte prev = 0;
    for (int i = 0; i < n; i++) {
      byte b = in[i];
      if (b == 0) {
        throw new InvalidPathException(new String(in, StandardCharsets.UTF_8),
            "Nul character not allowed");
      }
      if (b == '/' && prev == '/') {
        continue;
      }
      out[j++] = b;
      prev = b;
    }
    return j == out.length ? out : Arrays.copyOf(out, j);
  }

  /** The raw bytes of this path. */
  byte[] bytes() {
    return path;
  }

  boolean isEmpty() {
    return path.length == 0;
  }

  private int[] offsets() {
    int[] o = offsets;
    if (o == null) {
      List<Integer> l = new ArrayList<>();
      if (path.length == 0) {
        l.add(0);
      } else {
        for (int i = 0; i < path.length; i++) {
          if (path[i] != '/' && (i == 0 || path[i - 1] == '/')) {
            l.add(i);
          }
        }
      }
      o = l.stream().mapToInt(Integer::intValue).toArray();
      offsets = o;
    }
    return o;
  }

  /** The raw bytes of name {@code i}. */
  byte[] nameBytes(int i) {
    int[] o = offsets();
    int start = o[i];
    int end = i + 1 < o.length ? o[i + 1] - 1 : path.length;
    return Arrays.copyOfRange(path, start, end);
  }

  private AgentFsPath make(byte[] b) {
    return new AgentFsPath(fs, b);
  }

  @Override
  public AgentFsFileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return path.length > 0 && path[0] == '/';
  }

  @Override
  public @Nullable AgentFsPath getRoot() {
    return isAbsolute() ? fs.root() : null;
  }

  @Override
  public @Nullable AgentFsPath getFileName() {
    if (path.length == 0) {
      return this;
    }
    if (path.length == 1 && path[0] == '/') {
      return null;
    }
    int n = getNameCount();
    if (n == 1 && !isAbsolute()) {
      return this;
    }
    return make(nameBytes(n - 1));
  }

  @Override
  public @Nullable AgentFsPath getParent() {
    int n = getNameCount();
    if (n == 0) {
      return null;
    }
    int last = offsets()[n - 1];
    if (last == 0) {
      return null;
    }
    if (last == 1 && isAbsolute()) {
      return fs.root();
    }
    return make(Arrays.copyOf(path, last - 1));
  }

  @Override
  public int getNameCount() {
    return offsets().length;
  }

  @Override
  public AgentFsPath getName(int index) {
    if (index < 0 || index >= getNameCount()) {
      throw new IllegalArgumentException("no name " + index + " in " + this);
    }
    return make(nameBytes(index));
  }

  @Override
  public AgentFsPath subpath(int beginIndex, int endIndex) {
    int n = getNameCount();
    if (beginIndex < 0 || beginIndex >= n || endIndex > n || beginIndex >= endIndex) {
      throw new IllegalArgumentException("bad subpath " + beginIndex + ".." + endIndex);
    }
    int[] o = offsets();
    int start = o[beginIndex];
    int end = endIndex < n ? o[endIndex] - 1 : path.length;
    return make(Arrays.copyOfRange(path, start, end));
  }

  private static AgentFsPath check(Path other) {
    Objects.requireNonNull(other, "other");
    if (!(other instanceof AgentFsPath p)) {
      throw new ProviderMismatchException(other.getClass().getName());
    }
    return p;
  }

  @Override
  public boolean startsWith(Path other) {
    if (!(Objects.requireNonNull(other) instanceof AgentFsPath o) || o.fs != fs) {
      return false;
    }
    if (o.isAbsolute() != isAbsolute() || o.getNameCount() > getNameCount()) {
      return false;
    }
    if (o.path.length == 0) {
      return path.length == 0;
    }
    if (o.path.length == 1 && o.isAbsolute()) {
      return true;
    }
    for (int i = 0; i < o.getNameCount(); i++) {
      if (!Arrays.equals(o.nameBytes(i), nameBytes(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean endsWith(Path other) {
    if (!(Objects.requireNonNull(other) instanceof AgentFsPath o) || o.fs != fs) {
      return false;
    }
    if (o.isAbsolute()) {
      return equals(o);
    }
    int n = getNameCount();
    int m = o.getNameCount();
    if (o.path.length == 0) {
      return path.length == 0;
    }
    if (m > n) {
      return false;
    }
    for (int i = 0; i < m; i++) {
      if (!Arrays.equals(o.nameBytes(m - 1 - i), nameBytes(n - 1 - i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDot(byte[] b) {
    return b.length == 1 && b[0] == '.';
  }

  private static boolean isDotDot(byte[] b) {
    return b.length == 2 && b[0] == '.' && b[1] == '.';
  }

  @Override
  public AgentFsPath normalize() {
    List<byte[]> out = new ArrayList<>();
    boolean abs = isAbsolute();
    if (path.length == 0) {
      return this;
    }
    for (int i = 0; i < getNameCount(); i++) {
      byte[] c = nameBytes(i);
      if (isDot(c)) {
        continue;
      }
      if (isDotDot(c)) {
        if (!out.isEmpty() && !isDotDot(out.get(out.size() - 1))) {
          out.remove(out.size() - 1);
          continue;
        }
        if (abs) {
          continue;
        }
      }
      out.add(c);
    }
    return join(abs, out);
  }

  private AgentFsPath join(boolean abs, List<byte[]> names) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    if (abs) {
      b.write('/');
    }
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        b.write('/');
      }
      b.writeBytes(names.get(i));
    }
    return make(b.toByteArray());
  }

  @Override
  public AgentFsPath resolve(Path other) {
    AgentFsPath o = check(other);
    if (o.isAbsolute()) {
      return o;
    }
    if (o.path.length == 0) {
      return this;
    }
    if (path.length == 0) {
      return o;
    }
    byte[] b = new byte[path.length + 1 + o.path.length];
    System.arraycopy(path, 0, b, 0, path.length);
    b[path.length] = '/';
    System.arraycopy(o.path, 0, b, path.length + 1, o.path.length);
    return make(b);
  }

  @Override
  public AgentFsPath resolve(String other) {
    return resolve(fs.getPath(other));
  }

  /** Resolves a single raw name, as read from a directory. */
  AgentFsPath resolveName(byte[] name) {
    return resolve(make(name));
  }

  @Override
  public AgentFsPath relativize(Path other) {
    AgentFsPath o = check(other);
    if (o.isAbsolute() != isAbsolute()) {
      throw new IllegalArgumentException("'other' is different type of Path");
    }
    if (equals(o)) {
      return make(EMPTY);
    }
    if (path.length == 0) {
      return o;
    }
    int n = path.length == 1 && isAbsolute() ? 0 : getNameCount();
    int m = o.path.length == 1 && o.isAbsolute() ? 0 : o.getNameCount();
    int common = 0;
    while (common < n && common < m && Arrays.equals(nameBytes(common), o.nameBytes(common))) {
      common++;
    }
    List<byte[]> out = new ArrayList<>();
    for (int i = common; i < n; i++) {
      out.add(new byte[] {'.', '.'});
    }
    for (int i = common; i < m; i++) {
      out.add(o.nameBytes(i));
    }
    return join(false, out);
  }

  @Override
  public URI toUri() {
    AgentFsPath abs = toAbsolutePath();
    String p = AgentFsFileSystemProvider.percentEncode(abs.path, "/:@");
    if (fs.provider().isDirectoryQuietly(this) && !p.endsWith("/")) {
      p = p + "/";
    }
    String key = AgentFsFileSystemProvider.percentEncode(
        fs.key().getBytes(StandardCharsets.UTF_8), ":");
    return URI.create(AgentFsFileSystemProvider.SCHEME + "://" + key + p);
  }

  @Override
  public AgentFsPath toAbsolutePath() {
    return isAbsolute() ? this : fs.root().resolve(this);
  }

  @Override
  public AgentFsPath toRealPath(LinkOption... options) throws IOException {
    return fs.provider().realPath(this, AgentFsFileSystemProvider.follow(options));
  }

  @Override
  public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events,
      WatchEvent.Modifier... modifiers) throws IOException {
    Objects.requireNonNull(watcher, "watcher");
    if (!(watcher instanceof AgentFsWatchService ws)) {
      throw new ProviderMismatchException();
    }
    return ws.register(this, events, modifiers);
  }

  @Override
  public int compareTo(Path other) {
    AgentFsPath o = (AgentFsPath) other;
    return Arrays.compareUnsigned(path, o.path);
  }

  @Override
  public boolean equals(@Nullable Object obj) {
    return obj instanceof AgentFsPath o && o.fs == fs && Arrays.equals(o.path, path);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(path);
      hash = h;
    }
    return h;
  }

  @Override
  public String toString() {
    String s = string;
    if (s == null) {
      s = new String(path, StandardCharsets.UTF_8);
      string = s;
    }
    return s;
  }
}
