package dev.agentfs.memory;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.BackstoreProvider;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Makes the in-memory backstore selectable by the spec {@code memory} from the CLI and
 * configuration files. The argument is empty or a comma-separated list of {@code key=value}
 * options: {@code capacity}, {@code chunk}, {@code spill} (a directory) and {@code
 * spillThreshold}; sizes take an optional binary suffix k, m, g or t, e.g. {@code
 * memory:capacity=64m,spill=/var/tmp,spillThreshold=16m}.
 *
 * @since 0.1
 */
public final class MemoryBackstoreProvider implements BackstoreProvider {
  @Override
  public String scheme() {
    return "memory";
  }

  @Override
  public Backstore open(String argument) throws AgentFsException {
    MemoryBackstore.Builder b = MemoryBackstore.builder();
    try {
      for (String option : argument.split(",")) {
        String opt = option.strip();
        if (opt.isEmpty()) {
          continue;
        }
        int eq = opt.indexOf('=');
        if (eq < 0) {
          throw bad(argument, "option without '=': " + opt);
        }
        String key = opt.substring(0, eq).strip();
        String value = opt.substring(eq + 1).strip();
        switch (key) {
          case "capacity":
            b.capacity(parseSize(value));
            break;
          case "chunk":
            b.chunkSize(Math.toIntExact(parseSize(value)));
            break;
          case "spill":
            b.spillDirectory(Path.of(value));
            break;
          case "spillThreshold":
            b.spillThreshold(parseSize(value));
            break;
          default:
            throw bad(argument, "unknown option '" + key + "'");
        }
      }
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      // InvalidPathException is an IllegalArgumentException too.
      throw bad(argument, String.valueOf(e.getMessage()));
    }
  }

  /** Parses "4096", "64k", "64m", "1g", "2t" (binary multiples). */
  static long parseSize(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    int shift = 0;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'k':
          shift = 10;
          break;
        case 'm':
          shift = 20;
          break;
        case 'g':
          shift = 30;
          break;
        case 't':
          shift = 40;
          break;
        default:
          break;
      }
    }
    if (shift != 0) {
      t = t.substring(0, t.length() - 1);
    }
    long n;
    try {
      n = Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a size: '" + text + "'");
    }
    if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("size out of range: '" + text + "'");
    }
    return n << shift;
  }

  private static AgentFsException bad(String argument, String detail) {
    return new AgentFsException(Errno.EINVAL, null, null, "memory:" + argument + ": " + detail);
  }
}
