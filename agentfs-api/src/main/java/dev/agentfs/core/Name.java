package dev.agentfs.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A directory entry name: POSIX bytes, any value but '/' and NUL, at most 255 of them. Held as a
 * value so directory maps can key on it; the hash is cached because lookups hash every name.
 */
final class Name implements Comparable<Name> {
  static final int MAX = 255;

  final byte[] bytes;
  private final int hash;

  private Name(byte[] bytes) {
    this.bytes = bytes;
    int h = 0x811c9dc5;
    for (byte b : bytes) {
      h = (h ^ (b & 0xff)) * 0x01000193;
    }
    this.hash = h ^ (h >>> 15);
  }

  /** Wraps bytes already validated (or trusted, e.g. from a stored tree). */
  static Name of(byte[] bytes) {
    return new Name(bytes);
  }

  static Name of(String s) {
    return new Name(s.getBytes(StandardCharsets.UTF_8));
  }

  boolean isDot() {
    return bytes.length == 1 && bytes[0] == '.';
  }

  boolean isDotDot() {
    return bytes.length == 2 && bytes[0] == '.' && bytes[1] == '.';
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Name && hash == ((Name) o).hash && Arrays.equals(bytes, ((Name) o).bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(Name o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
