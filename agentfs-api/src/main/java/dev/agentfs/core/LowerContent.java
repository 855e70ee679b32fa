package dev.agentfs.core;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.spi.Content;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The bytes of an untouched lower file, read straight from the host. Never written: the core
 * copies the file up into the backstore before the first change ({@link BranchFs}'s own()).
 * Opens the host file per read, so a million lower files cost no descriptors while idle.
 */
final class LowerContent implements Content {
  final Lower lower;
  final String path;

  LowerContent(Lower lower, String path) {
    this.lower = lower;
    this.path = path;
  }

  private AgentFsException readOnly() {
    return new AgentFsException(Errno.EROFS, "lower " + path, null,
        "lower files are copied up before they change");
  }

  @Override
  public long size() {
    try {
      return java.nio.file.Files.size(lower.host(path));
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public long allocatedBytes() {
    return size();
  }

  @Override
  public int read(long position, ByteBuffer dst) throws AgentFsException {
    Path p = lower.host(path);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      int total = 0;
      while (dst.hasRemaining()) {
        int n = ch.read(dst, position + total);
        if (n <= 0) {
          break;
        }
        total += n;
      }
      return total;
    } catch (IOException e) {
      throw Lower.error(e, p);
    }
  }

  @Override
  public void write(long position, ByteBuffer src) throws AgentFsException {
    throw readOnly();
  }

  @Override
  public void truncate(long size) throws AgentFsException {
    throw readOnly();
  }

  @Override
  public void allocate(long offset, long length, boolean keepSize) throws AgentFsException {
    throw readOnly();
  }

  @Override
  public void punchHole(long offset, long length) throws AgentFsException {
    throw readOnly();
  }

  @Override
  public long seekData(long offset) {
    return offset < size() ? offset : -1;
  }

  @Override
  public long seekHole(long offset) {
    long s = size();
    return offset < s ? s : -1;
  }

  @Override
  public Content copy() throws AgentFsException {
    throw readOnly();
  }

  @Override
  public void sync(boolean dataOnly) {}

  @Override
  public void release() {}
}
