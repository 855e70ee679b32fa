/** The few Linux system calls the transport needs, behind a small interface so a Java 22 FFM implementation can replace the jnr-ffi one. */
@NullMarked
package dev.agentfs.fuse.sys;

import org.jspecify.annotations.NullMarked;
