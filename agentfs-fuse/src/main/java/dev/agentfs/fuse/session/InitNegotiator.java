package dev.agentfs.fuse.session;

import static dev.agentfs.fuse.protocol.InitFlag.*;

import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Errno;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.protocol.Wire;

/**
 * The one place that decides the answer to FUSE_INIT: the highest minor both sides speak, the
 * capabilities requested from what the kernel offers, and max_write/max_pages clamped to the
 * kernel's page limit. Pure: it reads no files and makes no calls, so it is tested on
 * fixtures.
 *
 * @since 0.1
 */
public final class InitNegotiator {
  /** Pages per request when the kernel does not grant MAX_PAGES (FUSE_DEFAULT_MAX_PAGES_PER_REQ). */
  static final int DEFAULT_MAX_PAGES = 32;
  static final int PAGE = 4096;
  /** The oldest minor we accept: RENAME2, LSEEK, PARALLEL_DIROPS, HANDLE_KILLPRIV exist. */
  public static final int MIN_MINOR = 26;

  /**
   * Capabilities requested whenever the kernel offers them. DONT_MASK: the kernel sends the
   * mode of a new node unmasked with the caller's umask beside it, and the core applies the
   * umask only where no default ACL replaces it (FUSE sets SB_POSIXACL on every mount, so the
   * VFS never masks; without DONT_MASK the FUSE code would mask before a default ACL could
   * say otherwise).
   */
  static final long ALWAYS = maskOf(ASYNC_READ, POSIX_LOCKS, ATOMIC_O_TRUNC, BIG_WRITES,
      FLOCK_LOCKS, DO_READDIRPLUS, READDIRPLUS_AUTO, PARALLEL_DIROPS, HANDLE_KILLPRIV_V2,
      MAX_PAGES, CACHE_SYMLINKS, SETXATTR_EXT, INIT_EXT, AUTO_INVAL_DATA, DONT_MASK);

  private final Configuration config;
  private final int maxPagesLimit;
  private final long hidden;

  /**
   * @param maxPagesLimit the kernel's fs.fuse.max_pages_limit (256 unless changed)
   */
  public InitNegotiator(Configuration config, int maxPagesLimit) {
    this(config, maxPagesLimit, 0);
  }

  /**
   * @param maxPagesLimit the kernel's fs.fuse.max_pages_limit (256 unless changed)
   * @param hidden capability bits treated as not offered ({@link MountOptions#hiddenInitFlags})
   */
  public InitNegotiator(Configuration config, int maxPagesLimit, long hidden) {
    this.config = config;
    this.maxPagesLimit = Math.max(1, Math.min(65535, maxPagesLimit));
    this.hidden = hidden;
  }

  public Negotiated negotiate(Wire.InitIn in) throws AgentFsException {
    if (in.major() < Wire.KERNEL_VERSION
        || (in.major() == Wire.KERNEL_VERSION && in.minor() < MIN_MINOR)) {
      throw new AgentFsException(Errno.EIO, null, null,
          "kernel speaks FUSE " + in.major() + "." + in.minor() + ", at least 7." + MIN_MINOR
              + " is needed");
    }
    int minor = in.major() > Wire.KERNEL_VERSION ? Wire.KERNEL_MINOR_VERSION
        : Math.min(in.minor(), Wire.KERNEL_MINOR_VERSION);
    long offered = in.flags() & ~hidden;
    long want = ALWAYS;
    if (config.has(Feature.WRITEBACK_CACHE)) {
      want |= WRITEBACK_CACHE.mask();
    }
    if (config.has(Feature.DEFAULT_PERMISSIONS)) {
      // The kernel then reads ACLs with GETXATTR, caches them and enforces them in its own
      // permission checks. It also forces default_permissions on, so it is asked for only
      // where that is on anyway; without it the core's checks (ACLs included) are the only
      // ones and the kernel just passes ACL xattrs through.
      want |= POSIX_ACL.mask();
    }
    want |= passthroughWant(offered);
    if (config.has(Feature.IO_URING)) {
      want |= OVER_IO_URING.mask();
    }
    long granted = want & offered;
    if (!INIT_EXT.in(offered)) {
      granted &= 0xffffffffL; // flags2 travels only when both sides speak INIT_EXT
    }

    int pagesCap = MAX_PAGES.in(granted) ? maxPagesLimit : DEFAULT_MAX_PAGES;
    long maxWrite = Math.max(PAGE, Math.min(config.maxWrite(), (long) pagesCap * PAGE));
    int maxPages = (int) ((maxWrite + PAGE - 1) / PAGE);
    Wire.InitOut out = new Wire.InitOut(Wire.KERNEL_VERSION, minor, in.maxReadahead(), granted,
        config.maxBackground(), config.congestionThreshold(), (int) maxWrite, 1,
        MAX_PAGES.in(granted) ? maxPages : 0, 0, PASSTHROUGH.in(granted) ? 1 : 0, 0);
    return new Negotiated(minor, in.minor(), in.flags(), granted, (int) maxWrite, maxPages, out);
  }

  /**
   * The capability bits to request for {@link Configuration#passthrough()}. REQUIRED fails
   * the mount with the reason when the kernel cannot do it; PREFERRED quietly asks for
   * nothing, and the mount's granted features then lack PASSTHROUGH.
   */
  long passthroughWant(long offered) throws AgentFsException {
    if (config.passthrough() == Passthrough.OFF) {
      return 0;
    }
    if (PASSTHROUGH.in(offered) && INIT_EXT.in(offered)) {
      return PASSTHROUGH.mask();
    }
    if (config.passthrough() == Passthrough.REQUIRED) {
      throw new AgentFsException(Errno.ENOTSUP, null, null, "passthrough REQUIRED: the kernel "
          + "does not offer FUSE_PASSTHROUGH (Linux 6.9 or later with CONFIG_FUSE_PASSTHROUGH)");
    }
    return 0;
  }

  /** Capability names for logs. */
  static String describe(long flags) {
    return String.join(",", InitFlag.names(flags));
  }
}
