package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits the kernel enforces for the calling process, checked against ext4: RLIMIT_FSIZE
 * (a write past it is cut short, then EFBIG with SIGXFSZ; truncate, ftruncate and fallocate
 * past it are EFBIG; a shell under {@code ulimit -f} is killed by SIGXFSZ) and CAP_MKNOD
 * (device nodes only for a process that has it; FIFOs and sockets for anyone). Device nodes
 * work on a SUID_DEV mount and are refused at open on the default nodev one.
 */
class MountLimitsTest {
  private static final int UID = 4242;

  private static final String FSIZE = """
      import os, signal, errno, resource
      # Blocked, so a SIGXFSZ stays pending and is seen (and taken) right after the call.
      signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGXFSZ])
      def t(name, fn):
          try:
              r = fn()
              res = 'OK' if r is None else 'OK %s' % r
          except OSError as e:
              res = errno.errorcode[e.errno]
          sig = signal.SIGXFSZ in signal.sigpending()
          if sig:
              signal.sigwait([signal.SIGXFSZ])
          print(name, res, 'SIGXFSZ' if sig else '-')
      LIM = 10000
      resource.setrlimit(resource.RLIMIT_FSIZE, (LIM, LIM))
      fd = os.open('big', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
      t('write-8192', lambda: os.write(fd, b'a' * 8192))
      t('write-crossing-the-limit', lambda: os.write(fd, b'b' * 8192))
      t('write-at-the-limit', lambda: os.write(fd, b'c'))
      t('pwrite-past', lambda: os.pwrite(fd, b'd', 20000))
      t('pwrite-below', lambda: os.pwrite(fd, b'e', 50))
      t('ftruncate-past', lambda: os.ftruncate(fd, 20000))
      t('truncate-past', lambda: os.truncate('big', 20000))
      t('truncate-down', lambda: os.truncate('big', 100))
      t('truncate-to-the-limit', lambda: os.truncate('big', LIM))
      t('fallocate-past', lambda: os.posix_fallocate(fd, 0, 20000))
      t('fallocate-within', lambda: os.posix_fallocate(fd, 0, 4096))
      t('fsync', lambda: os.fsync(fd))
      os.close(fd)
      t('size', lambda: os.stat('big').st_size)
      fd = os.open('app', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
      t('append-9000', lambda: os.write(fd, b'x' * 9000))
      t('append-crossing', lambda: os.write(fd, b'y' * 9000))
      t('append-at-the-limit', lambda: os.write(fd, b'z'))
      os.close(fd)
      t('app-size', lambda: os.stat('app').st_size)
      t('open-trunc-big-file-still-works', lambda: os.close(os.open('big', os.O_WRONLY | os.O_TRUNC)))
      """;

  /** A process keeping the default action of SIGXFSZ dies of it (exit 128+25 in sh). */
  private static final String ULIMIT = """
      ulimit -f 1; head -c 4096 /dev/zero > k; echo "exit $?"; stat -c 'size %s' k
      """;

  private static final String NODES = """
      import os, errno, stat, sys
      def t(name, fn):
          try:
              r = fn()
              print(name, 'OK' if r is None else 'OK %s' % r)
          except OSError as e:
              print(name, errno.errorcode[e.errno])
      def node(p, kind, dev=0):
          os.mknod(p, 0o666 | kind, dev)
      def desc(p):
          s = os.lstat(p)
          return '%s %d,%d %o' % (stat.filemode(s.st_mode), os.major(s.st_rdev),
                                  os.minor(s.st_rdev), stat.S_IMODE(s.st_mode))
      d = sys.argv[1]
      os.mkdir(d)
      t('mknod-chr', lambda: node(d + '/null', stat.S_IFCHR, os.makedev(1, 3)))
      t('mknod-blk', lambda: node(d + '/blk', stat.S_IFBLK, os.makedev(7, 200)))
      t('mknod-fifo', lambda: node(d + '/fifo', stat.S_IFIFO))
      t('mknod-sock', lambda: node(d + '/sock', stat.S_IFSOCK))
      t('mknod-reg', lambda: node(d + '/reg', stat.S_IFREG))
      t('mknod-dir', lambda: node(d + '/dir', stat.S_IFDIR))
      for n in ('null', 'blk', 'fifo', 'sock', 'reg'):
          t('stat-' + n, lambda: desc(d + '/' + n))
      def use_null():
          fd = os.open(d + '/null', os.O_RDWR)
          try:
              return '%d %r' % (os.write(fd, b'gone'), os.read(fd, 10))
          finally:
              os.close(fd)
      t('use-chr', use_null)
      """;

