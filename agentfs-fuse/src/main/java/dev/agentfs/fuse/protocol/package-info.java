/** The FUSE kernel ABI as Java: the opcode table, INIT flags and one record per wire struct, encoded and decoded on little-endian buffers. Pure data, no native calls, so it is tested on byte fixtures without a mount. */
@NullMarked
package dev.agentfs.fuse.protocol;

import org.jspecify.annotations.NullMarked;
