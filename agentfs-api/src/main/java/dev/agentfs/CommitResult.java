package dev.agentfs;

import dev.agentfs.core.TreeDiff;
import java.util.List;

/**
 * What committing a branch did (or, for a dry run, would do): the changes applied to the
 * target and the ones refused because the target changed the same thing since the branch's
 * base. A conflicting change is never applied; the others are, each atomically.
 *
 * @since 0.1
 */
public record CommitResult(String branch, String target, boolean dryRun,
    List<TreeDiff.Change> applied, List<Conflict> conflicts) {

  /** A change that was not applied: {@code reason} says what the target did meanwhile. */
  public record Conflict(TreeDiff.Change change, String reason) {}

  public boolean clean() {
    return conflicts.isEmpty();
  }
}