  @TempDir Path tmp;

  /** The transport and options; subclasses run the same suite with other settings. */
  void configure(AgentFs.Builder b) {}

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
    assumeTrue(Proc.has("setpriv"), "setpriv is not installed");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Fuse.Mounted mount(Consumer<AgentFs.Builder> more) throws Exception {
    return Fuse.mount(tmp, b -> {
      configure(b);
      more.accept(b);
    });
  }

  private String py(Path dir, String script, List<String> prefix, String... args)
      throws Exception {
    Path f = Files.createTempFile(tmp, "script", ".py");
    Files.writeString(f, script);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    // Through sh: its PATH search skips entries the caller may not search (root's pyenv
    // shims are in /root), where a direct execvp as another uid fails with EACCES.
    List<String> cmd = new java.util.ArrayList<>(prefix);
    cmd.addAll(List.of("sh", "-c", "python3 " + f + " " + String.join(" ", args)));
    return Proc.run(dir, cmd).ok().out();
  }

  @Test
  void fileSizeLimitGivesEfbigAndSigxfszAsOnExt4() throws Exception {
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    String expected = py(nativeDir, FSIZE, List.of());
    String expectedShell = Proc.sh(nativeDir, ULIMIT).ok().out();
    System.out.print("RLIMIT_FSIZE on ext4 (the mount must print the same):\n" + expected);
    assertTrue(expected.contains("write-at-the-limit EFBIG SIGXFSZ"), expected);
    assertTrue(expected.contains("truncate-past EFBIG SIGXFSZ"), expected);
    assertTrue(expectedShell.startsWith("exit 153"), expectedShell);
    try (Fuse.Mounted m = mount(b -> { })) {
      assertEquals(expected, py(m.dir(), FSIZE, List.of()));
      assertEquals(expectedShell, Proc.sh(m.dir(), ULIMIT).ok().out());
    }
  }

  /** Root, root without CAP_MKNOD, and an ordinary uid make nodes in a 0777 directory. */
  private String nodes(Path dir) throws Exception {
    Proc.sh(dir, "mkdir -m 0777 w").ok();
    return "root:\n" + py(dir, NODES, List.of(), "w/root")
        + "root without CAP_MKNOD:\n" + py(dir, NODES,
            List.of("setpriv", "--bounding-set=-mknod", "--inh-caps=-mknod"), "w/nocap")
        + "uid " + UID + ":\n" + py(dir, NODES, List.of("setpriv", "--reuid=" + UID,
            "--regid=" + UID, "--clear-groups"), "w/user");
  }

  @Test
  void deviceNodesNeedCapMknodAsOnExt4() throws Exception {
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    String expected = nodes(nativeDir);
    assertTrue(expected.contains("root:\nmknod-chr OK"), expected);
    assertTrue(expected.contains("root without CAP_MKNOD:\nmknod-chr EPERM\nmknod-blk EPERM"),
        expected);
    assertTrue(expected.contains("use-chr OK 4 b''"), expected);
    try (Fuse.Mounted m = mount(b -> b.enable(Feature.SUID_DEV, Feature.ALLOW_OTHER))) {
      assertEquals(expected, nodes(m.dir()));
    }
  }

  @Test
  void onTheDefaultNodevMountDevicesAreMadeButCannotBeOpened() throws Exception {
    Path nativeDir = Files.createDirectory(tmp.resolve("native"));
    String expected = py(nativeDir, NODES, List.of(), "n");
    try (Fuse.Mounted m = mount(b -> { })) {
      String actual = py(m.dir(), NODES, List.of(), "n");
      assertEquals(expected.replace("use-chr OK 4 b''", "use-chr EACCES"), actual);
      assertTrue(actual.contains("stat-null OK crw-r--r-- 1,3 644"), actual);
    }
  }
}
