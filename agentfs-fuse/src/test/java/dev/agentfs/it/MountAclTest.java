package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.Branch;
import dev.agentfs.Feature;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POSIX ACLs through a real mount, with ext4 as the oracle: the same fixture is built with
 * setfacl, then one script of ACL calls and access checks runs as root, as uid 4242 without
 * and with a supplementary group, and as a stranger, and getfacl/getfattr/stat report the
 * result. Every line must equal what ext4 gives. The kernel enforces the ACLs itself here
 * (FUSE_POSIX_ACL with default_permissions), so this also checks what it caches.
 */
class MountAclTest {
  private static final int UID = 4242;
  private static final int STRANGER = 4243;
  private static final int GROUP = 5000;
  private static final String ACCESS = "system.posix_acl_access";

  /** The fixture, built as root with the acl tools. */
  private static final String SETUP = """
      set -e
      umask 022
      mkdir t && cd t
      echo data > named && chmod 0640 named && setfacl -m u:4242:rw named
      echo data > masked && setfacl -m u:4242:rwx,m::r masked
      echo data > grp && chmod 0600 grp && setfacl -m g:5000:rw grp
      echo data > grpdeny && chmod 0600 grpdeny && setfacl -m g:5000:-,m::r,o::r grpdeny
      echo data > victim && setfacl -m u:4242:r victim
      echo data > mask0 && setfacl -m u:4242:rwx mask0 && chmod 0604 mask0
      echo data > equiv && chmod 0600 equiv && setfacl -m u::rwx,g::r,o::- equiv
      echo data > chm && setfacl -m u:4242:rwx,g:5000:r chm && chmod 0751 chm
      echo data > stripped && setfacl -m u:4242:rw stripped && setfacl -b stripped
      echo data > sg && chown 4242:0 sg && chmod 2770 sg
      echo data > mine && chown 4242:4242 mine
      mkdir dflt && setfacl -m u:4242:rwx dflt
      setfacl -d -m u:4242:rwx,g:5000:r-x,o::r-x dflt
      mkdir mindflt && chmod 0777 mindflt && setfacl -d -m u::rwx,g::rwx,o::rx mindflt
      mkdir kdir && setfacl -d -m u:4242:rwx kdir && setfacl -k kdir
      umask 077
      echo x > dflt/file && mkdir dflt/sub && mkdir dflt/sub/deeper && mkfifo dflt/fifo
      ln -s file dflt/link && chmod 0700 dflt/sub && echo x > mindflt/file
      # link(2) does not follow the /proc magic link; linkat(AT_SYMLINK_FOLLOW) does.
      python3 -c "import os; fd = os.open('dflt', os.O_TMPFILE | os.O_WRONLY, 0o640); \\
      d = os.open('.', os.O_RDONLY); \\
      os.link('/proc/self/fd/%d' % fd, 'dflt/tmp', src_dir_fd=d, follow_symlinks=True)"
      """;

