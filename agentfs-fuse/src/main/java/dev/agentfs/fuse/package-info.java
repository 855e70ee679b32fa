/** The direct Linux FUSE transport: {@link dev.agentfs.fuse.KernelTransportProvider} speaks the kernel protocol on /dev/fuse from Java, mounting in-process with mount(2). */
@NullMarked
package dev.agentfs.fuse;

import org.jspecify.annotations.NullMarked;
