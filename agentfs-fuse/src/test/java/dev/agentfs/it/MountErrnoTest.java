package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.agentfs.Feature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The errno matrix: one script of failing (and succeeding) calls, run by real processes as
 * root and as an unprivileged uid, on a native ext4 directory (the oracle) and on the mount.
 * Every line must match, so the mount answers exactly what the kernel's own filesystem does.
 */
class MountErrnoTest {
  private static final int UID = 4242;
  private static final int GID = 4242;

  /** Builds the fixture as root; the same on both sides. */
  private static final String SETUP = """
      mkdir -p ro noexec sticky w full/child
      echo f > ro/f && echo f > noexec/f && echo r > sticky/rootfile && echo r > f0644
      echo r > f0444 && chmod 0444 f0444 && chmod 0644 f0644 ro/f sticky/rootfile
      chmod 0666 sticky/rootfile && chmod 0555 ro && chmod 0666 noexec && chmod 1777 sticky
      chmod 0777 w && chmod 0755 full full/child
      echo s > suid && chmod 4777 suid && echo s > sgid && chmod 2777 sgid
      for f in trunc falloc cfr; do echo s > sid-$f && chmod 6777 sid-$f; done
      """;

  private static final String SCRIPT = """
      import os, errno, subprocess, sys
      def t(name, fn):
          try:
              fn()
              print(name, 'OK')
          except OSError as e:
              print(name, errno.errorcode[e.errno])
      def ok(cond):
          if not cond:
              raise OSError(errno.EDOM, 'check failed')
      def w(p, s=b'x'):
          fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.write(fd, s); os.close(fd)
      t('open-0444-write', lambda: os.close(os.open('f0444', os.O_WRONLY)))
      t('open-0644-write', lambda: os.close(os.open('f0644', os.O_WRONLY)))
      t('open-0644-read', lambda: os.close(os.open('f0644', os.O_RDONLY)))
      t('create-in-ro', lambda: w('ro/new'))
      t('unlink-in-ro', lambda: os.unlink('ro/f'))
      t('stat-in-noexec', lambda: os.stat('noexec/f'))
      t('unlink-sticky-other', lambda: os.unlink('sticky/rootfile'))
      t('rename-sticky-other', lambda: os.rename('sticky/rootfile', 'w/stolen'))
      t('chmod-not-owner', lambda: os.chmod('f0644', 0o777))
      t('chown-not-root', lambda: os.chown('f0644', 1, 1))
      t('utime-explicit-not-owner', lambda: os.utime('f0644', (1, 1)))
      t('utime-now-no-write', lambda: os.utime('f0644', None))
      t('mkdir-w', lambda: os.mkdir('w/d'))
      t('chmod-own', lambda: os.chmod('w/d', 0o700))
      t('mknod-chr', lambda: os.mknod('w/dev', 0o600 | 0o020000, os.makedev(1, 3)))
      t('mkfifo', lambda: os.mkfifo('w/fifo'))
      t('setxattr-user-no-write', lambda: os.setxattr('f0644', 'user.a', b'1'))
      t('own-file', lambda: w('w/own', b'hello'))
      t('setxattr-user-own', lambda: os.setxattr('w/own', 'user.a', b'1'))
      t('setxattr-trusted', lambda: os.setxattr('w/own', 'trusted.a', b'1'))
      t('getxattr-missing', lambda: os.getxattr('w/own', 'user.missing'))
      t('setxattr-create-exists', lambda: os.setxattr('w/own', 'user.a', b'2', os.XATTR_CREATE))
      t('setxattr-replace-missing', lambda: os.setxattr('w/own', 'user.b', b'2', os.XATTR_REPLACE))
      t('link-dir', lambda: os.link('w/d', 'w/dlink'))
      t('link-file', lambda: os.link('w/own', 'w/own2'))
      t('nlink-2', lambda: ok(os.stat('w/own').st_nlink == 2))
      t('rmdir-nonempty', lambda: os.rmdir('full'))
      t('name-255', lambda: w('w/' + 'a' * 255))
      t('name-256', lambda: w('w/' + 'b' * 256))
      t('symlink-loop-make', lambda: (os.symlink('l2', 'w/l1'), os.symlink('l1', 'w/l2')))
      t('symlink-loop-open', lambda: open('w/l1'))
      t('rename-into-self', lambda: os.rename('w/d', 'w/d/sub'))
      t('open-dir-write', lambda: os.open('w/d', os.O_WRONLY))
      t('rmdir-file', lambda: os.rmdir('w/own'))
      t('unlink-dir', lambda: os.unlink('w/d'))
      t('mkdir-exists', lambda: os.mkdir('w/d'))
      t('rename-missing', lambda: os.rename('w/missing', 'w/x'))
      t('file-as-dir', lambda: os.stat('w/own/x'))
      t('rename-dir-over-file', lambda: os.rename('w/d', 'w/own'))
      t('rename-file-over-dir', lambda: os.rename('w/own', 'w/d'))
      t('rename-over-nonempty', lambda: (os.mkdir('w/e'), os.mkdir('w/f'), os.mkdir('w/f/g'), os.rename('w/e', 'w/f')))
      fd = os.open('w/own', os.O_WRONLY)
      t('chmod-0444-own', lambda: os.chmod('w/own', 0o444))
      t('write-open-handle-after-chmod', lambda: os.write(fd, b'still'))
      os.close(fd)
      t('reopen-after-chmod', lambda: os.close(os.open('w/own', os.O_WRONLY)))
      t('truncate-0444', lambda: os.truncate('w/own', 0))
      t('access-w-0444', lambda: ok(os.access('w/own', os.W_OK)))
      t('unlink-missing', lambda: os.unlink('w/missing'))
      t('rmdir-dot', lambda: os.rmdir('w/d/.'))
      t('cleanup-own', lambda: os.unlink('w/own2'))
      # A write by a non-root caller clears set-id bits; `stat -c %a` asks for the mode alone
      # (statx STATX_MODE), so a mode the kernel cached before the write would show here.
      def mode_only(p):
          return subprocess.run(['stat', '-c', '%a', p], capture_output=True, text=True).stdout.strip()
      for p in ('suid', 'sgid'):
          fd = os.open(p, os.O_WRONLY | os.O_APPEND); os.write(fd, b'x'); os.close(fd)
          print(p, 'mode-after-write', mode_only(p))
      os.close(os.open('sid-trunc', os.O_WRONLY | os.O_TRUNC))
      print('sid-trunc mode-after-open-trunc', mode_only('sid-trunc'))
      fd = os.open('sid-falloc', os.O_WRONLY); os.posix_fallocate(fd, 0, 8192); os.close(fd)
      print('sid-falloc mode-after-fallocate', mode_only('sid-falloc'))
      src = os.open('f0644', os.O_RDONLY); fd = os.open('sid-cfr', os.O_WRONLY)
      t('copy-file-range', lambda: os.copy_file_range(src, fd, 1, 0, 0)); os.close(fd); os.close(src)
      print('sid-cfr mode-after-copy-file-range', mode_only('sid-cfr'))
      """;

