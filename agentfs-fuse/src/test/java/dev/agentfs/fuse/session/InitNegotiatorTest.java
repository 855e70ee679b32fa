package dev.agentfs.fuse.session;

import static dev.agentfs.fuse.protocol.InitFlag.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.protocol.Wire;
import org.junit.jupiter.api.Test;

class InitNegotiatorTest {
  private static final long ALL = -1L;

  private static Negotiated negotiate(Configuration c, int minor, long offered)
      throws AgentFsException {
    return new InitNegotiator(c, 256).negotiate(new Wire.InitIn(7, minor, 128 * 1024, offered));
  }

  @Test
  void usesTheLowerMinor() throws Exception {
    assertEquals(45, negotiate(Configuration.defaults(), 99, ALL).minor());
    assertEquals(38, negotiate(Configuration.defaults(), 38, ALL).minor());
    assertEquals(38, negotiate(Configuration.defaults(), 38, ALL).out().minor());
  }

  @Test
  void grantsOnlyWhatBothWant() throws Exception {
    long offered = maskOf(ASYNC_READ, POSIX_LOCKS, SPLICE_MOVE, WRITEBACK_CACHE, BIG_WRITES);
    Negotiated n = negotiate(Configuration.defaults(), 45, offered);
    assertEquals(maskOf(ASYNC_READ, POSIX_LOCKS, BIG_WRITES), n.granted());
    assertEquals(n.granted(), n.out().flags());
    assertFalse(n.has(WRITEBACK_CACHE), "writeback only when configured");
  }

  @Test
  void requestsTheUsualCapabilities() throws Exception {
    Negotiated n = negotiate(Configuration.defaults(), 45, ALL);
    for (var f : new dev.agentfs.fuse.protocol.InitFlag[] {ASYNC_READ, BIG_WRITES, MAX_PAGES,
        PARALLEL_DIROPS, DO_READDIRPLUS, READDIRPLUS_AUTO, ATOMIC_O_TRUNC, HANDLE_KILLPRIV_V2,
        POSIX_LOCKS, FLOCK_LOCKS, CACHE_SYMLINKS, SETXATTR_EXT, INIT_EXT, DONT_MASK,
        POSIX_ACL}) {
      assertTrue(n.has(f), f.name());
    }
    assertFalse(n.has(PASSTHROUGH));
    assertFalse(n.has(SPLICE_READ));
    assertTrue(n.grantedNames().contains("SETXATTR_EXT"));
  }

  @Test
  void posixAclOnlyWithDefaultPermissions() throws Exception {
    // FUSE_POSIX_ACL makes the kernel turn default_permissions on: never ask for it where
    // the mount was configured without.
    Configuration without = Configuration.builder().disable(Feature.DEFAULT_PERMISSIONS).build();
    Negotiated n = negotiate(without, 45, ALL);
    assertFalse(n.has(POSIX_ACL));
    assertTrue(n.has(DONT_MASK), "the core applies the umask either way");
  }

  @Test
  void writebackWhenConfigured() throws Exception {
    Configuration c = Configuration.builder().enable(Feature.WRITEBACK_CACHE).build();
    assertTrue(negotiate(c, 45, ALL).has(WRITEBACK_CACHE));
  }

  @Test
  void flags2NeedsInitExtFromTheKernel() throws Exception {
    long offered = ALL & ~INIT_EXT.mask();
    Negotiated n = negotiate(Configuration.defaults(), 45, offered);
    assertEquals(0, n.granted() >>> 32);
  }

  @Test
  void maxWriteIsClampedToThePageLimit() throws Exception {
    Configuration big = Configuration.builder().maxWrite(16L << 20).build();
    Negotiated n = negotiate(big, 45, ALL);
    assertEquals(256 * 4096, n.maxWrite());
    assertEquals(256, n.out().maxPages());

    Negotiated noPages = negotiate(big, 45, ALL & ~MAX_PAGES.mask());
    assertEquals(32 * 4096, noPages.maxWrite(), "without MAX_PAGES the kernel sends 32 pages");

    Configuration small = Configuration.builder().maxWrite(10_000).build();
    Negotiated s = negotiate(small, 45, ALL);
    assertEquals(10_000, s.maxWrite());
    assertEquals(3, s.maxPages());
  }

  @Test
  void backgroundLimitsComeFromConfiguration() throws Exception {
    Configuration c = Configuration.builder().maxBackground(100).congestionThreshold(75).build();
    Wire.InitOut out = negotiate(c, 45, ALL).out();
    assertEquals(100, out.maxBackground());
    assertEquals(75, out.congestionThreshold());
    assertEquals(128 * 1024, out.maxReadahead());
  }

  @Test
  void refusesAncientKernels() {
    AgentFsException e = assertThrows(AgentFsException.class,
        () -> negotiate(Configuration.defaults(), 20, ALL));
    assertTrue(e.getMessage().contains("7.20"), e.getMessage());
  }

  @Test
  void requiredPassthroughIsGrantedWhenOffered() throws Exception {
    Configuration c = Configuration.builder().passthrough(Passthrough.REQUIRED).build();
    Negotiated n = negotiate(c, 45, ALL);
    assertTrue(n.has(PASSTHROUGH));
    assertEquals(1, n.out().maxStackDepth(), "passthrough needs max_stack_depth > 0");
  }

