package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;

/**
 * The file operations a stress actor performs, each one or two system calls on a path
 * relative to some root, failing with the errno the kernel returned. Two implementations make
 * the same calls: {@link NioOps} from this JVM and {@link ChildOps} from a python process, so
 * a log of completed operations replays on a native directory to the same tree.
 */
public interface Ops {
  /** open(O_WRONLY|O_CREAT|O_EXCL, mode), write {@link Data#bytes(int, int)}, close. */
  void create(String path, int mode, int tag, int len) throws AgentFsException;

  /** open(O_WRONLY), pwrite {@link Data#bytes(int, int)} at {@code offset}, close. */
  void write(String path, long offset, int tag, int len) throws AgentFsException;

  /** The SHA-256 (hex) of the whole file, read through open/read/close. */
  String read(String path) throws AgentFsException;

  /** Sets the size of an existing file (ftruncate from Java, truncate(2) from python). */
  void truncate(String path, long size) throws AgentFsException;

  void rename(String from, String to) throws AgentFsException;

  void unlink(String path) throws AgentFsException;

  /** link(2), not following a symlink at {@code existing}. */
  void link(String existing, String path) throws AgentFsException;

  void mkdir(String path, int mode) throws AgentFsException;

  void rmdir(String path) throws AgentFsException;

  void symlink(String target, String path) throws AgentFsException;

  void chmod(String path, int mode) throws AgentFsException;

  /**
   * Lists a directory and lstats every entry; an entry removed between the two is skipped.
   * Returns how many entries were lstat'ed.
   */
  int scan(String dir) throws AgentFsException;
}
