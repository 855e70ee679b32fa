package dev.agentfs.nio;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.SetAttr;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The attribute views "basic", "posix", "owner", "unix" and "user", by class and by name, as
 * the default file system on Linux offers them. "unix" adds mode, ino, dev, rdev, nlink, uid,
 * gid and ctime to the posix attributes; "user" holds the {@code user.} extended attributes.
 */
final class Views {
  private Views() {}

  static final Set<String> SUPPORTED = Set.of("basic", "posix", "unix", "owner", "user");

  private static final List<String> BASIC = List.of("lastModifiedTime", "lastAccessTime",
      "creationTime", "size", "isRegularFile", "isDirectory", "isSymbolicLink", "isOther",
      "fileKey");
  private static final List<String> POSIX = List.of("permissions", "owner", "group");
  private static final List<String> UNIX = List.of("mode", "ino", "dev", "rdev", "nlink", "uid",
      "gid", "ctime");

  /** What identifies a file: the branch's device number and the inode number. */
  record FileKey(long dev, long ino) {
    @Override
    public String toString() {
      return "(dev=" + Long.toHexString(dev) + ",ino=" + ino + ")";
    }
  }

  static FileTime time(long ns) {
    return FileTime.from(Instant.ofEpochSecond(Math.floorDiv(ns, 1_000_000_000L),
        Math.floorMod(ns, 1_000_000_000L)));
  }

