package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.Feature;
import dev.agentfs.MountFlag;
import dev.agentfs.fuse.session.FuseSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mount -o remount,ro} and back to rw on live mounts, with the real mount(8). FUSE gets
 * no request for a remount (the kernel's fuse_reconfigure only syncs), so read-only after a
 * remount is the kernel's alone: these tests show that no changing request reaches the
 * filesystem while it is ro, that rw works again after, and that the core's own
 * {@link Feature#READ_ONLY} is not lifted by a remount. {@code mount -i}: without our helper
 * installed, mount(8) would hand the remount to fuse3's mount.fuse, which cannot do it.
 */
class MountRemountTest {
  /** Requests that change something; none may reach the filesystem while it is ro. */
  private static final List<String> CHANGES = List.of("CREATE", "MKNOD", "MKDIR", "UNLINK",
      "RMDIR", "RENAME", "RENAME2", "SETATTR", "WRITE", "SYMLINK", "LINK", "SETXATTR",
      "REMOVEXATTR", "FALLOCATE");

  @TempDir Path tmp;

  @BeforeEach
  void need() {
    Fuse.require();
  }

  private static Proc.Result remount(Path mnt, String opts) throws Exception {
    return Proc.run(Path.of("/"), List.of("mount", "-i", "-o", "remount," + opts,
        mnt.toString()));
  }

  private static String options(Path mnt) throws IOException {
    String needle = " " + mnt + " ";
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
        .filter(l -> l.contains(needle)).findFirst().orElseThrow().split(" ")[3];
  }

  private static long changes(FuseSession s) {
    Map<String, Long> c = s.requestCounts();
    return CHANGES.stream().mapToLong(op -> c.getOrDefault(op, 0L)).sum();
  }

  /** Every kind of change by a real process; each must fail with EROFS. */
  private static void assertEveryChangeIsRefused(Path dir) throws Exception {
    String py = String.join("\n",
        "import errno, os",
        "os.chdir('" + dir + "')",
        "ops = [",
        " ('create', lambda: os.open('new', os.O_CREAT | os.O_WRONLY, 0o644)),",
        " ('open-w', lambda: os.open('a', os.O_WRONLY)),",
        " ('trunc', lambda: os.truncate('a', 0)),",
        " ('mkdir', lambda: os.mkdir('d2')),",
        " ('rmdir', lambda: os.rmdir('d')),",
        " ('unlink', lambda: os.unlink('a')),",
        " ('rename', lambda: os.rename('a', 'z')),",
        " ('chmod', lambda: os.chmod('a', 0o600)),",
        " ('utime', lambda: os.utime('a', (1, 1))),",
        " ('symlink', lambda: os.symlink('a', 'l')),",
        " ('link', lambda: os.link('a', 'h')),",
        " ('setxattr', lambda: os.setxattr('a', 'user.k', b'v')),",
        "]",
        "for name, op in ops:",
        "  try:",
        "    op(); print(name, 'ok')",
        "  except OSError as e:",
        "    print(name, errno.errorcode[e.errno])",
        "print(open('a').read().strip())");
    Proc.Result r = Proc.python(dir, py).ok();
    List<String> lines = r.out().lines().toList();
    assertEquals(13, lines.size(), r.out());
    for (String l : lines.subList(0, 12)) {
      assertTrue(l.endsWith(" EROFS"), r.out());
    }
    assertEquals("one", lines.get(12), "reads still work");
  }

  @Test
  void remountRoRefusesEveryChangeInTheKernelAndRwAllowsThemAgain() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp)) {
      Files.writeString(m.path("a"), "one\n");
      Files.createDirectory(m.path("d"));
      FuseSession s = FuseSession.live(m.dir());
      assertNotNull(s);

      assertEquals(0, remount(m.dir(), "ro").ok().exit());
      assertTrue(options(m.dir()).startsWith("ro,"), options(m.dir()));
      long before = changes(s);
      assertEveryChangeIsRefused(m.dir());
      assertEquals(before, changes(s), "no change may reach the filesystem while ro: "
          + s.requestCounts());

      remount(m.dir(), "rw").ok();
      assertTrue(options(m.dir()).startsWith("rw,"), options(m.dir()));
      Proc.sh(m.dir(), "echo two > b && mkdir d2 && mv a z && rm -r d").ok();
      assertEquals("two\n", Files.readString(m.path("b")));
      assertEquals("one\n", m.fs().main().readString("/z"), "the core saw the changes");
      assertTrue(changes(s) > before);
    }
  }

  @Test
  void roGivenAtMountTimeIsLiftedByRemountRw() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.configuration(
        dev.agentfs.Configuration.builder().mountFlags(java.util.Set.of(MountFlag.RDONLY))
            .build()))) {
      assertTrue(options(m.dir()).startsWith("ro,"), options(m.dir()));
      Proc.Result denied = Proc.sh(m.dir(), "echo x > f");
      assertNotEquals(0, denied.exit());
      assertTrue(denied.err().contains("Read-only file system"), denied.err());
      remount(m.dir(), "rw").ok();
      Proc.sh(m.dir(), "echo x > f").ok();
      assertEquals("x\n", m.fs().main().readString("/f"));
    }
  }

  @Test
  void theCoresReadOnlyOutlivesRemountRw() throws Exception {
    // Feature.READ_ONLY is the filesystem's own: the kernel's flag can be lifted, it cannot.
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.enable(Feature.READ_ONLY))) {
      assertTrue(options(m.dir()).startsWith("ro,"), options(m.dir()));
      remount(m.dir(), "rw").ok();
      assertTrue(options(m.dir()).startsWith("rw,"), options(m.dir()));
      Proc.Result r = Proc.python(m.dir(), String.join("\n",
          "import errno, os",
          "for f in (lambda: os.open('f', os.O_CREAT | os.O_WRONLY), lambda: os.mkdir('d')):",
          "  try:",
          "    f(); print('ok')",
          "  except OSError as e:",
          "    print(errno.errorcode[e.errno])")).ok();
      assertEquals("EROFS\nEROFS\n", r.out(), "refused by the core now");
    }
  }

  @Test
  void remountRoWaitsForWritersAndFlushesTheWritebackCache() throws Exception {
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.enable(Feature.WRITEBACK_CACHE))) {
      assertTrue(m.handle().grantedFeatures().contains("WRITEBACK_CACHE"));
      Path f = m.path("w");
      byte[] data = "cached in the kernel\n".getBytes(StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(data));
        // A file open for writing: the kernel refuses to make the superblock ro.
        Proc.Result busy = remount(m.dir(), "ro");
        assertNotEquals(0, busy.exit());
        assertTrue((busy.out() + busy.err()).contains("busy"), busy.toString());
        assertTrue(options(m.dir()).startsWith("rw,"));
      }
      // The close may leave dirty pages; fuse_reconfigure syncs them before going ro.
      remount(m.dir(), "ro").ok();
      assertEquals("cached in the kernel\n", m.fs().main().readString("/w"));
      remount(m.dir(), "rw").ok();
    }
  }
}
