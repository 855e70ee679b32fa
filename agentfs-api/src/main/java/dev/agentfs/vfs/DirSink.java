package dev.agentfs.vfs;

import org.jspecify.annotations.Nullable;

/**
 * Receives directory entries from readdir. An entry is followed by the offset at which a later
 * readdir continues after it; {@code attr} is present for readdirplus. Returning false means the
 * sink is full: the entry was not taken and readdir stops.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface DirSink {
  boolean add(byte[] name, long ino, int mode, long nextOffset, @Nullable Attr attr);
}
