package dev.agentfs.fuse.jnr;

import dev.agentfs.it.Fuse;
import dev.agentfs.it.Proc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.Branch;
import dev.agentfs.Feature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File system operations through a real jnr (libfuse2) mount: java.nio and child processes. */
class JnrMountTest {
  @TempDir Path tmp;
  Fuse.Mounted m;
  Path root;

  @BeforeEach
  void mount() throws IOException {
    m = JnrFuse.mount(tmp);
    root = m.dir();
  }

  @AfterEach
  void unmount() {
    if (m != null) {
      m.close();
    }
  }

  @Test
  void filesAndDirectories() throws IOException {
    Path d = Files.createDirectories(root.resolve("a/b/c"));
    Path f = d.resolve("hello.txt");
    Files.writeString(f, "hello world");
    assertEquals("hello world", Files.readString(f));
    assertEquals(11, Files.size(f));
    try (Stream<Path> s = Files.list(root.resolve("a/b"))) {
      assertEquals(List.of("c"), s.map(p -> p.getFileName().toString()).toList());
    }
    assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(root.resolve("a/b/c")));
    assertThrows(FileAlreadyExistsException.class, () -> Files.createDirectory(d));
    Files.move(f, root.resolve("a/moved.txt"));
    assertFalse(Files.exists(f));
    assertEquals("hello world", Files.readString(root.resolve("a/moved.txt")));
    Files.delete(root.resolve("a/moved.txt"));
    assertThrows(NoSuchFileException.class, () -> Files.readString(root.resolve("a/moved.txt")));
  }

  @Test
  void javaApiChangesAreSeenAtOnceWithoutInvalidation() throws IOException {
    Files.writeString(root.resolve("from-kernel.txt"), "k");
    Branch main = m.fs().main();
    assertEquals("k", main.readString("/from-kernel.txt"));
    main.write("/from-java.txt", "j");
    assertEquals("j", Files.readString(root.resolve("from-java.txt")));
    // Stat, then change size and existence behind the kernel: timeouts are 0, so no stale view.
    assertEquals(1, Files.size(root.resolve("from-java.txt")));
    main.write("/from-java.txt", "longer");
    assertEquals(6, Files.size(root.resolve("from-java.txt")));
    assertEquals("longer", Files.readString(root.resolve("from-java.txt")));
    main.delete("/from-java.txt");
    assertFalse(Files.exists(root.resolve("from-java.txt")));
    main.write("/from-java.txt", "back");
    assertTrue(Files.exists(root.resolve("from-java.txt")));
  }

  @Test
  void symlinksAndHardLinks() throws Exception {
    Path target = Files.writeString(root.resolve("target.txt"), "data");
    Path link = Files.createSymbolicLink(root.resolve("link"), Path.of("target.txt"));
    assertEquals(Path.of("target.txt"), Files.readSymbolicLink(link));
    assertTrue(Files.isSymbolicLink(link));
    assertEquals("data", Files.readString(link));
    Path hard = Files.createLink(root.resolve("hard.txt"), target);
    assertEquals(Files.getAttribute(target, "unix:ino"), Files.getAttribute(hard, "unix:ino"));
    assertEquals(2, Files.getAttribute(target, "unix:nlink"));
    Files.writeString(hard, "changed");
    assertEquals("changed", Files.readString(target));
    Files.delete(target);
    assertEquals(1, Files.getAttribute(hard, "unix:nlink"));
    assertFalse(Files.exists(link)); // dangling now
    assertTrue(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    Proc.sh(root, "ln -s hard.txt s2 && test \"$(readlink s2)\" = hard.txt && cat s2").ok();
    assertEquals("changed", Proc.sh(root, "cat s2").ok().out());
  }

  @Test
  void renameReplacesAndMovesDirectories() throws Exception {
    Files.writeString(root.resolve("a"), "A");
    Files.writeString(root.resolve("b"), "B");
    Files.move(root.resolve("a"), root.resolve("b"), StandardCopyOption.REPLACE_EXISTING);
    assertEquals("A", Files.readString(root.resolve("b")));
    assertFalse(Files.exists(root.resolve("a")));
    Files.createDirectories(root.resolve("d1/sub"));
    Files.writeString(root.resolve("d1/sub/f"), "x");
    Proc.sh(root, "mkdir d2 && mv d1 d2/moved && cat d2/moved/sub/f").ok();
    assertEquals("x", Files.readString(root.resolve("d2/moved/sub/f")));
    assertEquals("x", m.fs().main().readString("/d2/moved/sub/f"));
  }

  @Test
  void chmodChownAndTimes() throws Exception {
    Path f = Files.writeString(root.resolve("f"), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
    assertEquals("rwxr-x---",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    Proc.sh(root, "chmod 4711 f").ok();
    assertEquals("4711", Proc.sh(root, "stat -c '%a' f").ok().out().trim());
    Proc.sh(root, "chown 1234:5678 f").ok();
    // Linux clears setuid on chown of a regular file, even for root.
    assertEquals("711 1234 5678", Proc.sh(root, "stat -c '%a %u %g' f").ok().out().trim());
    Proc.sh(root, "chown :42 f").ok(); // uid left as is ((uid_t) -1)
    assertEquals("1234 42", Proc.sh(root, "stat -c '%u %g' f").ok().out().trim());
    FileTime t = FileTime.fromMillis(1_600_000_000_123L);
    Files.setLastModifiedTime(f, t);
    assertEquals(t, Files.getLastModifiedTime(f));
    Proc.sh(root, "touch -a -d '2001-02-03 04:05:06 UTC' f").ok();
    assertEquals("981173106 1600000000",
        Proc.sh(root, "stat -c '%X %Y' f").ok().out().trim()); // mtime omitted: kept
    long before = System.currentTimeMillis() / 1000 - 5;
    Proc.sh(root, "touch f").ok(); // UTIME_NOW for both
    long mtime = Long.parseLong(Proc.sh(root, "stat -c %Y f").ok().out().trim());
    assertTrue(mtime >= before, "touch set mtime to now: " + mtime);
  }

  @Test
  void truncateAndOpenTrunc() throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    Proc.sh(root, "truncate -s 4 f").ok();
    assertEquals("0123", Files.readString(f));
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(2); // ftruncate on an open handle
    }
    assertEquals("01", Files.readString(f));
    Proc.sh(root, "truncate -s 8192 f").ok();
    byte[] b = Files.readAllBytes(f);
    assertEquals(8192, b.length);
    assertEquals(0, b[8191]);
    Files.writeString(f, "new", StandardOpenOption.TRUNCATE_EXISTING);
    assertEquals("new", Files.readString(f));
  }

  @Test
  void extendedAttributesThroughNio() throws IOException {
    Path f = Files.writeString(root.resolve("x"), "x");
    UserDefinedFileAttributeView v =
        Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
    v.write("color", StandardCharsets.UTF_8.encode("blue"));
    assertEquals(List.of("color"), v.list());
    ByteBuffer buf = ByteBuffer.allocate(v.size("color"));
    v.read("color", buf);
    assertEquals("blue", new String(buf.array(), StandardCharsets.UTF_8));
    v.delete("color");
    assertEquals(List.of(), v.list());
  }

  @Test
  void extendedAttributesThroughPython() throws Exception {
    if (!Proc.has("python3")) {
      return; // NIO covers xattrs above; this adds create/replace flags and ERANGE
    }
    Files.writeString(root.resolve("x"), "x");
    String out = Proc.python(root, String.join("\n",
        "import os, errno",
        "def t(f):",
        "    try:",
        "        r = f(); return 'OK' if r is None else str(r)",
        "    except OSError as e: return errno.errorcode[e.errno]",
        "r = []",
        "r.append(t(lambda: os.setxattr('x', 'user.a', b'1', os.XATTR_CREATE)))",
        "r.append(t(lambda: os.setxattr('x', 'user.a', b'2', os.XATTR_CREATE)))",
        "r.append(t(lambda: os.setxattr('x', 'user.b', b'3', os.XATTR_REPLACE)))",
        "r.append(t(lambda: os.setxattr('x', 'user.a', b'22', os.XATTR_REPLACE)))",
        "r.append(t(lambda: os.getxattr('x', 'user.a').decode()))",
        "r.append(t(lambda: os.getxattr('x', 'user.none')))",
        "r.append(t(lambda: ','.join(sorted(os.listxattr('x')))))",
        "r.append(t(lambda: os.removexattr('x', 'user.a')))",
        "r.append(t(lambda: os.removexattr('x', 'user.a')))",
        "print(' '.join(r))")).ok().out().trim();
    assertEquals("OK EEXIST ENODATA OK 22 ENODATA user.a OK ENODATA", out);
  }

  @Test
  void largeFileChecksum() throws Exception {
    byte[] chunk = new byte[1 << 20];
    new Random(42).nextBytes(chunk);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    Path f = root.resolve("big.bin");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      for (int i = 0; i < 64; i++) {
        chunk[0] = (byte) i;
        md.update(chunk);
        ByteBuffer b = ByteBuffer.wrap(chunk);
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
    }
    String expected = HexFormat.of().formatHex(md.digest());
    assertEquals(64L << 20, Files.size(f));
    String viaKernel = Proc.sh(root, "sha256sum big.bin").ok().out().split(" ")[0];
    assertEquals(expected, viaKernel);
    byte[] viaJava = m.fs().main().read("/big.bin");
    assertEquals(expected,
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(viaJava)));
  }

  @Test
  void readdirOfTwoThousandEntries() throws Exception {
    Proc.sh(root, "mkdir big && cd big && i=0; while [ $i -lt 2000 ]; do : > f$i; "
        + "i=$((i+1)); done").ok();
    try (Stream<Path> s = Files.list(root.resolve("big"))) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(2000, names.size());
      assertEquals(2000, names.stream().distinct().count());
      assertTrue(names.contains("f0") && names.contains("f1999"));
    }
    assertEquals("2000", Proc.sh(root, "ls big | wc -l").ok().out().trim());
    assertEquals("2002", Proc.sh(root, "ls -a big | wc -l").ok().out().trim());
  }

  @Test
  void errnoCases() throws Exception {
    String out = Proc.python(root, String.join("\n",
        "import os, errno",
        "def t(f):",
        "    try:",
        "        f(); return 'OK'",
        "    except OSError as e: return errno.errorcode[e.errno]",
        "r = []",
        "r.append(t(lambda: os.stat('missing')))",
        "os.mkdir('d')",
        "r.append(t(lambda: os.mkdir('d')))",
        "open('d/f', 'w').close()",
        "r.append(t(lambda: os.rmdir('d')))",
        "r.append(t(lambda: open('d', 'w')))",
        "r.append(t(lambda: os.stat('d/f/x')))",
        "r.append(t(lambda: open('n' * 256, 'w')))",
        "r.append(t(lambda: os.mkdir('n' * 256)))",
        "r.append(t(lambda: open('n' * 255, 'w').close()))",
        "r.append(t(lambda: os.unlink('d')))",
        "r.append(t(lambda: os.rmdir('d/f')))",
        "r.append(t(lambda: os.rename('d', 'd/f/sub')))",
        "r.append(t(lambda: os.rename('d', 'd/inside')))",
        "r.append(t(lambda: os.readlink('d/f')))",
        "r.append(t(lambda: os.open('d/f', os.O_CREAT | os.O_EXCL | os.O_WRONLY)))",
        "print(' '.join(r))")).ok().out().trim();
    assertEquals("ENOENT EEXIST ENOTEMPTY EISDIR ENOTDIR ENAMETOOLONG ENAMETOOLONG OK EISDIR "
        + "ENOTDIR ENOTDIR EINVAL EINVAL EEXIST", out);
  }

  /**
   * Pins what libfuse2 (protocol 7.19) cannot pass on, where the kernel transport succeeds:
   * renameat2 flags (the kernel answers EINVAL itself) and O_TMPFILE (EOPNOTSUPP = ENOTSUP).
   */
  @Test
  void renameFlagsAndTmpfileAreBeyondLibfuse2() throws Exception {
    Files.writeString(root.resolve("a"), "A");
    Files.writeString(root.resolve("b"), "B");
    String out = Proc.python(root, String.join("\n",
        "import ctypes, errno, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "def rn(a, b, flags):",
        "    r = libc.renameat2(-100, a, -100, b, flags)",
        "    return errno.errorcode[ctypes.get_errno()] if r else 'OK'",
        "e0 = rn(b'a', b'b', 1)",
        "e1 = rn(b'a', b'c', 1)",
        "try:",
        "    os.close(os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600)); e2 = 'OK'",
        "except OSError as e: e2 = errno.errorcode[e.errno]",
        "print(e0, e1, e2)")).ok().out().trim();
    // The VFS itself refuses NOREPLACE over an existing name; anything else needs RENAME2.
    assertEquals("EEXIST EINVAL ENOTSUP", out);
    assertEquals("B", Files.readString(root.resolve("b")));
  }

  /**
   * libfuse2 cannot negotiate FUSE_POSIX_ACL, so the kernel would not enforce ACLs stored
   * here: setting and removing them is refused (EOPNOTSUPP = ENOTSUP), user xattrs still work.
   */
  @Test
  void aclsAreRefusedWithoutKernelSupport() throws Exception {
    Files.writeString(root.resolve("f"), "F");
    String out = Proc.python(root, String.join("\n",
        "import errno, os, struct",
        "acl = struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, i) for t, p, i in",
        "    ((1, 6, 0xffffffff), (2, 4, 4242), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff),",
        "     (0x20, 0, 0xffffffff)))",
        "def t(fn):",
        "    try:",
        "        fn(); return 'OK'",
        "    except OSError as e: return errno.errorcode[e.errno]",
        "print(t(lambda: os.setxattr('f', 'system.posix_acl_access', acl)),",
        "      t(lambda: os.removexattr('f', 'system.posix_acl_access')),",
        "      t(lambda: os.setxattr('f', 'user.a', b'1')))")).ok().out().trim();
    assertEquals("ENOTSUP ENOTSUP OK", out);
    assertEquals(List.of("user.a"), m.fs().main().listxattr("/f"));
  }

  @Test
  void unlinkedOpenFileStaysUsable() throws IOException {
    Path f = Files.writeString(root.resolve("tmp"), "abc");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      Files.delete(f);
      assertFalse(Files.exists(f));
      ch.write(ByteBuffer.wrap("XY".getBytes(StandardCharsets.US_ASCII)), 3);
      ByteBuffer b = ByteBuffer.allocate(5);
      ch.read(b, 0);
      assertArrayEquals("abcXY".getBytes(StandardCharsets.US_ASCII), b.array());
      // Handle-based operations work on the unlinked file (flag_nullpath_ok). fstat(2) does
      // not: the kernel sends GETATTR without the handle and libfuse2 has no path for the
      // node any more, so it answers ENOENT itself (a documented divergence from "kernel").
      assertThrows(IOException.class, ch::size);
    }
    try (Stream<Path> s = Files.list(root)) {
      assertEquals(List.of(), s.toList()); // no .fuse_hidden files: hard_remove
    }
  }

  @Test
  void fsyncFallocateAndStatfs() throws Exception {
    String out = Proc.python(root, String.join("\n",
        "import os",
        "fd = os.open('f', os.O_CREAT | os.O_RDWR, 0o644)",
        "os.write(fd, b'abc'); os.fsync(fd); os.fdatasync(fd)",
        "os.posix_fallocate(fd, 0, 1 << 20)",
        "st = os.fstat(fd); os.close(fd)",
        "d = os.open('.', os.O_RDONLY); os.fsync(d); os.fdatasync(d); os.close(d)",
        "v = os.statvfs('.')",
        "print(st.st_size, v.f_namemax, v.f_bsize > 0, v.f_blocks >= v.f_bfree)")).ok().out();
    assertEquals("1048576 255 True True", out.trim());
    assertEquals(1 << 20, m.fs().main().stat("/f").size());
  }

  @Test
  void posixAndFlockLocksAcrossProcesses() throws Exception {
    Files.writeString(root.resolve("lk"), "x");
    String out = Proc.python(root, String.join("\n",
        "import fcntl, os, subprocess, sys",
        "fd = os.open('lk', os.O_RDWR)",
        "fcntl.lockf(fd, fcntl.LOCK_EX)",
        "probe = 'import fcntl,os\\nfd=os.open(\"lk\",os.O_RDWR)\\n'"
            + " + 'try:\\n  fcntl.lockf(fd, fcntl.LOCK_EX|fcntl.LOCK_NB); print(\"got\")\\n'"
            + " + 'except OSError as e: print(e.errno)'",
        "a = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True)",
        "fcntl.lockf(fd, fcntl.LOCK_UN)",
        "b = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True)",
        "print(a.stdout.strip(), b.stdout.strip())")).ok().out().trim();
    assertEquals("11 got", out); // EAGAIN while held, granted after unlock
    Proc.sh(root, "flock -x lk -c 'flock -n -x lk -c true && exit 9 || exit 0'").ok();
  }

  @Test
  void permissionsAreCheckedAsTheCallingProcess() throws Exception {
    // Other users reach a FUSE mount only with allow_other.
    m.close();
    m = JnrFuse.mount(tmp, b -> b.enable(Feature.ALLOW_OTHER));
    root = m.dir();
    Files.writeString(root.resolve("secret"), "s");
    Proc.sh(root, "chmod 600 secret && mkdir pub && chmod 777 pub").ok();
    Proc.Result r = Proc.shAs(root, 1000, 1000, "cat secret");
    assertTrue(r.exit() != 0 && r.err().contains("Permission denied"), r.toString());
    Proc.shAs(root, 1000, 1000, "echo mine > pub/mine").ok();
    assertEquals("1000 1000", Proc.sh(root, "stat -c '%u %g' pub/mine").ok().out().trim());
  }
}
