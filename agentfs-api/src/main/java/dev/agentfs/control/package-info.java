/**
 * The control plane: snapshot, branch, bind, diff and commit, reachable from the Java API and
 * from inside a mount through the control file's ioctl protocol.
 */
@NullMarked
package dev.agentfs.control;

import org.jspecify.annotations.NullMarked;
