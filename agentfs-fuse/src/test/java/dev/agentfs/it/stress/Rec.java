package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;

/**
 * One completed mutation in an actor's log, with everything needed to do it again elsewhere:
 * paths {@code a} and {@code b}, numbers {@code n1}/{@code n2} (mode, offset, size or length
 * as the kind says) and the data tag.
 */
public record Rec(String kind, String a, String b, long n1, long n2, int tag) {
  static Rec of(String kind, String a) {
    return new Rec(kind, a, "", 0, 0, 0);
  }

  static Rec of(String kind, String a, String b) {
    return new Rec(kind, a, b, 0, 0, 0);
  }

  /** Does this operation again through {@code ops}. */
  public void apply(Ops ops) throws AgentFsException {
    switch (kind) {
      case "create" -> ops.create(a, (int) n1, tag, (int) n2);
      case "write" -> ops.write(a, n1, tag, (int) n2);
      case "truncate" -> ops.truncate(a, n1);
      case "rename" -> ops.rename(a, b);
      case "unlink" -> ops.unlink(a);
      case "link" -> ops.link(a, b);
      case "mkdir" -> ops.mkdir(a, (int) n1);
      case "rmdir" -> ops.rmdir(a);
      case "symlink" -> ops.symlink(b, a);
      case "chmod" -> ops.chmod(a, (int) n1);
      default -> throw new IllegalArgumentException("no such operation: " + kind);
    }
  }
}
