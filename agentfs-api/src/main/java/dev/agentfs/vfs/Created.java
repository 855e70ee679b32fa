package dev.agentfs.vfs;

/** The result of create and tmpfile: the new inode's attributes and an open file handle. */
public record Created(Attr attr, long fh) {}
