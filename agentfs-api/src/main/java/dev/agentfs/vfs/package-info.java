@NullMarked
package dev.agentfs.vfs;

import org.jspecify.annotations.NullMarked;
