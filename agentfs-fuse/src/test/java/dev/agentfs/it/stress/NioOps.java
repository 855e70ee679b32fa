package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@link Ops} through java.nio from this JVM: the stress test's thread actors use it on the
 * mount, and the replay uses it on a native directory. Each operation is the system call its
 * name says (rename with ATOMIC_MOVE is rename(2), createLink is link(2)); delete is lstat then
 * unlink/rmdir, which is safe here because a name only ever holds one kind of node.
 */
public final class NioOps implements Ops {
  private static final EnumSet<StandardOpenOption> CREATE_NEW =
      EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  private final Path root;

  public NioOps(Path root) {
    this.root = root;
  }

  private Path p(String rel) {
    return root.resolve(rel);
  }

  static Set<PosixFilePermission> perms(int mode) {
    StringBuilder sb = new StringBuilder();
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      sb.append((mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
    }
    return PosixFilePermissions.fromString(sb.toString());
  }

  private static AgentFsException fail(IOException e, String path, @Nullable String other) {
    Errno n = NioErrno.of(e);
    return new AgentFsException(n == null ? Errno.EIO : n, path, other,
        (n == null ? "no errno known for " : "") + e);
  }

  private static void writeFully(FileChannel ch, byte[] data, long offset) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(data);
    long pos = offset;
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  @Override
  public void create(String path, int mode, int tag, int len) throws AgentFsException {
    try (FileChannel ch = FileChannel.open(p(path), CREATE_NEW,
        PosixFilePermissions.asFileAttribute(perms(mode)))) {
      writeFully(ch, Data.bytes(tag, len), 0);
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public void write(String path, long offset, int tag, int len) throws AgentFsException {
    try (FileChannel ch = FileChannel.open(p(path), StandardOpenOption.WRITE)) {
      writeFully(ch, Data.bytes(tag, len), offset);
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public String read(String path) throws AgentFsException {
    try {
      return Data.sha256(Files.readAllBytes(p(path)));
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public void truncate(String path, long size) throws AgentFsException {
    // FileChannel.truncate only shrinks; RandomAccessFile.setLength is ftruncate both ways
    // (it opens with O_CREAT, so the file's existence is checked first).
    try (FileChannel ch = FileChannel.open(p(path), StandardOpenOption.WRITE)) {
      long cur = ch.size();
      if (size < cur) {
        ch.truncate(size);
      } else if (size > cur) {
        try (RandomAccessFile f = new RandomAccessFile(p(path).toFile(), "rw")) {
          f.setLength(size);
        }
      }
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public void rename(String from, String to) throws AgentFsException {
    try {
      Files.move(p(from), p(to), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw fail(e, from, to);
    }
  }

  @Override
  public void unlink(String path) throws AgentFsException {
    delete(path);
  }

  @Override
  public void rmdir(String path) throws AgentFsException {
    delete(path);
  }

  private void delete(String path) throws AgentFsException {
    try {
      Files.delete(p(path));
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public void link(String existing, String path) throws AgentFsException {
    try {
      Files.createLink(p(path), p(existing));
    } catch (IOException e) {
      throw fail(e, existing, path);
    }
  }

  @Override
  public void mkdir(String path, int mode) throws AgentFsException {
    try {
      Files.createDirectory(p(path), PosixFilePermissions.asFileAttribute(perms(mode)));
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public void symlink(String target, String path) throws AgentFsException {
    try {
      Files.createSymbolicLink(p(path), Path.of(target));
    } catch (IOException e) {
      throw fail(e, path, target);
    }
  }

  @Override
  public void chmod(String path, int mode) throws AgentFsException {
    try {
      Files.setPosixFilePermissions(p(path), perms(mode));
    } catch (IOException e) {
      throw fail(e, path, null);
    }
  }

  @Override
  public int scan(String dir) throws AgentFsException {
    int n = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(p(dir))) {
      for (Path e : ds) {
        try {
          Files.readAttributes(e, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          n++;
        } catch (NoSuchFileException gone) {
          // removed between readdir and lstat
        }
      }
    } catch (UncheckedIOException e) {
      throw fail(e.getCause(), dir, null);
    } catch (IOException e) {
      throw fail(e, dir, null);
    }
    return n;
  }
}