  @Test
  void requiredPassthroughFailsClearlyWhenNotOffered() {
    Configuration c = Configuration.builder().passthrough(Passthrough.REQUIRED).build();
    AgentFsException e = assertThrows(AgentFsException.class,
        () -> negotiate(c, 45, ALL & ~PASSTHROUGH.mask()));
    assertEquals(Errno.ENOTSUP, e.errno());
    assertTrue(e.getMessage().contains("FUSE_PASSTHROUGH"), e.getMessage());
  }

  @Test
  void preferredPassthroughFallsBackQuietlyWhenNotOffered() throws Exception {
    Configuration c = Configuration.builder().passthrough(Passthrough.PREFERRED).build();
    assertFalse(negotiate(c, 45, ALL & ~PASSTHROUGH.mask()).has(PASSTHROUGH));
    assertTrue(negotiate(c, 45, ALL).has(PASSTHROUGH));
  }

  @Test
  void passthroughIsNotRequestedWhenOff() throws Exception {
    assertFalse(negotiate(Configuration.defaults(), 45, ALL).has(PASSTHROUGH));
  }

  /** Every capability some configuration asks for: what a mount may lack on another kernel. */
  private static final dev.agentfs.fuse.protocol.InitFlag[] OPTIONAL = {ASYNC_READ,
      POSIX_LOCKS, ATOMIC_O_TRUNC, BIG_WRITES, FLOCK_LOCKS, DO_READDIRPLUS, READDIRPLUS_AUTO,
      PARALLEL_DIROPS, HANDLE_KILLPRIV_V2, MAX_PAGES, CACHE_SYMLINKS, SETXATTR_EXT, INIT_EXT,
      AUTO_INVAL_DATA, DONT_MASK, POSIX_ACL, WRITEBACK_CACHE, PASSTHROUGH, OVER_IO_URING};

  /** Configurations that between them ask for every optional capability. */
  private static Configuration[] askingForEverything() {
    return new Configuration[] {
        Configuration.builder().enable(Feature.WRITEBACK_CACHE, Feature.IO_URING).build(),
        Configuration.builder().passthrough(Passthrough.PREFERRED).enable(Feature.IO_URING)
            .build()};
  }

  @Test
  void theOptionalListCoversEverythingEverAskedFor() throws Exception {
    long asked = 0;
    for (Configuration c : askingForEverything()) {
      asked |= negotiate(c, 45, ALL).granted();
    }
    assertEquals(maskOf(OPTIONAL), asked, "OPTIONAL must list what the negotiator asks for");
    assertEquals(InitNegotiator.ALWAYS, InitNegotiator.ALWAYS & maskOf(OPTIONAL));
  }

  /**
   * Each optional capability left out of the kernel's offer, in turn: it is not granted, all
   * else is granted as before (INIT_EXT takes every flags2 capability with it), nothing
   * fails, and the limits follow (no MAX_PAGES: 32 pages). Hiding a capability by
   * MountOptions gives exactly the same answer, while the real offer is still recorded.
   */
  @Test
  void eachCapabilityTheKernelDoesNotOfferIsLeftOutAndTheRestStands() throws Exception {
    for (Configuration c : askingForEverything()) {
      Negotiated full = negotiate(c, 45, ALL);
      for (var f : OPTIONAL) {
        Negotiated n = negotiate(c, 45, ALL & ~f.mask());
        String what = f + " not offered, " + c;
        assertFalse(n.has(f), what);
        long expect = full.granted() & ~f.mask();
        if (f == INIT_EXT) {
          expect &= 0xffffffffL;
        }
        assertEquals(expect, n.granted(), what);
        assertEquals(n.granted(), n.out().flags(), what);
        assertEquals(f == MAX_PAGES ? 32 * 4096 : full.maxWrite(), n.maxWrite(), what);
        assertEquals(f == MAX_PAGES ? 0 : full.out().maxPages(), n.out().maxPages(), what);
        assertEquals(n.has(PASSTHROUGH) ? 1 : 0, n.out().maxStackDepth(), what);

        Negotiated hidden = new InitNegotiator(c, 256, f.mask())
            .negotiate(new Wire.InitIn(7, 45, 128 * 1024, ALL));
        assertEquals(n.granted(), hidden.granted(), "hidden " + what);
        assertEquals(ALL, hidden.kernelFlags(), "the real offer is kept for the logs");
      }
    }
  }

  /** What a configuration requires fails the negotiation, naming it; nothing else does. */
  @Test
  void onlyARequiredCapabilityFailsWhenMissing() throws Exception {
    Configuration required = Configuration.builder().passthrough(Passthrough.REQUIRED).build();
    for (var f : OPTIONAL) {
      long offered = ALL & ~f.mask();
      if (f == PASSTHROUGH || f == INIT_EXT) {
        AgentFsException e = assertThrows(AgentFsException.class,
            () -> negotiate(required, 45, offered), f.name());
        assertEquals(Errno.ENOTSUP, e.errno());
        assertTrue(e.getMessage().contains("FUSE_PASSTHROUGH"), e.getMessage());
      } else {
        assertTrue(negotiate(required, 45, offered).has(PASSTHROUGH), f.name());
      }
    }
  }

  @Test
  void aKernelOfferingNothingOptionalStillMounts() throws Exception {
    for (Configuration c : askingForEverything()) {
      Negotiated n = negotiate(c, 45, 0);
      assertEquals(0, n.granted());
      assertEquals(32 * 4096, n.maxWrite());
    }
  }
}
