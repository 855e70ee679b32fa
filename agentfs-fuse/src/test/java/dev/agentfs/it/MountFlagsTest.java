package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.Configuration;
import dev.agentfs.Feature;
import dev.agentfs.MountFlag;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountMethod;
import dev.agentfs.fuse.session.MountOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MountFlag}s reach the kernel, by mount(2) and through fusermount3 alike: they show in
 * /proc/mounts with the fsname and subtype asked for, and the ones a process can observe are
 * enforced (noexec, nosymfollow, nosuid without nodev). fusermount3 knows fewer flags than
 * mount(2): the others fail before it runs, with EINVAL naming the flag.
 */
class MountFlagsTest {
  @TempDir Path tmp;

  @BeforeEach
  void need() {
    Fuse.require();
  }

  private static String procMountsLine(Path mnt) throws IOException {
    String needle = " " + mnt + " ";
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
        .filter(l -> l.contains(needle)).findFirst().orElseThrow();
  }

  private FuseSession mount(AgentFs fs, Path dir, Configuration c, MountMethod m)
      throws Exception {
    if (m == MountMethod.FUSERMOUNT) {
      FusermountSupport.requireHelper();
    }
    return KernelMounts.mount(fs.vfs(), dir, c, MountOptions.defaults().withMethod(m));
  }

  @ParameterizedTest
  @EnumSource(value = MountMethod.class, names = {"SYSCALL", "FUSERMOUNT"})
  void flagsNamesAndTypeReachTheKernel(MountMethod method) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    // fusermount3 knows only some flags (the rest are tested on mount(2) alone below).
    Configuration c = Configuration.builder().threads(2).fsName("flagged").subtype("agentx")
        .enable(Feature.SUID_DEV)
        .mountFlags(EnumSet.of(MountFlag.NODEV, MountFlag.NOEXEC, MountFlag.NOATIME,
            MountFlag.SYNCHRONOUS, MountFlag.DIRSYNC))
        .build();
    try (AgentFs fs = AgentFs.builder().configuration(c).build();
        FuseSession s = mount(fs, dir, c, method)) {
      String line = procMountsLine(dir);
      String[] f = line.split(" ");
      assertEquals("flagged", f[0], line);
      assertEquals("fuse.agentx", f[2], line);
      Set<String> opts = Set.of(f[3].split(","));
      assertTrue(opts.containsAll(List.of("rw", "sync", "dirsync", "nodev", "noexec",
          "noatime")), line);
      assertFalse(opts.contains("nosuid"), "SUID_DEV with NODEV only: " + line);

      Proc.Result r = Proc.sh(dir, "printf '#!/bin/sh\\necho ran\\n' > s && chmod 755 s"
          + " && ./s; echo exit=$?");
      assertTrue(r.out().contains("exit=126"), "noexec: " + r);
      assertTrue(r.err().contains("Permission denied"), r.toString());
    }
  }

  @Test
  void nosymfollowAndNodiratimeByMount2() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    Configuration c = Configuration.builder().threads(1)
        .mountFlags(EnumSet.of(MountFlag.NOSYMFOLLOW, MountFlag.NODIRATIME)).build();
    try (AgentFs fs = AgentFs.builder().configuration(c).build();
        FuseSession s = mount(fs, dir, c, MountMethod.SYSCALL)) {
      Set<String> opts = Set.of(procMountsLine(dir).split(" ")[3].split(","));
      assertTrue(opts.containsAll(List.of("nosymfollow", "nodiratime")), opts.toString());
      Proc.Result r = Proc.sh(dir, "echo x > f && ln -s f link && readlink link"
          + " && cat link; echo cat=$?");
      assertTrue(r.out().startsWith("f\n"), "readlink still works: " + r);
      assertTrue(r.out().contains("cat=1") && r.err().contains("Too many levels"),
          "nosymfollow: " + r);
    }
  }

  @Test
  void flagsFusermountLacksFailClearlyBeforeItRuns() throws Exception {
    FusermountSupport.requireHelper();
    Path dir = Files.createDirectory(tmp.resolve("mnt"));
    for (MountFlag f : List.of(MountFlag.STRICTATIME, MountFlag.LAZYTIME,
        MountFlag.NOSYMFOLLOW, MountFlag.NODIRATIME)) {
      Configuration c = Configuration.builder().threads(1).mountFlag(f).build();
      try (AgentFs fs = AgentFs.builder().configuration(c).build()) {
        AgentFsException e = assertThrows(AgentFsException.class,
            () -> mount(fs, dir, c, MountMethod.FUSERMOUNT).close());
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(f.option()), e.getMessage());
      }
      assertFalse(Files.readString(Path.of("/proc/self/mounts")).contains(" " + dir + " "));
    }
    // relatime is the kernel's default: asked for through fusermount3, it is simply had.
    Configuration rel = Configuration.builder().threads(1).mountFlag(MountFlag.RELATIME)
        .build();
    try (AgentFs fs = AgentFs.builder().configuration(rel).build();
        FuseSession s = mount(fs, dir, rel, MountMethod.FUSERMOUNT)) {
      assertTrue(procMountsLine(dir).contains(",relatime,"), procMountsLine(dir));
    }
  }

  @Test
  void atimePoliciesAndLazytimeShowInTheMountTable() throws Exception {
    MountMethod method = MountMethod.SYSCALL;
    for (MountFlag atime : List.of(MountFlag.STRICTATIME, MountFlag.RELATIME)) {
      Path dir = Files.createDirectory(tmp.resolve("mnt-" + atime));
      Configuration c = Configuration.builder().threads(1)
          .mountFlags(EnumSet.of(atime, MountFlag.LAZYTIME)).build();
      try (AgentFs fs = AgentFs.builder().configuration(c).build();
          FuseSession s = mount(fs, dir, c, method)) {
        Set<String> opts = Set.of(procMountsLine(dir).split(" ")[3].split(","));
        assertTrue(opts.contains("lazytime"), opts.toString());
        // strictatime is the absence of relatime/noatime in /proc/mounts.
        assertEquals(atime == MountFlag.RELATIME, opts.contains("relatime"), opts.toString());
        assertFalse(opts.contains("noatime"), opts.toString());
        assertTrue(opts.containsAll(List.of("nosuid", "nodev")), "the default stays");
      }
    }
  }
}
