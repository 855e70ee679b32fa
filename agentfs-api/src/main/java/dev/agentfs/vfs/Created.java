package dev.agentfs.vfs;

/**
 * The result of create and tmpfile: the new inode's attributes and an open file handle.
 *
 * @since 0.1
 */
public record Created(Attr attr, long fh) {}
