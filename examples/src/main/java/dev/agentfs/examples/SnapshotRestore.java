package dev.agentfs.examples;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.CommitResult;
import dev.agentfs.Snapshot;
import dev.agentfs.core.TreeDiff;
import java.io.PrintStream;

/**
 * Snapshot, break things, restore. A snapshot is O(1) and never changes, so taking one before
 * every risky step is free. After the damage, {@link AgentFs#diff} names every broken path; a
 * branch created from the snapshot shows the good tree; and a "revert" branch that copies the
 * good files back is committed onto main, so main is repaired with one atomic-per-file commit
 * that refuses to overwrite anything changed meanwhile. Java API only, no mount needed.
 */
public final class SnapshotRestore {
  private SnapshotRestore() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws AgentFsException {
    try (AgentFs fs = AgentFs.builder().build()) {
      Branch main = fs.main();
      main.mkdirs("/src/util");
      main.write("/src/App.java", "class App { void run() {} }\n");
      main.write("/src/util/Strings.java", "class Strings {}\n");
      main.write("/build.conf", "release=1.0\n");

      Snapshot good = fs.snapshot("good");                     // O(1), immutable
      out.println("snapshot '" + good.name() + "' of " + good.branch());

      // An agent with write access to main goes wrong.
      main.deleteRecursively("/src/util");
      main.write("/src/App.java", "class App { oops");
      main.write("/scratch.tmp", "junk");
      out.println("damage since the snapshot:");
      for (TreeDiff.Change c : fs.diff("good", "main")) {
        out.println("  " + c.kind() + " " + c.path());
      }

      // The good tree is one branch away, whatever the size of the tree.
      Branch view = fs.createBranch("good-view", good);
      out.println("good-view has App.java: " + view.readString("/src/App.java").strip());

      // Repair main: a branch of the current main puts the good files back, then commits.
      Branch revert = fs.createBranch("revert", main);
      for (TreeDiff.Change c : fs.diff("good", "main")) {
        undo(c, view, revert);
      }
      CommitResult dry = fs.commit("revert", true);
      out.println("dry run onto " + dry.target() + ": " + dry.applied().size()
          + " changes, clean=" + dry.clean());
      CommitResult done = fs.commit("revert", false);
      out.println("committed " + done.applied().size() + " changes onto " + done.target());

      out.println("main restored: App.java=" + main.readString("/src/App.java").strip()
          + ", util=" + main.list("/src/util") + ", scratch.tmp exists="
          + main.exists("/scratch.tmp"));
      fs.deleteBranch("good-view");
      fs.deleteBranch("revert");
    }
  }

  /** Makes {@code into} show at {@code c}'s path what {@code good} shows there. */
  private static void undo(TreeDiff.Change c, Branch good, Branch into) throws AgentFsException {
    switch (c.kind()) {
      case ADDED -> deleteIfExists(into, c.path());
      case DELETED, MODIFIED -> copy(good, into, c.path());
      case RENAMED -> {
        deleteIfExists(into, c.path());
        copy(good, into, c.oldPath());
      }
    }
  }

  private static void deleteIfExists(Branch b, String path) throws AgentFsException {
    if (b.exists(path)) {
      b.deleteRecursively(path);
    }
  }

  /** Copies a file or directory tree; a directory that is there already is merged into. */
  private static void copy(Branch from, Branch to, String path) throws AgentFsException {
    if (from.lstat(path).isDirectory()) {
      if (!to.exists(path)) {
        to.mkdir(path);
      }
      for (String child : from.list(path)) {
        copy(from, to, path + "/" + child);
      }
    } else if (to.exists(path) && java.util.Arrays.equals(from.read(path), to.read(path))) {
      return;                                                 // already right
    } else {
      to.write(path, from.read(path));
    }
  }
}
