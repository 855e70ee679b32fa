package dev.agentfs.it.stress;

import dev.agentfs.Errno;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The errno behind a java.nio exception. The JDK turns a few errnos into exception types and
 * reports every other one by its strerror text, so the text is mapped back (glibc's strings
 * for every {@link Errno}); null when the failure names no errno we know.
 */
final class NioErrno {
  private static final Map<String, Errno> BY_TEXT = new LinkedHashMap<>();

  static {
    String[][] t = {
        {"EPERM", "Operation not permitted"}, {"ENOENT", "No such file or directory"},
        {"ESRCH", "No such process"}, {"EINTR", "Interrupted system call"},
        {"EIO", "Input/output error"}, {"ENXIO", "No such device or address"},
        {"E2BIG", "Argument list too long"}, {"EBADF", "Bad file descriptor"},
        {"EAGAIN", "Resource temporarily unavailable"}, {"ENOMEM", "Cannot allocate memory"},
        {"EACCES", "Permission denied"}, {"EFAULT", "Bad address"},
        {"EBUSY", "Device or resource busy"}, {"EEXIST", "File exists"},
        {"EXDEV", "Invalid cross-device link"}, {"ENODEV", "No such device"},
        {"ENOTDIR", "Not a directory"}, {"EISDIR", "Is a directory"},
        {"EINVAL", "Invalid argument"}, {"ENFILE", "Too many open files in system"},
        {"EMFILE", "Too many open files"}, {"ENOTTY", "Inappropriate ioctl for device"},
        {"ETXTBSY", "Text file busy"}, {"EFBIG", "File too large"},
        {"ENOSPC", "No space left on device"}, {"ESPIPE", "Illegal seek"},
        {"EROFS", "Read-only file system"}, {"EMLINK", "Too many links"},
        {"EPIPE", "Broken pipe"}, {"ERANGE", "Numerical result out of range"},
        {"EDEADLK", "Resource deadlock avoided"}, {"ENAMETOOLONG", "File name too long"},
        {"ENOLCK", "No locks available"}, {"ENOSYS", "Function not implemented"},
        {"ENOTEMPTY", "Directory not empty"}, {"ELOOP", "Too many levels of symbolic links"},
        {"ENODATA", "No data available"}, {"EOVERFLOW", "Value too large for defined data type"},
        {"EILSEQ", "Invalid or incomplete multibyte or wide character"},
        {"ENOTSUP", "Operation not supported"},
        {"ENOTCONN", "Transport endpoint is not connected"},
        {"ESTALE", "Stale file handle"}, {"EDQUOT", "Disk quota exceeded"},
        {"ECANCELED", "Operation canceled"}};
    // Longest first, so "Too many open files in system" is not taken for EMFILE.
    java.util.Arrays.sort(t, Comparator.comparingInt((String[] r) -> -r[1].length()));
    for (String[] r : t) {
      BY_TEXT.put(r[1], Errno.valueOf(r[0]));
    }
  }

  private NioErrno() {}

  static @Nullable Errno of(IOException e) {
    if (e instanceof NoSuchFileException) {
      return Errno.ENOENT;
    }
    if (e instanceof FileAlreadyExistsException) {
      return Errno.EEXIST;
    }
    if (e instanceof DirectoryNotEmptyException) {
      return Errno.ENOTEMPTY;
    }
    if (e instanceof NotDirectoryException) {
      return Errno.ENOTDIR;
    }
    if (e instanceof AccessDeniedException) {
      return Errno.EACCES;
    }
    String text = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
    if (text == null) {
      return null;
    }
    for (Map.Entry<String, Errno> m : BY_TEXT.entrySet()) {
      // The JDK appends to some texts (ELOOP: "... or unable to access attributes ...").
      if (text.startsWith(m.getKey())) {
        return m.getValue();
      }
    }
    return null;
  }
}
