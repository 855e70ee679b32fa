package dev.agentfs.nio;

import dev.agentfs.AgentFsException;
import dev.agentfs.vfs.StatFs;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import org.jspecify.annotations.Nullable;

/**
 * The store behind one branch: its name is the branch's, its type "agentfs", and its numbers
 * are the core's statfs(2) answer (blocks of {@link #getBlockSize()} bytes).
 *
 * @since 0.1
 */
public final class AgentFsFileStore extends FileStore {
  private final AgentFsFileSystem fs;

  AgentFsFileStore(AgentFsFileSystem fs) {
    this.fs = fs;
  }

  private StatFs statfs() throws IOException {
    fs.ensureOpen();
    try {
      return fs.vfs().statfs(fs.caller(), Vfs.ROOT);
    } catch (AgentFsException e) {
      throw Errors.map(e, "/", null);
    }
  }

  @Override
  public String name() {
    return fs.branch().name();
  }

  @Override
  public String type() {
    return "agentfs";
  }

  @Override
  public boolean isReadOnly() {
    return fs.isReadOnly();
  }

  @Override
  public long getTotalSpace() throws IOException {
    StatFs s = statfs();
    return s.blocks() * s.frsize();
  }

  @Override
  public long getUsableSpace() throws IOException {
    StatFs s = statfs();
    return s.bavail() * s.frsize();
  }

  @Override
  public long getUnallocatedSpace() throws IOException {
    StatFs s = statfs();
    return s.bfree() * s.frsize();
  }

  @Override
  public long getBlockSize() throws IOException {
    return statfs().bsize();
  }

  /** Total and free inodes, as statfs reports f_files and f_ffree. */
  public long getTotalFiles() throws IOException {
    return statfs().files();
  }

  public long getFreeFiles() throws IOException {
    return statfs().ffree();
  }

  @Override
  public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
    return type == BasicFileAttributeView.class || type == PosixFileAttributeView.class
        || type == FileOwnerAttributeView.class || type == UserDefinedFileAttributeView.class;
  }

  @Override
  public boolean supportsFileAttributeView(String name) {
    return Views.SUPPORTED.contains(name);
  }

  @Override
  public <V extends FileStoreAttributeView> @Nullable V getFileStoreAttributeView(Class<V> type) {
    return null;
  }

  @Override
  public Object getAttribute(String attribute) throws IOException {
    return switch (attribute) {
      case "totalSpace" -> getTotalSpace();
      case "usableSpace" -> getUsableSpace();
      case "unallocatedSpace" -> getUnallocatedSpace();
      case "bytesPerSector" -> getBlockSize();
      default -> throw new UnsupportedOperationException("'" + attribute + "' not recognized");
    };
  }

  @Override
  public String toString() {
    return "/ (" + name() + ")";
  }
}
