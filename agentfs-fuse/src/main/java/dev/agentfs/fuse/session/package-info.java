/** A live FUSE connection: mounting, INIT negotiation, worker threads on cloned /dev/fuse descriptors, request dispatch to the {@link dev.agentfs.vfs.Vfs}, invalidation notices and unmounting. */
@NullMarked
package dev.agentfs.fuse.session;

import org.jspecify.annotations.NullMarked;
