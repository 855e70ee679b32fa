package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mount driven by ordinary tools in child processes: sh, cp, tar, git, python3. */
class MountToolsTest {
  @TempDir Path tmp;
  Fuse.Mounted m;
  Path root;

  /** The transport and options; subclasses run the same suite on another transport. */
  void configure(dev.agentfs.AgentFs.Builder b) {}

  @BeforeEach
  void mount() throws IOException {
    m = Fuse.mount(tmp, this::configure);
    root = m.dir();
  }

  @AfterEach
  void unmount() {
    if (m != null) {
      m.close();
    }
  }

  /** A tree with nested dirs, a symlink, a hard link, odd modes and a user xattr. */
  private Path sampleTree() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Proc.sh(src, """
        mkdir -p a/b/c && echo one > a/one.txt && echo two > a/b/two.txt
        printf 'bin\\000ary' > a/b/c/blob && ln -s ../one.txt a/b/link && ln a/one.txt a/hard
        chmod 0600 a/one.txt && chmod 0751 a/b && touch -d '2001-02-03 04:05:06' a/b/two.txt
        """).ok();
    if (Proc.has("setfattr")) {
      Proc.sh(src, "setfattr -n user.origin -v sample a/b/two.txt").ok();
    }
    return src;
  }

  @Test
  void cpPreservesTreeModesLinksAndXattrs() throws Exception {
    Path src = sampleTree();
    Proc.sh(tmp, "cp -a src/a " + root + "/").ok();
    Proc.sh(tmp, "diff -r --no-dereference src/a " + root + "/a").ok();
    String stat = "stat -c '%n %a %h %s %Y %F' a/one.txt a/hard a/b a/b/two.txt a/b/link";
    assertEquals(Proc.sh(src, stat).ok().out(), Proc.sh(root, stat).ok().out());
    assertEquals("../one.txt\n", Proc.sh(root, "readlink a/b/link").ok().out());
    assertEquals(Proc.sh(root, "stat -c %i a/one.txt").ok().out(),
        Proc.sh(root, "stat -c %i a/hard").ok().out());
    if (Proc.has("getfattr")) {
      assertEquals("sample",
          Proc.sh(root, "getfattr --only-values -n user.origin a/b/two.txt").ok().out().strip());
    }
  }

  @Test
  void tarRoundTripsThroughTheMount() throws Exception {
    sampleTree();
    Proc.sh(tmp, "tar -C src --xattrs -cf " + root + "/t.tar a").ok();
    Proc.sh(root, "mkdir out && tar --xattrs -C out -xf t.tar").ok();
    Proc.sh(tmp, "diff -r --no-dereference src/a " + root + "/out/a").ok();
    // and back out of the mount
    Proc.sh(tmp, "mkdir back && tar -C " + root + "/out -cf - a | tar -C back -xf -").ok();
    Proc.sh(tmp, "diff -r --no-dereference src/a back/a").ok();
  }

  @Test
  void gitWorkflow() throws Exception {
    assumeTrue(Proc.has("git"), "git is not installed");
    String git = "git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main ";
    Proc.sh(root, git + "init -q repo").ok();
    Path repo = root.resolve("repo");
    Proc.sh(repo, "mkdir -p src && echo 'class A {}' > src/A.java && echo readme > README").ok();
    Proc.sh(repo, git + "add -A && " + git + "commit -qm first").ok();
    Proc.sh(repo, "echo 'class A { int x; }' > src/A.java").ok();
    assertEquals(" M src/A.java\n", Proc.sh(repo, git + "status --porcelain").ok().out());
    Proc.sh(repo, git + "checkout -q -b feature && " + git + "commit -qam second").ok();
    Proc.sh(repo, git + "checkout -q main").ok();
    assertEquals("class A {}\n", Files.readString(repo.resolve("src/A.java")));
    assertEquals("", Proc.sh(repo, git + "status --porcelain").ok().out());
    Proc.sh(repo, git + "fsck --no-progress").ok();
    assertTrue(Proc.sh(repo, git + "log --oneline feature").ok().out().contains("second"));
  }

  @Test
  void pythonOsLevelCalls() throws Exception {
    assumeTrue(Proc.has("python3"), "python3 is not installed");
    String py = """
        import os, fcntl, errno
        os.chdir(%s)
        fd = os.open('f', os.O_CREAT | os.O_RDWR, 0o644)
        os.write(fd, b'0123456789')
        os.link('f', 'f2')
        assert os.stat('f').st_nlink == 2
        os.mkfifo('fifo')
        import stat
        assert stat.S_ISFIFO(os.stat('fifo').st_mode)
        os.setxattr('f', 'user.k', b'v')
        assert os.getxattr('f', 'user.k') == b'v'
        assert 'user.k' in os.listxattr('f')
        os.posix_fallocate(fd, 0, 1 << 20)
        assert os.fstat(fd).st_size == 1 << 20
        out = os.open('g', os.O_CREAT | os.O_RDWR, 0o644)
        n = os.copy_file_range(fd, out, 10, 0, 0)
        assert n == 10, n
        assert os.pread(out, 10, 0) == b'0123456789'
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 0)
        fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        t = os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600)
        os.write(t, b'tmp')
        # link(2) does not follow the /proc magic link; linkat(AT_SYMLINK_FOLLOW) does.
        d = os.open('.', os.O_RDONLY)
        os.link('/proc/self/fd/%%d' %% t, 'from-tmp', src_dir_fd=d, follow_symlinks=True)
        assert open('from-tmp','rb').read() == b'tmp'
        try:
            os.rename('f', 'f/x')
        except OSError as e:
            assert e.errno == errno.ENOTDIR, e
        print('ok')
        """.formatted("'" + root + "'");
    assertEquals("ok\n", Proc.python(tmp, py).ok().out());
  }

  @Test
  void fifoCarriesDataBetweenProcesses() throws Exception {
    Proc.sh(root, "mkfifo p").ok();
    String out = Proc.sh(root, "(echo through-the-fifo > p &) ; cat p").ok().out();
    assertEquals("through-the-fifo\n", out);
  }

  @Test
  void deviceNodes() throws Exception {
    Proc.sh(root, "mknod c c 1 3 && mknod b b 7 0").ok();
    assertEquals("character special file 1 3\nblock special file 7 0\n",
        Proc.sh(root, "stat -c '%F %t %T' c b").ok().out());
  }
}