  static long nanos(FileTime t) {
    Instant i = t.toInstant();
    try {
      return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    } catch (ArithmeticException e) {
      return t.to(TimeUnit.NANOSECONDS);
    }
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] all = PosixFilePermission.values();
    for (int i = 0; i < 9; i++) {
      if ((mode & (0400 >> i)) != 0) {
        s.add(all[i]);
      }
    }
    return s;
  }

  static int mode(Set<?> perms) {
    int m = 0;
    for (Object o : perms) {
      if (!(o instanceof PosixFilePermission p)) {
        throw new ClassCastException("not a PosixFilePermission: " + o);
      }
      m |= 0400 >> p.ordinal();
    }
    return m;
  }

  /** stat(2) as PosixFileAttributes. */
  record Attrs(Attr a, long dev) implements PosixFileAttributes {
    @Override
    public FileTime lastModifiedTime() {
      return time(a.mtimeNs());
    }

    @Override
    public FileTime lastAccessTime() {
      return time(a.atimeNs());
    }

    @Override
    public FileTime creationTime() {
      return time(a.btimeNs() != 0 ? a.btimeNs() : a.mtimeNs());
    }

    @Override
    public boolean isRegularFile() {
      return a.isRegular();
    }

    @Override
    public boolean isDirectory() {
      return a.isDirectory();
    }

    @Override
    public boolean isSymbolicLink() {
      return a.isSymlink();
    }

    @Override
    public boolean isOther() {
      return !a.isRegular() && !a.isDirectory() && !a.isSymlink();
    }

    @Override
    public long size() {
      return a.size();
    }

    @Override
    public Object fileKey() {
      return new FileKey(dev, a.ino());
    }

    @Override
    public UserPrincipal owner() {
      return Principals.user(a.uid());
    }

    @Override
    public GroupPrincipal group() {
      return Principals.group(a.gid());
    }

    @Override
    public Set<PosixFilePermission> permissions() {
      return Views.permissions(a.mode());
    }
  }

  // ---------------------------------------------------------------- by name

  static Map<String, Object> read(AgentFsFileSystemProvider p, AgentFsPath path, String spec,
      boolean follow) throws IOException {
    int colon = spec.indexOf(':');
    String view = colon < 0 ? "basic" : spec.substring(0, colon);
    String names = colon < 0 ? spec : spec.substring(colon + 1);
    if (!SUPPORTED.contains(view)) {
      throw new UnsupportedOperationException("view '" + view + "' is not available");
    }
    if (view.equals("user")) {
      return new UserView(p, path, follow).readAll(names);
    }
    List<String> allowed = new ArrayList<>(BASIC);
    if (view.equals("owner")) {
      allowed = new ArrayList<>(List.of("owner"));
    }
    if (view.equals("posix") || view.equals("unix")) {
      allowed.addAll(POSIX);
    }
    if (view.equals("unix")) {
      allowed.addAll(UNIX);
    }
    List<String> want = new ArrayList<>();
    for (String n : names.split(",")) {
      if (n.equals("*")) {
        want.addAll(allowed);
      } else if (allowed.contains(n)) {
        want.add(n);
      } else {
        throw new IllegalArgumentException("'" + n + "' not recognized");
      }
    }
    Attrs a = new Attrs(p.stat(path, follow), path.getFileSystem().dev());
    Map<String, Object> out = new LinkedHashMap<>();
    for (String n : want) {
      out.put(n, value(a, n));
    }
    return out;
  }

  private static Object value(Attrs x, String name) {
    Attr a = x.a();
    return switch (name) {
      case "lastModifiedTime" -> x.lastModifiedTime();
      case "lastAccessTime" -> x.lastAccessTime();
      case "creationTime" -> x.creationTime();
      case "size" -> x.size();
      case "isRegularFile" -> x.isRegularFile();
      case "isDirectory" -> x.isDirectory();
      case "isSymbolicLink" -> x.isSymbolicLink();
      case "isOther" -> x.isOther();
      case "fileKey" -> x.fileKey();
      case "permissions" -> x.permissions();
      case "owner" -> x.owner();
      case "group" -> x.group();
      case "mode" -> a.mode();
      case "ino" -> a.ino();
      case "dev" -> x.dev();
      case "rdev" -> a.rdev();
      case "nlink" -> a.nlink();
      case "uid" -> a.uid();
      case "gid" -> a.gid();
      case "ctime" -> time(a.ctimeNs());
      default -> throw new IllegalArgumentException("'" + name + "' not recognized");
    };
  }

  static void set(AgentFsFileSystemProvider p, AgentFsPath path, String spec,
      @Nullable Object value, boolean follow) throws IOException {
    int colon = spec.indexOf(':');
    String view = colon < 0 ? "basic" : spec.substring(0, colon);
    String name = colon < 0 ? spec : spec.substring(colon + 1);
    if (!SUPPORTED.contains(view)) {
      throw new UnsupportedOperationException("view '" + view + "' is not available");
    }
    if (view.equals("user")) {
      ByteBuffer b = value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : (ByteBuffer) value;
      if (b == null) {
        throw new NullPointerException("value");
      }
      new UserView(p, path, follow).write(name, b);
      return;
    }
    PosixView v = new PosixView(p, path, follow, view);
    boolean posix = view.equals("posix") || view.equals("unix");
    boolean basic = !view.equals("owner");
    switch (name) {
      case "lastModifiedTime" -> {
        require(basic, view, name);
        v.setTimes((FileTime) value, null, null);
      }
      case "lastAccessTime" -> {
        require(basic, view, name);
        v.setTimes(null, (FileTime) value, null);
      }
      case "creationTime" -> {
        require(basic, view, name);
        v.setTimes(null, null, (FileTime) value);
      }
      case "permissions" -> {
        require(posix, view, name);
        p.setattr(path, follow, SetAttr.mode(mode(castSet(value))
            | (p.stat(path, follow).mode() & (Modes.S_ISUID | Modes.S_ISGID | Modes.S_ISVTX))));
      }
      case "owner" -> v.setOwner((UserPrincipal) nonNull(value));
      case "group" -> {
        require(posix, view, name);
        v.setGroup((GroupPrincipal) nonNull(value));
      }
      case "mode" -> {
        require(view.equals("unix"), view, name);
        p.setattr(path, follow, SetAttr.mode((Integer) nonNull(value)));
      }
      case "uid" -> {
        require(view.equals("unix"), view, name);
        p.setattr(path, follow, SetAttr.owner((Integer) nonNull(value), -1));
      }
      case "gid" -> {
        require(view.equals("unix"), view, name);
        p.setattr(path, follow, SetAttr.owner(-1, (Integer) nonNull(value)));
      }
      default -> throw new IllegalArgumentException("'" + name + "' not recognized");
    }
  }

  private static Object nonNull(@Nullable Object o) {
    if (o == null) {
      throw new NullPointerException("value");
    }
    return o;
  }

  private static Set<?> castSet(@Nullable Object o) {
    return (Set<?>) nonNull(o);
  }

  private static void require(boolean ok, String view, String name) {
    if (!ok) {
      throw new IllegalArgumentException("'" + view + ":" + name + "' not recognized");
    }
  }

  // ---------------------------------------------------------------- views

  static <V extends FileAttributeView> @Nullable V view(AgentFsFileSystemProvider p,
      AgentFsPath path, Class<V> type, boolean follow) {
    if (type == BasicFileAttributeView.class) {
      return type.cast(new PosixView(p, path, follow, "basic"));
    }
    if (type == PosixFileAttributeView.class) {
      return type.cast(new PosixView(p, path, follow, "posix"));
    }
    if (type == FileOwnerAttributeView.class) {
      return type.cast(new OwnerView(new PosixView(p, path, follow, "posix")));
    }
    if (type == UserDefinedFileAttributeView.class) {
      return type.cast(new UserView(p, path, follow));
    }
    return null;
  }

  /** basic and posix (named by {@code name}) over one path, bound lazily as the JDK does. */
  static final class PosixView implements PosixFileAttributeView {
    private final AgentFsFileSystemProvider p;
    private final AgentFsPath path;
    private final boolean follow;
    private final String name;

    PosixView(AgentFsFileSystemProvider p, AgentFsPath path, boolean follow, String name) {
      this.p = p;
      this.path = path;
      this.follow = follow;
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public PosixFileAttributes readAttributes() throws IOException {
      return new Attrs(p.stat(path, follow), path.getFileSystem().dev());
    }

    @Override
    public void setTimes(@Nullable FileTime lastModifiedTime, @Nullable FileTime lastAccessTime,
        @Nullable FileTime createTime) throws IOException {
      if (lastModifiedTime == null && lastAccessTime == null) {
        return;
      }
      int valid = (lastModifiedTime != null ? SetAttr.MTIME : 0)
          | (lastAccessTime != null ? SetAttr.ATIME : 0);
      p.setattr(path, follow, new SetAttr(valid, 0, 0, 0, 0,
          lastAccessTime != null ? nanos(lastAccessTime) : 0,
          lastModifiedTime != null ? nanos(lastModifiedTime) : 0, 0));
    }

    @Override
    public void setPermissions(Set<PosixFilePermission> perms) throws IOException {
      int keep = p.stat(path, follow).mode() & (Modes.S_ISUID | Modes.S_ISGID | Modes.S_ISVTX);
      p.setattr(path, follow, SetAttr.mode(mode(perms) | keep));
    }

    @Override
    public void setGroup(GroupPrincipal group) throws IOException {
      p.setattr(path, follow, SetAttr.owner(-1, Principals.gidOf(group)));
    }

    @Override
    public UserPrincipal getOwner() throws IOException {
      return readAttributes().owner();
    }

    @Override
    public void setOwner(UserPrincipal owner) throws IOException {
      p.setattr(path, follow, SetAttr.owner(Principals.uidOf(owner), -1));
    }
  }

  static final class OwnerView implements FileOwnerAttributeView {
    private final PosixView v;

    OwnerView(PosixView v) {
      this.v = v;
    }

    @Override
    public String name() {
      return "owner";
    }

    @Override
    public UserPrincipal getOwner() throws IOException {
      return v.getOwner();
    }

    @Override
    public void setOwner(UserPrincipal owner) throws IOException {
      v.setOwner(owner);
    }
  }

  /** {@code user.*} extended attributes; names here are given without the prefix. */
  static final class UserView implements UserDefinedFileAttributeView {
    private static final String PREFIX = "user.";
    private final AgentFsFileSystemProvider p;
    private final AgentFsPath path;
    private final boolean follow;

    UserView(AgentFsFileSystemProvider p, AgentFsPath path, boolean follow) {
      this.p = p;
      this.path = path;
      this.follow = follow;
    }

    @Override
    public String name() {
      return "user";
    }

    private long ino() throws IOException {
      return p.walk(path, follow).ino();
    }

    private FileSystemException fail(AgentFsException e) {
      return Errors.map(e, path.toString(), null);
    }

    @Override
    public List<String> list() throws IOException {
      try {
        byte[] raw = path.getFileSystem().vfs().listxattr(path.getFileSystem().caller(), ino());
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
          if (raw[i] == 0) {
            String n = new String(raw, start, i - start, StandardCharsets.UTF_8);
            if (n.startsWith(PREFIX)) {
              out.add(n.substring(PREFIX.length()));
            }
            start = i + 1;
          }
        }
        return out;
      } catch (AgentFsException e) {
        throw fail(e);
      }
    }

    private byte[] get(String name) throws IOException {
      try {
        return path.getFileSystem().vfs().getxattr(path.getFileSystem().caller(), ino(),
            PREFIX + name);
      } catch (AgentFsException e) {
        throw fail(e);
      }
    }

    @Override
    public int size(String name) throws IOException {
      return get(name).length;
    }

    @Override
    public int read(String name, ByteBuffer dst) throws IOException {
      byte[] v = get(name);
      if (dst.remaining() < v.length) {
        throw new IOException("Insufficient space in buffer");
      }
      dst.put(v);
      return v.length;
    }

    @Override
    public int write(String name, ByteBuffer src) throws IOException {
      byte[] v = new byte[src.remaining()];
      src.duplicate().get(v);
      try {
        path.getFileSystem().vfs().setxattr(path.getFileSystem().caller(), ino(), PREFIX + name,
            v, 0);
      } catch (AgentFsException e) {
        throw fail(e);
      }
      src.position(src.limit());
      return v.length;
    }

    @Override
    public void delete(String name) throws IOException {
      try {
        path.getFileSystem().vfs().removexattr(path.getFileSystem().caller(), ino(),
            PREFIX + name);
      } catch (AgentFsException e) {
        throw fail(e);
      }
    }

    Map<String, Object> readAll(String names) throws IOException {
      Map<String, Object> out = new LinkedHashMap<>();
      for (String n : names.split(",")) {
        if (n.equals("*")) {
          for (String x : list()) {
            out.put(x, get(x));
          }
        } else {
          out.put(n, get(n));
        }
      }
      return out;
    }
  }

  static FileSystemException notSupported(String file) {
    return Errors.of(Errno.ENOTSUP, file, null);
  }
}