  /** ACL calls and access checks; argv[1] names the caller. */
  private static final String SCRIPT = """
      import os, errno, struct, sys
      who = sys.argv[1]
      os.umask(0o022)
      os.chdir('t')
      A = 'system.posix_acl_access'
      D = 'system.posix_acl_default'
      U = 0xffffffff
      def t(name, fn):
          try:
              r = fn()
              print(who, name, 'OK' if r is None else r)
          except OSError as e:
              print(who, name, errno.errorcode[e.errno])
      def acl(*entries):
          return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *e) for e in entries)
      good = acl((1, 6, U), (2, 6, 4242), (4, 4, U), (0x10, 6, U), (0x20, 0, U))
      def mode(p):
          return oct(os.stat(p).st_mode & 0o7777)
      def rwx(p):
          return ''.join(c if os.access(p, m) else '-'
                         for c, m in (('r', os.R_OK), ('w', os.W_OK), ('x', os.X_OK)))
      for p in ('named', 'masked', 'grp', 'grpdeny', 'mask0', 'equiv', 'chm', 'stripped',
                'sg', 'mine', 'dflt', 'dflt/file', 'dflt/sub', 'dflt/fifo', 'dflt/tmp',
                'mindflt/file'):
          t('access ' + p, lambda: rwx(p))
      for p in ('named', 'masked', 'grp', 'grpdeny', 'mask0', 'chm', 'dflt/file', 'dflt/tmp'):
          t('open-r ' + p, lambda: os.close(os.open(p, os.O_RDONLY)))
          t('open-w ' + p, lambda: os.close(os.open(p, os.O_WRONLY)))
      t('list dflt/sub', lambda: len(os.listdir('dflt/sub')))
      t('set-not-owner', lambda: os.setxattr('victim', A, good))
      t('remove-not-owner', lambda: os.removexattr('victim', A))
      t('set-default-on-file', lambda: os.setxattr('named', D, good))
      t('remove-default-on-file', lambda: os.removexattr('named', D))
      t('get-missing', lambda: os.getxattr('equiv', A))
      t('get-symlink', lambda: os.getxattr('dflt/link', A, follow_symlinks=False))
      t('set-symlink', lambda: os.setxattr('dflt/link', A, good, follow_symlinks=False))
      t('set-version-1', lambda: os.setxattr('mine', A, struct.pack('<I', 1) + good[4:]))
      t('set-short', lambda: os.setxattr('mine', A, b'\\x02\\x00\\x00'))
      t('set-partial-entry', lambda: os.setxattr('mine', A, good[:-1]))
      t('set-bad-tag', lambda: os.setxattr('mine', A, acl((1, 6, U), (0x40, 4, U), (0x20, 0, U))))
      t('set-no-mask', lambda: os.setxattr('mine', A, acl((1, 6, U), (2, 6, 7), (4, 4, U), (0x20, 0, U))))
      t('set-perm-8', lambda: os.setxattr('mine', A, acl((1, 8, U), (4, 4, U), (0x20, 0, U))))
      t('set-unordered', lambda: os.setxattr('mine', A, acl((4, 4, U), (1, 6, U), (0x20, 0, U))))
      t('set-user-no-id', lambda: os.setxattr('mine', A, acl((1, 6, U), (2, 6, U), (4, 4, U), (0x10, 6, U), (0x20, 0, U))))
      t('mine-set', lambda: os.setxattr('mine', A, good))
      t('mine-mode', lambda: mode('mine'))
      t('mine-get', lambda: os.getxattr('mine', A).hex())
      t('mine-set-equiv', lambda: os.setxattr('mine', A, acl((1, 7, U), (4, 5, U), (0x20, 1, U))))
      t('mine-mode-equiv', lambda: mode('mine'))
      t('mine-get-equiv', lambda: os.getxattr('mine', A))
      t('mine-set-again', lambda: os.setxattr('mine', A, good))
      t('mine-header-only', lambda: os.setxattr('mine', A, struct.pack('<I', 2)))
      t('mine-after-header-only', lambda: os.getxattr('mine', A))
      t('mine-set-third', lambda: os.setxattr('mine', A, good))
      t('mine-remove', lambda: os.removexattr('mine', A))
      t('mine-remove-again', lambda: os.removexattr('mine', A))
      t('mine-mode-end', lambda: mode('mine'))
      t('sg-mode', lambda: mode('sg'))
      t('sg-setacl', lambda: os.setxattr('sg', A, good))
      t('sg-mode-after-setacl', lambda: mode('sg'))
      t('sg-chmod', lambda: os.chmod('sg', 0o2775))
      t('sg-mode-after-chmod', lambda: mode('sg'))
      t('create', lambda: os.close(os.open('dflt/f-' + who, os.O_CREAT | os.O_WRONLY, 0o666)))
      t('mkdir', lambda: os.mkdir('dflt/d-' + who, 0o777))
      t('create-mode', lambda: mode('dflt/f-' + who))
      t('mkdir-mode', lambda: mode('dflt/d-' + who))
      t('create-in-mindflt', lambda: os.close(os.open('mindflt/f-' + who, os.O_CREAT | os.O_WRONLY, 0o666)))
      t('mindflt-mode', lambda: mode('mindflt/f-' + who))
      """;

  /** What every run left behind, reported as root. */
  private static final String REPORT = """
      cd t
      for p in $(find . ! -type l | LC_ALL=C sort); do getfacl -n "$p" 2>&1; done
      find . | LC_ALL=C sort | xargs stat -c '%n %a %u %g %F'
      for p in $(find . ! -type l | LC_ALL=C sort); do
        echo "$p: $(getfattr -h -m - "$p" 2>&1 | grep -v '^#' | tr '\\n' ' ')"
      done
      getfattr -n system.posix_acl_access -e hex named masked chm dflt/file dflt/sub 2>&1
      getfattr -n system.posix_acl_default -e hex dflt dflt/sub dflt/sub/deeper 2>&1
      """;

