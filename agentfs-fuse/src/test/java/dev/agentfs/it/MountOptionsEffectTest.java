package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each mount option checked by what it does to real processes, not by the option string
 * alone: allow_other (another uid, and root with another gid, are kept out without it),
 * default_permissions (with it the kernel refuses from its cache; without it only the
 * filesystem's own checks stand, and a path the kernel has cached is not checked again), ro
 * (EROFS for every kind of change, reads work, no change request reaches the server), the
 * owner recorded as user_id/group_id, and the entry/attribute timeouts (counted requests:
 * the long defaults answer repeated stats from the kernel's cache, zero sends every one).
 */
class MountOptionsEffectTest {
  private static final int UID = 4242;

  /**
   * Runs each call given as {@code name=expression} in directory {@code M} (argv[1]) and
   * prints its errno or OK; {@code enter} first says whether the caller could chdir there.
   */
  private static final String CALLS = """
      import os, sys, errno
      M = sys.argv[1]
      def P(x): return os.path.join(M, x)
      def ok(cond):
          if not cond: raise OSError(errno.EDOM, 'check failed')
      def acc(p, mode):
          if not os.access(p, mode): raise OSError(errno.EACCES, 'access(2) said no')
      def t(name, fn):
          try:
              fn()
              print(name, 'OK')
          except OSError as e:
              print(name, errno.errorcode[e.errno])
      def w(p, s=b'x'):
          fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.write(fd, s); os.close(fd)
      def rd(p):
          with open(p, 'rb') as f: return f.read()
      try:
          os.chdir(M); print('enter OK')
      except OSError as e:
          print('enter', errno.errorcode[e.errno])
      for line in sys.stdin.read().strip().split('\\n'):
          name, expr = line.split('=', 1)
          t(name.strip(), lambda: eval(expr))
      """;

  @TempDir Path tmp;

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
    assumeTrue(Proc.has("setpriv"), "setpriv is not installed");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(tmp.resolve("calls.py"), CALLS);
  }

  /** Runs the {@code name=expression} lines in {@code dir} as uid:gid; one line per call. */
  private String calls(Path dir, int uid, int gid, String lines) throws Exception {
    Path in = Files.createTempFile(tmp, "calls", ".txt");
    Files.writeString(in, lines);
    Files.setPosixFilePermissions(in, PosixFilePermissions.fromString("rw-r--r--"));
    String cmd = "python3 " + tmp.resolve("calls.py") + " " + dir + " < " + in;
    String out = (uid == 0 && gid == 0 ? Proc.sh(tmp, cmd) : Proc.shAs(tmp, uid, gid, cmd))
        .ok().out();
    // The enter line is checked where it matters (allow_other); elsewhere it must be OK.
    return out.startsWith("enter OK\n") ? out.substring("enter OK\n".length()) : out;
  }

  private Fuse.Mounted mount(Consumer<AgentFs.Builder> config) throws Exception {
    return Fuse.mount(tmp, config);
  }

  private static FuseSession session(Fuse.Mounted m) {
    FuseSession s = FuseSession.live(m.dir());
    assertNotNull(s, "no live session at " + m.dir());
    return s;
  }

  /** The options field of the mount's /proc/mounts line, split at commas. */
  private static Set<String> procMountOptions(Path dir) throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/mounts"))) {
      String[] f = l.split(" ");
      if (f[1].equals(dir.toString())) {
        assertEquals("fuse.agentfs", f[2], l);
        return Set.of(f[3].split(","));
      }
    }
    throw new AssertionError(dir + " is not in /proc/mounts");
  }

  // ------------------------------------------------------------------ allow_other

  private static final String ENTER = """
      stat-root=os.stat(M)
      list-root=os.listdir(M)
      read-f=rd(P('f'))
      stat-f=os.stat(P('f'))
      """;

  @Test
  void withoutAllowOtherOnlyTheMountOwnerGetsIn() throws Exception {
    try (Fuse.Mounted m = mount(b -> { })) {
      m.fs().main().write("/f", "data");
      m.fs().main().chmod("/", 0777);
      assertEquals("stat-root OK\nlist-root OK\nread-f OK\nstat-f OK\n", calls(m.dir(), 0, 0, ENTER));
      Map<String, Long> before = session(m).requestCounts();
      String other = "enter EACCES\nstat-root EACCES\nlist-root EACCES\nread-f EACCES\nstat-f EACCES\n";
      assertEquals(other, calls(m.dir(), UID, UID, ENTER));
      // The owner is uid AND gid (user_id, group_id): root with another gid is kept out too.
      assertEquals(other, calls(m.dir(), 0, UID, ENTER));
      assertEquals(before, session(m).requestCounts(), "the kernel refused without asking us");
    }
  }

  @Test
  void withAllowOtherOthersGetInAndModeBitsApply() throws Exception {
    try (Fuse.Mounted m = mount(b -> b.enable(Feature.ALLOW_OTHER))) {
      m.fs().main().write("/f", "data");
      m.fs().main().mkdir("/priv", 0700);
      m.fs().main().mkdir("/pub", 0777);
      assertEquals("stat-root OK\nlist-root OK\nread-f OK\nstat-f OK\n",
          calls(m.dir(), UID, UID, ENTER));
      assertEquals("""
          write-f EACCES
          create-in-root EACCES
          list-priv EACCES
          create-in-pub OK
          owner-of-new OK
          """, calls(m.dir(), UID, UID, """
          write-f=os.open('f', os.O_WRONLY)
          create-in-root=w('new')
          list-priv=os.listdir('priv')
          create-in-pub=w('pub/mine')
          owner-of-new=ok(os.stat('pub/mine').st_uid == 4242)
          """));
      assertEquals(UID, m.fs().main().stat("/pub/mine").uid());
    }
  }

  // ------------------------------------------------------------------ the mount's options

  @Test
  void procMountsShowsTheOwnerAndTheOptionsAsConfigured() throws Exception {
    try (Fuse.Mounted m = mount(b -> { })) {
      Set<String> o = procMountOptions(m.dir());
      assertTrue(o.containsAll(Set.of("rw", "nosuid", "nodev", "user_id=0", "group_id=0",
          "default_permissions")), o.toString());
      assertFalse(o.contains("allow_other"), o.toString());
    }
    try (Fuse.Mounted m = mount(b -> b.enable(Feature.ALLOW_OTHER, Feature.READ_ONLY,
        Feature.SUID_DEV).disable(Feature.DEFAULT_PERMISSIONS))) {
      Set<String> o = procMountOptions(m.dir());
      assertTrue(o.containsAll(Set.of("ro", "user_id=0", "group_id=0", "allow_other")),
          o.toString());
      assertFalse(o.contains("nosuid") || o.contains("nodev")
          || o.contains("default_permissions"), o.toString());
    }
  }

  // ------------------------------------------------------------------ default_permissions

  /** Made through the Java API, so the kernel has nothing of it cached. */
  private static void permissionFixture(AgentFs fs) throws AgentFsException {
    fs.main().chmod("/", 0755);
    fs.main().mkdir("/priv", 0700);
    fs.main().write("/priv/f", "secret");
    fs.main().chmod("/priv/f", 0644);
    fs.main().write("/priv/s", "secret");
    fs.main().chmod("/priv/s", 0600);
    fs.main().write("/g", "root's");
    fs.main().chmod("/g", 0644);
  }

  private static final String CHECKS = """
      stat-uncached-priv/f=os.stat('priv/f')
      open-g-for-write=os.open('g', os.O_WRONLY)
      unlink-g=os.unlink('g')
      create-in-root=w('new')
      chmod-g=os.chmod('g', 0o777)
      access-g-w=acc('g', os.W_OK)
      chdir-priv=os.chdir('priv')
      list-priv=os.listdir('priv')
      exec-g=os.execv('g', ['g'])
      """;

  @Test
  void defaultPermissionsLetsTheKernelRefuseEvenCachedPaths() throws Exception {
    try (Fuse.Mounted m = mount(b -> b.enable(Feature.ALLOW_OTHER))) {
      permissionFixture(m.fs());
      assertEquals("stat OK\n", calls(m.dir(), 0, 0, "stat=os.stat('priv/f')"));
      Map<String, Long> before = session(m).requestCounts();
      assertEquals("stat-cached-priv/f EACCES\n",
          calls(m.dir(), UID, UID, "stat-cached-priv/f=os.stat('priv/f')"));
      assertEquals(before.get("LOOKUP"), session(m).requestCounts().get("LOOKUP"),
          "refused from the kernel's cached mode bits, without a LOOKUP");
      assertEquals(expectedChecks(), calls(m.dir(), UID, UID, CHECKS));
    }
  }

  @Test
  void withoutDefaultPermissionsOurChecksStandButCachedPathsAreNotRechecked() throws Exception {
    try (Fuse.Mounted m = mount(b -> b.enable(Feature.ALLOW_OTHER)
        .disable(Feature.DEFAULT_PERMISSIONS))) {
      permissionFixture(m.fs());
      // Every refusal below comes from the core: LOOKUP, OPEN, UNLINK, CREATE, SETATTR,
      // ACCESS (access(2) and chdir), OPENDIR; exec of a file without x the kernel checks.
      assertEquals(expectedChecks(), calls(m.dir(), UID, UID, CHECKS));
      assertEquals("stat OK\nstat OK\n", calls(m.dir(), 0, 0,
          "stat=os.stat('priv/f')\nstat=os.stat('priv/s')"));
      Map<String, Long> before = session(m).requestCounts();
      // The hole FUSE documents: once root made the kernel cache priv/f, the kernel walks
      // into the 0700 directory for anyone without asking, so the stat succeeds, and so does
      // reading the 0644 file: an OPEN reaches the core, which judges the file's own mode.
      assertEquals("stat-cached-priv/f OK\n",
          calls(m.dir(), UID, UID, "stat-cached-priv/f=os.stat('priv/f')"));
      assertEquals(before.get("LOOKUP"), session(m).requestCounts().get("LOOKUP"));
      assertEquals("read-f OK\nread-s EACCES\n", calls(m.dir(), UID, UID,
          "read-f=rd('priv/f')\nread-s=rd('priv/s')"));
    }
  }

  private static String expectedChecks() {
    return """
        stat-uncached-priv/f EACCES
        open-g-for-write EACCES
        unlink-g EACCES
        create-in-root EACCES
        chmod-g EPERM
        access-g-w EACCES
        chdir-priv EACCES
        list-priv EACCES
        exec-g EACCES
        """;
  }

  // ------------------------------------------------------------------ ro

  private static final String CHANGES = """
      create=w('new')
      open-write=os.open('f', os.O_WRONLY)
      open-trunc=os.open('f', os.O_RDONLY | os.O_TRUNC)
      truncate=os.truncate('f', 0)
      chmod=os.chmod('f', 0o600)
      chown=os.chown('f', 1, 1)
      utimes=os.utime('f', (1, 1))
      utimes-now=os.utime('f', None)
      setxattr=os.setxattr('f', 'user.b', b'2')
      removexattr=os.removexattr('f', 'user.a')
      rename=os.rename('f', 'g')
      unlink=os.unlink('f')
      mkdir=os.mkdir('e')
      rmdir=os.rmdir('d')
      symlink=os.symlink('f', 'l2')
      link=os.link('f', 'h')
      mkfifo=os.mkfifo('p')
      read=ok(rd('f') == b'data')
      stat=os.stat('f')
      list=ok(sorted(os.listdir('.')) == ['d', 'f', 'l'])
      getxattr=ok(os.getxattr('f', 'user.a') == b'1')
      readlink=ok(os.readlink('l') == 'f')
      """;

  @Test
  void readOnlyRefusesEveryChangeWithErofsWhileReadsWork() throws Exception {
    Path store = tmp.resolve("store");
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(store)).build()) {
      fs.main().write("/f", "data");
      fs.main().setxattr("/f", "user.a", "1".getBytes());
      fs.main().mkdir("/d");
      fs.main().symlink("f", "/l");
    }
    HostFsBackstore reopened = HostFsBackstore.open(store);
    try (Fuse.Mounted m = mount(b -> b.backstore(reopened).enable(Feature.READ_ONLY))) {
      Map<String, Long> before = session(m).requestCounts();
      StringBuilder want = new StringBuilder();
      for (String l : CHANGES.strip().split("\n")) {
        String name = l.substring(0, l.indexOf('='));
        boolean read = Set.of("read", "stat", "list", "getxattr", "readlink").contains(name);
        want.append(name).append(read ? " OK" : " EROFS").append('\n');
      }
      assertEquals(want.toString(), calls(m.dir(), 0, 0, CHANGES));
      // The kernel refused them at the mount: no change request reached the server.
      Map<String, Long> after = new TreeMap<>(session(m).requestCounts());
      for (String op : List.of("CREATE", "MKNOD", "MKDIR", "SYMLINK", "LINK", "UNLINK", "RMDIR",
          "RENAME", "RENAME2", "SETATTR", "SETXATTR", "REMOVEXATTR", "WRITE", "FALLOCATE")) {
        assertEquals(before.getOrDefault(op, 0L), after.getOrDefault(op, 0L), op + " " + after);
      }
      // The core itself is read-only too: the Java API gets EROFS.
      AgentFsException e = org.junit.jupiter.api.Assertions.assertThrows(AgentFsException.class,
          () -> m.fs().main().write("/f", "x"));
      assertEquals(Errno.EROFS, e.errno());
      assertEquals("data", m.fs().main().readString("/f"));
    }
  }

  // ------------------------------------------------------------------ cache timeouts

  private static final int N = 200;

  private static final String STATS = """
      import os, sys
      p = sys.argv[1]
      for i in range(%d): os.stat(p)
      print('stats done', flush=True)
      sys.stdin.readline()
      fd = os.open(p, os.O_RDONLY)
      for i in range(%d): os.fstat(fd)
      os.close(fd)
      print('fstats done')
      """.formatted(N, N);

  /** LOOKUP and GETATTR requests for N stat(2)s of a path, then N fstat(2)s of an open file. */
  private static long[] countStats(Fuse.Mounted m) throws Exception {
    FuseSession s = session(m);
    Path f = m.path("d/e/f");
    Files.createDirectories(f.getParent());
    Files.writeString(f, "x");
    Files.readString(f);
    Process p = new ProcessBuilder("python3", "-c", STATS, f.toString()).start();
    try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        var in = p.getOutputStream()) {
      Map<String, Long> c0 = s.requestCounts();
      // Counted from before the process starts: python's own start-up touches nothing here.
      assertEquals("stats done", out.readLine());
      Map<String, Long> c1 = s.requestCounts();
      in.write('\n');
      in.flush();
      assertEquals("fstats done", out.readLine());
      Map<String, Long> c2 = s.requestCounts();
      assertEquals(0, p.waitFor());
      return new long[] {
          delta(c0, c1, "LOOKUP"), delta(c0, c1, "GETATTR"), delta(c1, c2, "GETATTR")};
    }
  }

  private static long delta(Map<String, Long> a, Map<String, Long> b, String op) {
    return b.getOrDefault(op, 0L) - a.getOrDefault(op, 0L);
  }

  @Test
  void longTimeoutsAnswerRepeatedStatsFromTheKernelsCache() throws Exception {
    try (Fuse.Mounted m = mount(b -> { })) {
      long[] c = countStats(m);
      System.out.printf("default timeouts: %d stats -> %d LOOKUP, %d GETATTR; %d fstats -> %d"
          + " GETATTR%n", N, c[0], c[1], N, c[2]);
      assertTrue(c[0] <= 1 && c[1] <= 1 && c[2] <= 1, java.util.Arrays.toString(c));
    }
  }

  @Test
  void zeroTimeoutsSendEveryStatToTheServer() throws Exception {
    try (Fuse.Mounted m = mount(b -> b.configuration(dev.agentfs.Configuration.builder()
        .entryTimeout(Duration.ZERO).attrTimeout(Duration.ZERO).negativeTimeout(Duration.ZERO)
        .build()))) {
      long[] c = countStats(m);
      System.out.printf("zero timeouts: %d stats -> %d LOOKUP, %d GETATTR; %d fstats -> %d"
          + " GETATTR%n", N, c[0], c[1], N, c[2]);
      // Each path component is looked up again (d, e, f), and each stat asks for attributes.
      assertTrue(c[0] >= 3L * N, "LOOKUP " + c[0]);
      assertTrue(c[1] >= N, "GETATTR " + c[1]);
      assertTrue(c[2] >= N, "fstat GETATTR " + c[2]);
    }
  }
}
