package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real mounts negotiating as if the kernel lacked some FUSE_INIT capabilities
 * ({@link MountOptions#withHiddenInitFlags}): the kernel then takes the older paths (READDIR
 * instead of READDIRPLUS, OPEN then SETATTR instead of an atomic O_TRUNC, POSIX locks kept in
 * the kernel, the short setxattr header, 32-page writes, ...), and the filesystem must serve
 * those just as well. A capability the configuration requires fails the mount, naming it.
 */
class MountInitMaskTest {
  @TempDir Path tmp;

  @BeforeEach
  void need() {
    Fuse.require();
  }

  private static FuseSession mount(AgentFs fs, Path dir, Configuration c, InitFlag... hide)
      throws AgentFsException {
    return KernelMounts.mount(fs.vfs(), dir, c,
        MountOptions.defaults().withHiddenInitFlags(hide));
  }

  private static long count(FuseSession s, String op) {
    return s.requestCounts().getOrDefault(op, 0L);
  }

  /** One python process touching every path a hidden capability changes. */
  private static final String WORKLOAD = String.join("\n",
      "import errno, fcntl, os, subprocess, sys",
      "os.umask(0o022)",
      "os.mkdir('d', 0o777)",
      "for i in range(40): open('d/f%02d' % i, 'w').write('x' * i)",
      "print(len(os.listdir('d')), sorted(os.listdir('d'))[:2])",
      "big = bytes(range(256)) * 4096",  // 1 MiB: more than 32 pages at once
      "with open('big', 'wb') as f: f.write(big)",
      "print(open('big', 'rb').read() == big)",
      "open('t', 'w').write('long content')",
      "fd = os.open('t', os.O_WRONLY | os.O_TRUNC); os.write(fd, b'short'); os.close(fd)",
      "print(open('t').read(), os.stat('t').st_size)",
      "print(oct(os.stat('d').st_mode & 0o777), oct(os.stat('t').st_mode & 0o777))",
      "os.symlink('t', 'l'); print(os.readlink('l'), open('l').read())",
      "os.setxattr('t', 'user.k', b'v' * 300); print(len(os.getxattr('t', 'user.k')))",
      "os.rename('t', 'd/t2'); print(os.path.exists('t'), open('d/t2').read())",
      "fd = os.open('big', os.O_RDWR)",
      "fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)",
      "other = subprocess.run([sys.executable, '-c', '''",
      "import fcntl, os",
      "fd = os.open('big', os.O_RDWR)",
      "try:",
      "  fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print('posix-lock-granted')",
      "except OSError as e: print('posix-lock-refused')",
      "try:",
      "  fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 100); print('other-range-ok')",
      "except OSError as e: print('other-range-refused')",
      "'''], capture_output=True, text=True).stdout.split()",
      "print(*other)",
      "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
      "print(subprocess.run([sys.executable, '-c', '''",
      "import fcntl, os",
      "try:",
      "  fcntl.flock(os.open('big', os.O_RDONLY), fcntl.LOCK_EX | fcntl.LOCK_NB); print('flock-granted')",
      "except OSError: print('flock-refused')",
      "'''], capture_output=True, text=True).stdout.strip())",
      "os.close(fd)",
      "for i in range(40): os.unlink('d/f%02d' % i)",
      "os.unlink('d/t2'); os.rmdir('d'); print(sorted(os.listdir('.')))");

  private static final String EXPECTED = String.join("\n",
      "40 ['f00', 'f01']",
      "True",
      "short 5",
      "0o755 0o644",
      "t short",
      "300",
      "False short",
      "posix-lock-refused other-range-ok",
      "flock-refused",
      "['big', 'l']",
      "");

  /** Each capability the negotiator asks for by default, hidden alone. */
  @ParameterizedTest
  @EnumSource(value = InitFlag.class, names = {"ASYNC_READ", "POSIX_LOCKS", "ATOMIC_O_TRUNC",
      "BIG_WRITES", "FLOCK_LOCKS", "DO_READDIRPLUS", "READDIRPLUS_AUTO", "PARALLEL_DIROPS",
      "HANDLE_KILLPRIV_V2", "MAX_PAGES", "CACHE_SYMLINKS", "SETXATTR_EXT", "INIT_EXT",
      "AUTO_INVAL_DATA", "DONT_MASK", "POSIX_ACL"})
  void eachCapabilityHiddenAloneStillServesTheWorkload(InitFlag hidden) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    Configuration c = Configuration.builder().threads(2).build();
    try (AgentFs fs = AgentFs.builder().configuration(c).build();
        FuseSession s = mount(fs, dir, c, hidden)) {
      assertFalse(s.grantedFeatures().contains(hidden.name()), s.grantedFeatures().toString());
      assertTrue((s.negotiated().kernelFlags() & hidden.mask()) != 0,
          "the kernel offered " + hidden + ", so hiding it means something");
      Proc.Result r = Proc.python(dir, WORKLOAD);
      assertEquals(EXPECTED, r.out(), hidden + " hidden: " + r);
    }
  }

  @Test
  void tarAndGitWithoutReaddirplusParallelDiropsAtomicTruncAndPosixLocks() throws Exception {
    Proc.requireTool("git", "git");
    Proc.requireTool("tar", "tar");
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    Configuration c = Configuration.builder().threads(2).build();
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(tmp.resolve("store")))
        .configuration(c).build();
        FuseSession s = mount(fs, dir, c, InitFlag.DO_READDIRPLUS,
            InitFlag.READDIRPLUS_AUTO, InitFlag.PARALLEL_DIROPS, InitFlag.ATOMIC_O_TRUNC,
            InitFlag.POSIX_LOCKS)) {
      for (String f : List.of("DO_READDIRPLUS", "READDIRPLUS_AUTO", "PARALLEL_DIROPS",
          "ATOMIC_O_TRUNC", "POSIX_LOCKS")) {
        assertFalse(s.grantedFeatures().contains(f), f);
      }
      // A source tree on the host, archived, extracted onto the mount, compared.
      Path src = Files.createDirectories(tmp.resolve("src/pkg/sub"));
      Proc.sh(tmp.resolve("src"), "for i in $(seq 1 60); do echo line $i > pkg/f$i.txt; done"
          + " && printf 'bin\\0ary' > pkg/sub/b.bin && ln -s ../f1.txt pkg/sub/link"
          + " && chmod 750 pkg/sub && tar cf " + tmp.resolve("t.tar") + " pkg").ok();
      Proc.sh(dir, "tar xf " + tmp.resolve("t.tar") + " && tar df " + tmp.resolve("t.tar"))
          .ok();
      Proc.Result diff = Proc.run(Path.of("/"), List.of("diff", "-r", "--no-dereference",
          tmp.resolve("src/pkg").toString(), dir.resolve("pkg").toString()));
      assertEquals(0, diff.exit(), diff.toString());

      String git = "git -c user.name=t -c user.email=t@e -c init.defaultBranch=main ";
      Proc.sh(dir, git + "init -q repo && cd repo && cp -r ../pkg . && " + git + "add -A && "
          + git + "commit -qm one && echo changed > pkg/f1.txt && " + git + "commit -qam two"
          + " && " + git + "gc -q && " + git + "fsck --no-progress").ok();
      Proc.Result st = Proc.sh(dir.resolve("repo"), git + "status --porcelain && " + git
          + "log --format=%s && " + git + "ls-files | wc -l && cat pkg/f1.txt").ok();
      assertEquals("two\none\n62\nchanged\n", st.out(), st.toString());

      Map<String, Long> n = s.requestCounts();
      assertEquals(0L, n.getOrDefault("READDIRPLUS", 0L), n.toString());
      assertTrue(count(s, "READDIR") > 0, n.toString());
      assertEquals(0L, n.getOrDefault("GETLK", 0L) + n.getOrDefault("SETLK", 0L)
          + n.getOrDefault("SETLKW", 0L), "POSIX locks stay in the kernel: " + n);
    }
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(tmp.resolve("store")))
        .build()) {
      assertEquals("changed\n", fs.main().readString("/repo/pkg/f1.txt"));
    }
  }

  @Test
  void aRequiredCapabilityTheKernelLacksFailsTheMountNamingIt() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    Configuration c = Configuration.builder().threads(1).passthrough(Passthrough.REQUIRED)
        .build();
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(tmp.resolve("store")))
        .configuration(c).build()) {
      AgentFsException e = assertThrows(AgentFsException.class,
          () -> mount(fs, dir, c, InitFlag.PASSTHROUGH).close());
      assertEquals(Errno.ENOTSUP, e.errno());
      assertTrue(e.getMessage().contains(dir.toString())
          && e.getMessage().contains("FUSE_PASSTHROUGH"), e.getMessage());
      assertFalse(Files.readString(Path.of("/proc/self/mounts")).contains(" " + dir + " "),
          "nothing is left mounted");
      // PREFERRED mounts without it.
      Configuration p = c.toBuilder().passthrough(Passthrough.PREFERRED).build();
      try (FuseSession s = mount(fs, dir, p, InitFlag.PASSTHROUGH)) {
        assertFalse(s.grantedFeatures().contains("PASSTHROUGH"));
        Files.writeString(dir.resolve("f"), "served by the filesystem");
        assertTrue(count(s, "WRITE") > 0);
      }
    }
  }
}
