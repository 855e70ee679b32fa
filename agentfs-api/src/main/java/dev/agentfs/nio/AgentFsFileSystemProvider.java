package dev.agentfs.nio;

import static dev.agentfs.vfs.Modes.O_APPEND;
import static dev.agentfs.vfs.Modes.O_CREAT;
import static dev.agentfs.vfs.Modes.O_EXCL;
import static dev.agentfs.vfs.Modes.O_RDONLY;
import static dev.agentfs.vfs.Modes.O_RDWR;
import static dev.agentfs.vfs.Modes.O_TRUNC;
import static dev.agentfs.vfs.Modes.O_WRONLY;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Branch;
import dev.agentfs.Errno;
import dev.agentfs.core.FsCore;
import dev.agentfs.nio.AgentFsFileSystem.Parent;
import dev.agentfs.nio.AgentFsFileSystem.Walk;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.Created;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessMode;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The {@code agentfs} URI scheme: java.nio file systems over AgentFs branches, in this process,
 * without a mount. Registered as a service, so {@link java.nio.file.FileSystems} finds it.
 *
 * <p>{@code FileSystems.newFileSystem(URI.create("agentfs://KEY/"), env)} opens a file system
 * named KEY; env keys: {@value #ENV_AGENTFS} (the {@link AgentFs}, required), {@value
 * #ENV_BRANCH} (branch name; default KEY), {@value #ENV_CALLER} (a {@link Caller}; default root)
 * and {@value #ENV_UMASK} (an Integer, or an octal String; default 022). While it is open,
 * {@code Path.of(URI.create("agentfs://KEY/some/file"))} resolves in it; a second
 * newFileSystem with the same KEY fails with {@link FileSystemAlreadyExistsException}. {@link
 * Branch#asFileSystem()} opens one under a fresh key. Closing a file system frees its key and
 * never closes the AgentFs.
 *
 * @since 0.1
 */
public final class AgentFsFileSystemProvider extends FileSystemProvider {
  public static final String SCHEME = "agentfs";
  public static final String ENV_AGENTFS = "agentfs";
  public static final String ENV_BRANCH = "branch";
  public static final String ENV_CALLER = "caller";
  public static final String ENV_UMASK = "umask";

  private static final int DEFAULT_UMASK = 022;
  private static final Map<String, AgentFsFileSystem> OPEN = new ConcurrentHashMap<>();
  private static final AtomicLong ANONYMOUS = new AtomicLong(1);
  private static volatile @Nullable AgentFsFileSystemProvider instance;

  /** For {@link java.util.ServiceLoader}; use {@link #instance()} otherwise. */
  public AgentFsFileSystemProvider() {}

  /** The installed provider (the one {@link java.nio.file.FileSystems} uses), or a new one. */
  public static AgentFsFileSystemProvider instance() {
    AgentFsFileSystemProvider p = instance;
    if (p == null) {
      for (FileSystemProvider x : FileSystemProvider.installedProviders()) {
        if (x instanceof AgentFsFileSystemProvider a) {
          p = a;
        }
      }
      if (p == null) {
        p = new AgentFsFileSystemProvider();
      }
      instance = p;
    }
    return p;
  }

  /**
   * A new file system over {@code branch}, acting as {@code caller}, under a fresh key; used
   * by {@link Branch#asFileSystem()}.
   */
  public static AgentFsFileSystem forBranch(Branch branch, FsCore core, Caller caller) {
    AgentFsFileSystemProvider p = instance();
    String key = branch.name() + "~" + ANONYMOUS.getAndIncrement();
    AgentFsFileSystem fs = new AgentFsFileSystem(p, key, branch, core, caller, DEFAULT_UMASK);
    OPEN.put(key, fs);
    return fs;
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  private static String key(URI uri) {
    if (!SCHEME.equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("URI scheme is not '" + SCHEME + "': " + uri);
    }
    String k = uri.getAuthority();
    if (k == null || k.isEmpty()) {
      throw new IllegalArgumentException("URI has no authority (the file system key): " + uri);
    }
    return k;
  }

  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
    String key = key(uri);
    String p = uri.getPath();
    if (p != null && !p.isEmpty() && !p.equals("/")) {
      throw new IllegalArgumentException("URI path must be empty or '/': " + uri);
    }
    if (!(env.get(ENV_AGENTFS) instanceof AgentFs afs)) {
      throw new IllegalArgumentException("env must map '" + ENV_AGENTFS + "' to an AgentFs");
    }
    Object b = env.get(ENV_BRANCH);
    String branchName = b == null ? key : b.toString();
    Object c = env.get(ENV_CALLER);
    Caller caller = c == null ? Caller.ROOT : (Caller) c;
    Object u = env.get(ENV_UMASK);
    int umask = u == null ? DEFAULT_UMASK
        : u instanceof Number n ? n.intValue() : Integer.parseInt(u.toString(), 8);
    Branch branch;
    try {
      branch = afs.branch(branchName).as(caller);
    } catch (AgentFsException e) {
      throw new FileSystemNotFoundException("no branch named '" + branchName + "'");
    }
    synchronized (OPEN) {
      if (OPEN.containsKey(key)) {
        throw new FileSystemAlreadyExistsException(key);
      }
      AgentFsFileSystem fs = new AgentFsFileSystem(this, key, branch, afs.core(), caller, umask);
      OPEN.put(key, fs);
      return fs;
    }
  }

  void unregister(AgentFsFileSystem fs) {
    OPEN.remove(fs.key(), fs);
  }

  @Override
  public AgentFsFileSystem getFileSystem(URI uri) {
    AgentFsFileSystem fs = OPEN.get(key(uri));
    if (fs == null) {
      throw new FileSystemNotFoundException(uri.toString());
    }
    return fs;
  }

  @Override
  public Path getPath(URI uri) {
    AgentFsFileSystem fs = getFileSystem(uri);
    String raw = uri.getRawPath();
    if (raw == null || raw.isEmpty()) {
      throw new IllegalArgumentException("URI has no path: " + uri);
    }
    return new AgentFsPath(fs, percentDecode(raw));
  }

  static byte[] percentDecode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i++) {
      if (b[i] == '%' && i + 2 < b.length) {
        out.write(Integer.parseInt(new String(b, i + 1, 2, StandardCharsets.US_ASCII), 16));
        i += 2;
      } else {
        out.write(b[i]);
      }
    }
    return out.toByteArray();
  }

  static String percentEncode(byte[] b, String keep) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      int c = x & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=".indexOf(c) >= 0 || keep.indexOf(c) >= 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- helpers

  static AgentFsPath check(Path p) {
    if (!(p instanceof AgentFsPath a)) {
      throw new ProviderMismatchException(p == null ? "null" : p.getClass().getName());
    }
    return a;
  }

  static boolean follow(LinkOption... options) {
    boolean follow = true;
    for (LinkOption o : options) {
      if (o == LinkOption.NOFOLLOW_LINKS) {
        follow = false;
      } else if (o == null) {
        throw new NullPointerException();
      }
    }
    return follow;
  }

  Walk walk(AgentFsPath p, boolean follow) throws IOException {
    try {
      return p.getFileSystem().walk(p, follow);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  Attr stat(AgentFsPath p, boolean follow) throws IOException {
    return walk(p, follow).attr();
  }

  Attr setattr(AgentFsPath p, boolean follow, SetAttr s) throws IOException {
    AgentFsFileSystem fs = p.getFileSystem();
    try {
      return fs.vfs().setattr(fs.caller(), fs.walk(p, follow).ino(), 0, s);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  boolean isDirectoryQuietly(AgentFsPath p) {
    try {
      return p.getFileSystem().walk(p, true).attr().isDirectory();
    } catch (AgentFsException | RuntimeException e) {
      return false;
    }
  }

  private static int initialMode(FileAttribute<?>[] attrs, int def) {
    int mode = def;
    for (FileAttribute<?> a : attrs) {
      String n = a.name();
      if (n.equals("posix:permissions") || n.equals("unix:permissions")) {
        mode = Views.mode((Set<?>) a.value());
      } else {
        throw new UnsupportedOperationException("'" + n + "' not supported as initial attribute");
      }
    }
    return mode;
  }

  // ---------------------------------------------------------------- channels

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    return newFileChannel(path, options, attrs);
  }

  @Override
  public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    AgentFsPath p = check(path);
    AgentFsFileSystem fs = p.getFileSystem();
    fs.ensureOpen();
    boolean read = false;
    boolean write = false;
    boolean append = false;
    boolean trunc = false;
    boolean create = false;
    boolean createNew = false;
    boolean deleteOnClose = false;
    boolean sync = false;
    boolean nofollow = false;
    for (OpenOption o : options) {
      if (o == StandardOpenOption.READ) {
        read = true;
      } else if (o == StandardOpenOption.WRITE) {
        write = true;
      } else if (o == StandardOpenOption.APPEND) {
        append = true;
      } else if (o == StandardOpenOption.TRUNCATE_EXISTING) {
        trunc = true;
      } else if (o == StandardOpenOption.CREATE) {
        create = true;
      } else if (o == StandardOpenOption.CREATE_NEW) {
        createNew = true;
      } else if (o == StandardOpenOption.DELETE_ON_CLOSE) {
        deleteOnClose = true;
      } else if (o == StandardOpenOption.SYNC || o == StandardOpenOption.DSYNC) {
        sync = true;
      } else if (o == StandardOpenOption.SPARSE) {
        continue;
      } else if (o == LinkOption.NOFOLLOW_LINKS) {
        nofollow = true;
      } else if (o == null) {
        throw new NullPointerException();
      } else {
        throw new UnsupportedOperationException(o + " not supported");
      }
    }
    if (read && append) {
      throw new IllegalArgumentException("READ + APPEND not allowed");
    }
    if (append && trunc) {
      throw new IllegalArgumentException("APPEND + TRUNCATE_EXISTING not allowed");
    }
    if (!read && !write) {
      if (append) {
        write = true;
      } else {
        read = true;
      }
    }
    int mode = initialMode(attrs, 0666);
    int flags = read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
    if (write) {
      if (trunc) {
        flags |= O_TRUNC;
      }
      if (append) {
        flags |= O_APPEND;
      }
    } else {
      create = false;
      createNew = false;
    }
    boolean follow = createNew || !(nofollow || deleteOnClose);
    try {
      long[] opened = open(fs, p, flags, create || createNew, createNew, mode, follow, 0);
      AgentFsFileChannel ch = new AgentFsFileChannel(fs, p, opened[0], opened[1], flags, sync);
      fs.track(ch);
      if (deleteOnClose) {
        // As the JDK on Unix: the name goes at once, the open handle keeps the file until close.
        try {
          delete(p);
        } catch (IOException e) {
          // best effort
        }
      }
      return ch;
    } catch (AgentFsException e) {
      if (e.errno() == Errno.ELOOP && nofollow && !createNew) {
        // What the JDK reports for O_NOFOLLOW on a symbolic link.
        IOException x = new IOException(
            "Too many levels of symbolic links or unable to access attributes of symbolic link");
        x.initCause(e);
        throw x;
      }
      throw Errors.map(e, p.toString(), null);
    }
  }

  /** open(2): returns {ino, fh}. */
  private long[] open(AgentFsFileSystem fs, AgentFsPath p, int flags, boolean create,
      boolean excl, int mode, boolean follow, int depth) throws AgentFsException {
    Vfs vfs = fs.vfs();
    if (!create) {
      Walk w = fs.walk(p, follow);
      if (w.attr().isSymlink()) {
        throw new AgentFsException(Errno.ELOOP, p.toString());
      }
      return new long[] {w.ino(), vfs.open(fs.caller(), w.ino(), flags)};
    }
    Parent parent = fs.parent(p, Errno.EISDIR);
    if (excl) {
      Created cr = vfs.create(fs.caller(), parent.dir(), parent.name(), mode,
          flags | O_CREAT | O_EXCL, fs.umask());
      vfs.forget(cr.attr().ino(), 1);
      return new long[] {cr.attr().ino(), cr.fh()};
    }
    while (true) {
      long child;
      try {
        child = fs.lookup(parent.dir(), parent.name());
      } catch (AgentFsException e) {
        if (e.errno() != Errno.ENOENT) {
          throw e;
        }
        try {
          Created cr = vfs.create(fs.caller(), parent.dir(), parent.name(), mode,
              flags | O_CREAT | O_EXCL, fs.umask());
          vfs.forget(cr.attr().ino(), 1);
          return new long[] {cr.attr().ino(), cr.fh()};
        } catch (AgentFsException x) {
          if (x.errno() == Errno.EEXIST) {
            continue;
          }
          throw x;
        }
      }
      Attr a = fs.attr(child);
      if (a.isSymlink()) {
        if (!follow || depth >= AgentFsFileSystem.MAX_SYMLINKS) {
          throw new AgentFsException(Errno.ELOOP, p.toString());
        }
        AgentFsPath target = new AgentFsPath(fs, vfs.readlink(fs.caller(), child));
        AgentFsPath dir = p.toAbsolutePath().getParent();
        return open(fs, dir == null ? target : dir.resolve(target), flags, true, false, mode,
            true, depth + 1);
      }
      if (a.isDirectory()) {
        throw new AgentFsException(Errno.EISDIR, p.toString());
      }
      return new long[] {child, vfs.open(fs.caller(), child, flags)};
    }
  }

  // ---------------------------------------------------------------- directories

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir,
      DirectoryStream.@Nullable Filter<? super Path> filter) throws IOException {
    AgentFsPath p = check(dir);
    AgentFsFileSystem fs = p.getFileSystem();
    try {
      Walk w = fs.walk(p, true);
      if (!w.attr().isDirectory()) {
        throw new NotDirectoryException(p.toString());
      }
      long fh = fs.vfs().opendir(fs.caller(), w.ino(), 0);
      AgentFsDirectoryStream s = new AgentFsDirectoryStream(fs, p, w.ino(), fh, filter);
      fs.track(s);
      return s;
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null, Errors.Op.OPENDIR);
    }
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    AgentFsPath p = check(dir);
    AgentFsFileSystem fs = p.getFileSystem();
    int mode = initialMode(attrs, 0777);
    try {
      Parent parent = fs.parent(p, Errno.EEXIST);
      Attr a = fs.vfs().mkdir(fs.caller(), parent.dir(), parent.name(), mode, fs.umask());
      fs.vfs().forget(a.ino(), 1);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
      throws IOException {
    AgentFsPath p = check(link);
    AgentFsPath t = check(target);
    if (attrs.length > 0) {
      initialMode(attrs, 0);
      throw new UnsupportedOperationException(
          "Initial file attributes not supported when creating symbolic link");
    }
    AgentFsFileSystem fs = p.getFileSystem();
    try {
      Parent parent = fs.parent(p, Errno.EEXIST);
      Attr a = fs.vfs().symlink(fs.caller(), parent.dir(), parent.name(), t.bytes());
      fs.vfs().forget(a.ino(), 1);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  @Override
  public void createLink(Path link, Path existing) throws IOException {
    AgentFsPath p = check(link);
    AgentFsPath x = check(existing);
    AgentFsFileSystem fs = p.getFileSystem();
    if (x.getFileSystem() != fs) {
      throw Errors.of(Errno.EXDEV, p.toString(), x.toString());
    }
    try {
      long ino = fs.walk(x, false).ino();
      Parent parent = fs.parent(p, Errno.EEXIST);
      Attr a = fs.vfs().link(fs.caller(), ino, parent.dir(), parent.name());
      fs.vfs().forget(a.ino(), 1);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), x.toString());
    }
  }

  @Override
  public Path readSymbolicLink(Path link) throws IOException {
    AgentFsPath p = check(link);
    AgentFsFileSystem fs = p.getFileSystem();
    try {
      Walk w = fs.walk(p, false);
      return new AgentFsPath(fs, fs.vfs().readlink(fs.caller(), w.ino()));
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null, Errors.Op.READLINK);
    }
  }

  @Override
  public void delete(Path path) throws IOException {
    AgentFsPath p = check(path);
    AgentFsFileSystem fs = p.getFileSystem();
    try {
      Parent parent = fs.parent(p, Errno.EBUSY);
      long child = fs.lookup(parent.dir(), parent.name());
      if (fs.attr(child).isDirectory()) {
        fs.vfs().rmdir(fs.caller(), parent.dir(), parent.name());
      } else {
        fs.vfs().unlink(fs.caller(), parent.dir(), parent.name());
      }
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  @Override
  public boolean deleteIfExists(Path path) throws IOException {
    try {
      delete(path);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- copy and move

  private record CopyFlags(boolean replace, boolean attributes, boolean follow, boolean atomic) {}

  private static CopyFlags copyFlags(CopyOption[] options, boolean move) {
    boolean replace = false;
    boolean attributes = false;
    boolean follow = !move;
    boolean atomic = false;
    for (CopyOption o : options) {
      if (o == StandardCopyOption.REPLACE_EXISTING) {
        replace = true;
      } else if (o == StandardCopyOption.COPY_ATTRIBUTES) {
        attributes = true;
      } else if (o == LinkOption.NOFOLLOW_LINKS) {
        follow = false;
      } else if (o == StandardCopyOption.ATOMIC_MOVE && move) {
        atomic = true;
      } else if (o == null) {
        throw new NullPointerException();
      } else {
        throw new UnsupportedOperationException("Unsupported copy option: " + o);
      }
    }
    return new CopyFlags(replace, attributes || move, follow, atomic);
  }

  private static @Nullable Attr lstatOrNull(AgentFsPath p) throws IOException {
    try {
      return p.getFileSystem().walk(p, false).attr();
    } catch (AgentFsException e) {
      if (e.errno() == Errno.ENOENT) {
        return null;
      }
      throw Errors.map(e, p.toString(), null);
    }
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    copy(check(source), check(target), copyFlags(options, false));
  }

  private void copy(AgentFsPath src, AgentFsPath dst, CopyFlags f) throws IOException {
    AgentFsFileSystem sfs = src.getFileSystem();
    AgentFsFileSystem dfs = dst.getFileSystem();
    Walk sw = walk(src, f.follow());
    Attr sa = sw.attr();
    Attr da = lstatOrNull(dst);
    if (da != null) {
      if (sfs.dev() == dfs.dev() && da.ino() == sa.ino()) {
        return;
      }
      if (!f.replace()) {
        throw new FileAlreadyExistsException(dst.toString());
      }
      delete(dst);
    }
    int perms = sa.mode() & 07777;
    try {
      Parent parent = dfs.parent(dst, Errno.EEXIST);
      Vfs dv = dfs.vfs();
      Caller dc = dfs.caller();
      long newIno;
      if (sa.isDirectory()) {
        newIno = dv.mkdir(dc, parent.dir(), parent.name(), perms, dfs.umask()).ino();
        dv.forget(newIno, 1);
      } else if (sa.isSymlink()) {
        byte[] target = sfs.vfs().readlink(sfs.caller(), sw.ino());
        newIno = dv.symlink(dc, parent.dir(), parent.name(), target).ino();
        dv.forget(newIno, 1);
      } else if (sa.isRegular()) {
        Created cr = dv.create(dc, parent.dir(), parent.name(), perms,
            O_WRONLY | O_CREAT | O_EXCL, dfs.umask());
        newIno = cr.attr().ino();
        dv.forget(newIno, 1);
        copyContent(sfs, sw.ino(), dfs, newIno, cr.fh(), dst);
      } else {
        newIno = dv.mknod(dc, parent.dir(), parent.name(), sa.mode(), sa.rdev(), dfs.umask())
            .ino();
        dv.forget(newIno, 1);
      }
      if (f.attributes()) {
        copyAttributes(sfs, sw.ino(), sa, dfs, newIno);
      }
    } catch (AgentFsException e) {
      throw Errors.map(e, dst.toString(), null);
    }
  }

  private static void copyContent(AgentFsFileSystem sfs, long sino, AgentFsFileSystem dfs,
      long dino, long dfh, AgentFsPath dst) throws AgentFsException {
    Vfs sv = sfs.vfs();
    Vfs dv = dfs.vfs();
    long sfh = 0;
    try {
      sfh = sv.open(sfs.caller(), sino, O_RDONLY);
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      long pos = 0;
      while (true) {
        buf.clear();
        int n = sv.read(sino, sfh, pos, buf);
        if (n <= 0) {
          break;
        }
        buf.flip();
        while (buf.hasRemaining()) {
          dv.write(dfs.caller(), dino, dfh, pos + buf.position(), buf.slice());
          buf.position(buf.limit());
        }
        pos += n;
      }
    } finally {
      if (sfh != 0) {
        sv.release(sino, sfh);
      }
      dv.release(dino, dfh);
    }
  }

  /** COPY_ATTRIBUTES as the JDK does it: owner (best effort), mode, times, user xattrs. */
  private static void copyAttributes(AgentFsFileSystem sfs, long sino, Attr sa,
      AgentFsFileSystem dfs, long dino) throws AgentFsException {
    Vfs dv = dfs.vfs();
    Caller dc = dfs.caller();
    if (!sa.isSymlink()) {
      try {
        dv.setattr(dc, dino, 0, SetAttr.owner(sa.uid(), sa.gid()));
      } catch (AgentFsException e) {
        // as the JDK: copying the owner is best effort
      }
      dv.setattr(dc, dino, 0, SetAttr.mode(sa.mode() & 07777));
      byte[] names = sfs.vfs().listxattr(sfs.caller(), sino);
      int start = 0;
      for (int i = 0; i < names.length; i++) {
        if (names[i] == 0) {
          String n = new String(names, start, i - start, StandardCharsets.UTF_8);
          start = i + 1;
          if (n.startsWith("user.")) {
            dv.setxattr(dc, dino, n, sfs.vfs().getxattr(sfs.caller(), sino, n), 0);
          }
        }
      }
    }
    dv.setattr(dc, dino, 0, SetAttr.times(sa.atimeNs(), sa.mtimeNs()));
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    AgentFsPath src = check(source);
    AgentFsPath dst = check(target);
    CopyFlags f = copyFlags(options, true);
    AgentFsFileSystem fs = src.getFileSystem();
    if (dst.getFileSystem() != fs && dst.getFileSystem().dev() != fs.dev()) {
      if (f.atomic()) {
        throw new AtomicMoveNotSupportedException(src.toString(), dst.toString(),
            "different branches");
      }
      copy(src, dst, new CopyFlags(f.replace(), true, false, false));
      delete(src);
      return;
    }
    try {
      if (f.atomic()) {
        Parent a = fs.parent(src, Errno.EBUSY);
        Parent b = dst.getFileSystem().parent(dst, Errno.EBUSY);
        fs.vfs().rename(fs.caller(), a.dir(), a.name(), b.dir(), b.name(), 0);
        return;
      }
      Attr sa = walk(src, false).attr();
      Attr da = lstatOrNull(dst);
      if (da != null) {
        if (da.ino() == sa.ino()) {
          return;
        }
        if (!f.replace()) {
          throw new FileAlreadyExistsException(dst.toString());
        }
        if (da.isDirectory() != sa.isDirectory()) {
          delete(dst);
        }
      }
      Parent a = fs.parent(src, Errno.EBUSY);
      Parent b = dst.getFileSystem().parent(dst, Errno.EBUSY);
      int flags = f.replace() ? 0 : Modes.RENAME_NOREPLACE;
      fs.vfs().rename(fs.caller(), a.dir(), a.name(), b.dir(), b.name(), flags);
    } catch (AgentFsException e) {
      if (e.errno() == Errno.EEXIST) {
        throw new FileAlreadyExistsException(dst.toString());
      }
      if (e.errno() == Errno.ENOTEMPTY) {
        throw Errors.map(e, dst.toString(), null);
      }
      throw Errors.map(e, src.toString(), dst.toString());
    }
  }

  // ---------------------------------------------------------------- queries

  @Override
  public boolean isSameFile(Path path, Path path2) throws IOException {
    AgentFsPath a = check(path);
    if (a.equals(path2)) {
      return true;
    }
    if (!(path2 instanceof AgentFsPath b)) {
      return false;
    }
    Attr x = stat(a, true);
    Attr y = stat(b, true);
    return x.ino() == y.ino() && a.getFileSystem().dev() == b.getFileSystem().dev();
  }

  @Override
  public boolean isHidden(Path path) throws IOException {
    AgentFsPath name = check(path).getFileName();
    if (name == null) {
      return false;
    }
    byte[] b = name.bytes();
    return b.length > 0 && b[0] == '.';
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    AgentFsPath p = check(path);
    stat(p, true);
    return p.getFileSystem().store();
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    AgentFsPath p = check(path);
    AgentFsFileSystem fs = p.getFileSystem();
    int mask = 0;
    for (AccessMode m : modes) {
      mask |= switch (m) {
        case READ -> Modes.R_OK;
        case WRITE -> Modes.W_OK;
        case EXECUTE -> Modes.X_OK;
      };
    }
    try {
      long ino = fs.walk(p, true).ino();
      fs.vfs().access(fs.caller(), ino, mask);
    } catch (AgentFsException e) {
      throw Errors.map(e, p.toString(), null);
    }
  }

  AgentFsPath realPath(AgentFsPath p, boolean follow) throws IOException {
    AgentFsFileSystem fs = p.getFileSystem();
    if (!follow) {
      AgentFsPath abs = p.toAbsolutePath().normalize();
      stat(abs, false);
      return abs;
    }
    Walk w = walk(p, true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] n : w.names()) {
      out.write('/');
      out.writeBytes(n);
    }
    if (out.size() == 0) {
      out.write('/');
    }
    return new AgentFsPath(fs, out.toByteArray());
  }

  // ---------------------------------------------------------------- attributes

  @Override
  public <V extends FileAttributeView> @Nullable V getFileAttributeView(Path path, Class<V> type,
      LinkOption... options) {
    return Views.view(this, check(path), type, follow(options));
  }

  @Override
  @SuppressWarnings("unchecked")
  public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type,
      LinkOption... options) throws IOException {
    if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
      throw new UnsupportedOperationException(type.getName() + " not supported");
    }
    AgentFsPath p = check(path);
    return (A) new Views.Attrs(stat(p, follow(options)), p.getFileSystem().dev());
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
      throws IOException {
    return Views.read(this, check(path), attributes, follow(options));
  }

  @Override
  public void setAttribute(Path path, String attribute, @Nullable Object value,
      LinkOption... options) throws IOException {
    Views.set(this, check(path), attribute, value, follow(options));
  }
}