  @TempDir Path tmp;
  Fuse.Mounted m;
  Path nativeDir;

  /** The transport and options; subclasses run the same suite on another transport. */
  void configure(dev.agentfs.AgentFs.Builder b) {}

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    assumeTrue(Proc.has("python3"), "python3 is not installed");
    assumeTrue(Proc.has("setpriv"), "setpriv is not installed");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    nativeDir = Files.createDirectory(tmp.resolve("native"));
    m = Fuse.mount(tmp, b -> configure(b.enable(Feature.ALLOW_OTHER)));
  }

  @AfterEach
  void tearDown() {
    if (m != null) {
      m.close();
    }
  }

  private String run(Path dir, boolean root) throws Exception {
    Proc.sh(dir, SETUP).ok();
    Files.writeString(tmp.resolve("errno.py"), SCRIPT);
    String py = "python3 " + tmp.resolve("errno.py");
    Proc.Result r = root ? Proc.sh(dir, py) : Proc.shAs(dir, UID, GID, py);
    return r.ok().out();
  }

  @Test
  void unprivilegedCallerGetsTheSameErrnosAsOnExt4() throws Exception {
    Files.setPosixFilePermissions(nativeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    String expected = run(nativeDir, false);
    String actual = run(m.dir(), false);
    assertTrue(expected.contains("open-0444-write EACCES"), expected);
    assertEquals(expected, actual);
  }

  @Test
  void rootGetsTheSameErrnosAsOnExt4() throws Exception {
    String expected = run(nativeDir, true);
    String actual = run(m.dir(), true);
    assertTrue(expected.contains("name-256 ENAMETOOLONG"), expected);
    assertEquals(expected, actual);
  }
}
