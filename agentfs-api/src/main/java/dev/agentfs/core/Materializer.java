package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.spi.Content;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Eager overlay materialisation: copies every lower file of a branch into the backstore and
 * makes every lower entry the branch's own, so the branch no longer reads the lower
 * directory (it may change or vanish). Two passes: first every directory is loaded and every
 * file copied (or reflinked) into new content nobody refers to yet; only when all copies
 * succeeded does the tree take them, in one go. A refused clone or a failed copy therefore
 * releases what was copied and leaves the branch exactly as it was.
 */
final class Materializer {
  private Materializer() {}

  /** Materialises {@code b}; returns how many files were copied. */
  static int run(FsCore core, BranchFs b, boolean reflink) throws AgentFsException {
    Lower lower = core.lower;
    if (lower == null) {
      return 0;
    }
    Map<Long, Content> copies = new HashMap<>();
    Set<Long> lowerInodes = new LinkedHashSet<>();
    try {
      ArrayDeque<Long> dirs = new ArrayDeque<>();
      dirs.push(BranchFs.ROOT);
      while (!dirs.isEmpty()) {
        long ino = dirs.pop();
        b.ensureLoaded(ino);
        Inode d = b.node(ino);
        if (d.lowerPath != null) {
          lowerInodes.add(ino);
        }
        List<Long> children = new ArrayList<>();
        d.entries.forEach((name, e) -> children.add(e.ino()));
        for (long c : children) {
          Inode n = b.node(c);
          if (n.isDir()) {
            dirs.push(c);
          } else if (n.lowerPath != null && !copies.containsKey(c)) {
            lowerInodes.add(c);
            if (n.content instanceof LowerContent lc) {
              copies.put(c, core.backstore.importFile(lower.host(lc.path), reflink));
            }
          }
        }
      }
    } catch (AgentFsException | RuntimeException e) {
      copies.values().forEach(Content::release);
      throw e;
    }
    b.adoptMaterialized(lowerInodes, copies);
    return copies.size();
  }
}
