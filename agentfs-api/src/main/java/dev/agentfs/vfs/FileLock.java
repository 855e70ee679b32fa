package dev.agentfs.vfs;

/**
 * A POSIX byte-range lock (struct flock): {@code type} is {@link Modes#F_RDLCK},
 * {@link Modes#F_WRLCK} or {@link Modes#F_UNLCK}; {@code end} is inclusive and
 * {@link Long#MAX_VALUE} means "to end of file"; {@code pid} is reported by getlk.
 *
 * @since 0.1
 */
public record FileLock(long start, long end, int type, int pid) {}
