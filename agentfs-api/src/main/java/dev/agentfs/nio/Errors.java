package dev.agentfs.nio;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import org.jspecify.annotations.Nullable;

/**
 * The one mapping from an {@link Errno} to the java.nio exception the default file system on
 * Linux throws for it. Errnos without a dedicated exception become a plain {@link
 * FileSystemException} whose reason is the errno's name.
 */
final class Errors {
  private Errors() {}

  /** Which operation failed, where an errno means something more specific there. */
  enum Op {
    ANY,
    /** Listing a directory: ENOTDIR is {@link NotDirectoryException}. */
    OPENDIR,
    /** readlink: EINVAL means "not a link", {@link NotLinkException}. */
    READLINK
  }

  static FileSystemException map(AgentFsException e, @Nullable String file,
      @Nullable String other) {
    return map(e, file, other, Op.ANY);
  }

  static FileSystemException map(AgentFsException e, @Nullable String file,
      @Nullable String other, Op op) {
    FileSystemException x = switch (e.errno()) {
      case ENOENT -> new NoSuchFileException(file, other, null);
      case EEXIST -> new FileAlreadyExistsException(file, other, null);
      case EACCES -> new AccessDeniedException(file, other, null);
      case ENOTEMPTY -> new DirectoryNotEmptyException(file);
      case ENOTDIR -> op == Op.OPENDIR ? new NotDirectoryException(file)
          : new FileSystemException(file, other, Errno.ENOTDIR.name());
      case EINVAL -> op == Op.READLINK ? new NotLinkException(file, other, null)
          : new FileSystemException(file, other, Errno.EINVAL.name());
      default -> new FileSystemException(file, other, e.errno().name());
    };
    x.initCause(e);
    return x;
  }

  static FileSystemException of(Errno errno, @Nullable String file, @Nullable String other) {
    return map(new AgentFsException(errno, file), file, other);
  }
}
