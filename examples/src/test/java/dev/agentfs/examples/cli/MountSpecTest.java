package dev.agentfs.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.MountFlag;
import dev.agentfs.Passthrough;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code -o} options of {@code mount}, as they become a {@link Configuration}. */
class MountSpecTest {
  @TempDir Path tmp;

  private static Configuration parse(String opts) throws AgentFsException {
    MountSpec s = new MountSpec();
    s.options(opts);
    return s.configuration();
  }

  @Test
  void defaultsAreNosuidNodevWithKernelPermissionChecks() throws Exception {
    Configuration c = parse("");
    assertEquals(Set.of(), c.mountFlags());
    assertFalse(c.has(Feature.SUID_DEV), "nosuid,nodev unless asked");
    assertTrue(c.has(Feature.DEFAULT_PERMISSIONS));
    assertEquals("fuse.agentfs", "fuse." + c.subtype());
  }

  @Test
  void vfsFlagsPassThroughAndTheLastOneWins() throws Exception {
    Configuration c = parse("ro,noexec,nodiratime,lazytime,sync,dirsync,nosymfollow,noatime");
    assertEquals(EnumSet.of(MountFlag.RDONLY, MountFlag.NOEXEC, MountFlag.NODIRATIME,
        MountFlag.LAZYTIME, MountFlag.SYNCHRONOUS, MountFlag.DIRSYNC, MountFlag.NOSYMFOLLOW,
        MountFlag.NOATIME), c.mountFlags());
    assertFalse(c.has(Feature.READ_ONLY), "ro is the kernel's flag, so remount,rw can lift it");

    Configuration back = parse("ro,noexec,sync,lazytime,noatime,rw,exec,async,nolazytime,"
        + "relatime");
    assertEquals(EnumSet.of(MountFlag.RELATIME), back.mountFlags());
    assertEquals(EnumSet.of(MountFlag.STRICTATIME), parse("noatime,strictatime").mountFlags());
    assertEquals(Set.of(), parse("noatime,atime").mountFlags(), "atime: the kernel default");
  }

  @Test
  void suidAndDevAreSeparate() throws Exception {
    Configuration suid = parse("suid");
    assertTrue(suid.has(Feature.SUID_DEV));
    assertEquals(EnumSet.of(MountFlag.NODEV), suid.mountFlags());
    Configuration dev = parse("dev");
    assertTrue(dev.has(Feature.SUID_DEV));
    assertEquals(EnumSet.of(MountFlag.NOSUID), dev.mountFlags());
    Configuration both = parse("suid,dev");
    assertTrue(both.has(Feature.SUID_DEV));
    assertEquals(Set.of(), both.mountFlags());
    assertFalse(parse("suid,dev,nosuid,nodev").has(Feature.SUID_DEV));
  }

  @Test
  void fuseAndAgentFsOptions() throws Exception {
    Configuration c = parse("fsname=work,subtype=agentx,allow_other,no_default_permissions,"
        + "threads=3,writeback,io_uring");
    assertEquals("work", c.fsName());
    assertEquals("agentx", c.subtype());
    assertTrue(c.has(Feature.ALLOW_OTHER));
    assertFalse(c.has(Feature.DEFAULT_PERMISSIONS));
    assertTrue(parse("no_default_permissions,default_permissions")
        .has(Feature.DEFAULT_PERMISSIONS));
    assertEquals(3, c.threads());
    assertTrue(c.has(Feature.WRITEBACK_CACHE));
    assertTrue(c.has(Feature.IO_URING));
    assertEquals(Passthrough.REQUIRED, parse("passthrough").passthrough());

    MountSpec s = new MountSpec();
    s.options("backstore=hostfs:" + tmp + ",lower=" + tmp);
    assertEquals("hostfs:" + tmp, s.backstoreSpec());
  }

  @Test
  void overlayOptions() throws Exception {
    MountSpec s = new MountSpec();
    s.options("lower=" + tmp + ",materialize=eager,lower_refresh=0.25");
    assertEquals(dev.agentfs.Materialize.EAGER, s.materializeMode());
    assertEquals(java.time.Duration.ofMillis(250), s.configuration().lowerRefresh());
    assertEquals(java.time.Duration.ofSeconds(1), parse("").lowerRefresh(), "the default");
    assertEquals(Long.MAX_VALUE, parse("lower_refresh=never").lowerRefreshNanos());
    assertEquals(0, parse("lower_refresh=0").lowerRefreshNanos());
    for (String bad : new String[] {"materialize=sometimes", "lower_refresh=-1",
        "lower_refresh=soon"}) {
      AgentFsException e = assertThrows(AgentFsException.class, () -> parse(bad), bad);
      assertEquals(Errno.EINVAL, e.errno(), bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
    MountSpec noLower = new MountSpec();
    noLower.options("materialize=clone");
    AgentFsException e = assertThrows(AgentFsException.class, noLower::builder);
    assertEquals(Errno.EINVAL, e.errno());
  }

  @Test
  void unknownOrBadOptionsFailWithEinvalNamingThem() {
    for (String bad : new String[] {"bogus", "ro,frobnicate=3", "allow_root", "threads=x",
        "threads=0", "fsname=a=b", "subtype=a/b", "uid=0", "defaults"}) {
      AgentFsException e = assertThrows(AgentFsException.class, () -> parse(bad), bad);
      assertEquals(Errno.EINVAL, e.errno(), bad);
      String name = bad.substring(bad.lastIndexOf(',') + 1);
      String key = name.contains("=") ? name.substring(0, name.indexOf('=')) : name;
      assertTrue(e.getMessage().contains(key), e.getMessage());
    }
  }

  @Test
  void combinationsTheKernelRefusesFailWithEinval() {
    AgentFsException e = assertThrows(AgentFsException.class,
        () -> parse("writeback,passthrough"));
    assertEquals(Errno.EINVAL, e.errno());
    assertTrue(e.getMessage().contains("WRITEBACK_CACHE"), e.getMessage());
    AgentFsException lower = assertThrows(AgentFsException.class,
        () -> parse("lower=" + tmp.resolve("missing")));
    assertEquals(Errno.ENOTDIR, lower.errno());
  }
}
