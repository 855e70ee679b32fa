package dev.agentfs.vfs;

/**
 * Filesystem capacity as statfs(2) reports it, in {@link #bsize()}-byte blocks.
 *
 * @since 0.1
 */
public record StatFs(long blocks, long bfree, long bavail, long files, long ffree, int bsize,
    int namelen, int frsize) {}
