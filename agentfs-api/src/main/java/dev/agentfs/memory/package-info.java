@NullMarked
package dev.agentfs.memory;

import org.jspecify.annotations.NullMarked;
