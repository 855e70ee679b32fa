package dev.agentfs.nio;

import dev.agentfs.AgentFsException;
import dev.agentfs.vfs.Vfs;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * The entries of one directory, read lazily in batches through {@link Vfs#readdir} (whose
 * offsets are stable, so entries present for the whole listing are returned exactly once even
 * while others change). "." and ".." are left out; the filter sees each entry's path.
 */
final class AgentFsDirectoryStream implements DirectoryStream<Path> {
  private static final int BATCH = 256;

  private final AgentFsFileSystem fs;
  private final AgentFsPath dir;
  private final long ino;
  private final long fh;
  private final @Nullable Filter<? super Path> filter;
  private volatile boolean closed;
  private boolean iterated;

  AgentFsDirectoryStream(AgentFsFileSystem fs, AgentFsPath dir, long ino, long fh,
      @Nullable Filter<? super Path> filter) {
    this.fs = fs;
    this.dir = dir;
    this.ino = ino;
    this.fh = fh;
    this.filter = filter;
  }

  @Override
  public synchronized Iterator<Path> iterator() {
    if (closed) {
      throw new IllegalStateException("Directory stream is closed");
    }
    if (iterated) {
      throw new IllegalStateException("Iterator already obtained");
    }
    iterated = true;
    return new It();
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    fs.untrack(this);
    try {
      fs.vfs().releasedir(ino, fh);
    } catch (AgentFsException e) {
      throw Errors.map(e, dir.toString(), null);
    }
  }

  private final class It implements Iterator<Path> {
    private final Deque<Path> batch = new ArrayDeque<>();
    private long offset = 2;
    private boolean eof;

    private void fill() {
      while (batch.isEmpty() && !eof && !closed) {
        long[] next = {offset};
        int[] count = {0};
        try {
          fs.vfs().readdir(fs.caller(), ino, fh, offset, false,
              (name, child, mode, nextOffset, attr) -> {
                if (count[0] >= BATCH) {
                  return false;
                }
                count[0]++;
                next[0] = nextOffset;
                batch.add(dir.resolveName(name));
                return true;
              });
        } catch (AgentFsException e) {
          throw new DirectoryIteratorException(Errors.map(e, dir.toString(), null));
        }
        offset = next[0];
        if (count[0] < BATCH) {
          eof = true;
        }
        if (filter != null) {
          batch.removeIf(p -> {
            try {
              return !filter.accept(p);
            } catch (IOException e) {
              throw new DirectoryIteratorException(e);
            }
          });
        }
      }
    }

    @Override
    public boolean hasNext() {
      if (closed) {
        return false;
      }
      fill();
      return !batch.isEmpty();
    }

    @Override
    public Path next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return batch.poll();
    }
  }
}
