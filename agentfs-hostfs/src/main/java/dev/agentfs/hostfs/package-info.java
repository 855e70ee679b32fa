/**
 * The HostFs backstore: file content in real host files under a backstore directory, and the
 * durable metadata log, so an AgentFS filesystem survives restarts and can hand real file
 * descriptors to the kernel for passthrough.
 */
@NullMarked
package dev.agentfs.hostfs;

import org.jspecify.annotations.NullMarked;