  @TempDir Path tmp;
  Fuse.Mounted m;
  Path nativeDir;

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    Proc.requireTool("python3", "python3");
    Proc.requireTool("setpriv", "util-linux");
    Proc.requireTool("setfacl", "acl");
    Proc.requireTool("getfattr", "attr");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    nativeDir = Files.createDirectory(tmp.resolve("native"));
    Files.setPosixFilePermissions(nativeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    m = Fuse.mount(tmp, b -> b.enable(Feature.ALLOW_OTHER));
  }

  @AfterEach
  void tearDown() {
    if (m != null) {
      m.close();
    }
  }

  private String run(Path dir) throws Exception {
    Proc.sh(dir, SETUP).ok();
    Path py = tmp.resolve("acl.py");
    Files.writeString(py, SCRIPT);
    StringBuilder out = new StringBuilder();
    out.append(Proc.sh(dir, "python3 " + py + " root").ok().out());
    out.append(Proc.shAs(dir, UID, UID, "python3 " + py + " u").ok().out());
    out.append(Proc.shAs(dir, UID, UID, new int[] {GROUP}, "python3 " + py + " ug").ok().out());
    out.append(Proc.shAs(dir, STRANGER, STRANGER, "python3 " + py + " o").ok().out());
    out.append(Proc.sh(dir, REPORT).ok().out());
    return out.toString();
  }

  @Test
  void aclsBehaveAsOnExt4() throws Exception {
    String expected = run(nativeDir);
    // The oracle really has ACLs: a named entry, an inherited default, a masked right.
    assertTrue(expected.contains("user:4242:rw-"), expected);
    assertTrue(expected.contains("default:group:5000:r-x"), expected);
    assertTrue(expected.contains("u access masked r--"), expected);
    assertTrue(expected.contains("ug access grpdeny ---"), expected);
    assertTrue(expected.contains("u access named rw-"), expected);
    assertTrue(expected.contains("u set-not-owner EPERM"), expected);
    String actual = run(m.dir());
    assertEquals(expected, actual);
  }

  private static byte[] acl(int userPerm) {
    // user::rw-, user:4242:<userPerm>, group::r--, mask::r--, other::---
    ByteBuffer b = ByteBuffer.allocate(4 + 5 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
    int[][] e = {{1, 6, -1}, {2, userPerm, UID}, {4, 4, -1}, {0x10, 4, -1}, {0x20, 0, -1}};
    for (int[] x : e) {
      b.putShort((short) x[0]).putShort((short) x[1]).putInt(x[2]);
    }
    return b.array();
  }

  /**
   * Whether 4242 may read {@code secret}: "yes" or "no" when the kernel's own check (access,
   * which never reaches the filesystem with default_permissions) and an actual read (which
   * the core checks again on open) agree, else both answers.
   */
  private String canRead() throws Exception {
    String out = Proc.shAs(m.dir(), UID, UID, "test -r secret && echo y || echo n; "
        + "cat secret >/dev/null 2>&1 && echo y || echo n").ok().out();
    return switch (out) {
      case "y\ny\n" -> "yes";
      case "n\nn\n" -> "no";
      default -> "kernel says " + out.charAt(0) + ", read says " + out.charAt(2);
    };
  }

  @Test
  void aclChangesThroughTheApiReachTheKernelsCache() throws Exception {
    Proc.sh(m.dir(), "echo s > secret && chmod 0640 secret").ok();
    Branch api = m.fs().main();
    api.setxattr("/secret", ACCESS, acl(0));
    assertEquals("no", canRead(), "user:4242:--- denies (and the kernel caches that ACL)");
    api.setxattr("/secret", ACCESS, acl(4));
    assertEquals("yes", canRead(), "same mode, an ACL that grants");
    // A denial makes the kernel refetch attributes and ACLs anyway; a grant it has cached
    // would stand until the attribute timeout (an hour) without the invalidation notice.
    api.removexattr("/secret", ACCESS);
    assertEquals("no", canRead(), "no ACL any more: 4242 is other, and other has ---");
    // and the other way: setfacl through the mount is what the API reads
    Proc.sh(m.dir(), "setfacl -m u:4242:r secret").ok();
    assertArrayEquals(acl(4), api.getxattr("/secret", ACCESS));
    assertEquals("yes", canRead());
  }
}
