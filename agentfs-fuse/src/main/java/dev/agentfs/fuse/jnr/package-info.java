/**
 * The portable "jnr" transport: serves a {@link dev.agentfs.vfs.Vfs} through libfuse2's
 * high-level, path-based API via jnr-fuse, for systems where the direct kernel transport
 * cannot run (macOS, no CAP_SYS_ADMIN). {@link dev.agentfs.fuse.jnr.JnrTransportProvider} is
 * the entry point; {@link dev.agentfs.fuse.jnr.JnrFuseFs} adapts paths onto inodes.
 */
@NullMarked
package dev.agentfs.fuse.jnr;

import org.jspecify.annotations.NullMarked;
