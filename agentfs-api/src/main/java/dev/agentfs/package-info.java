@NullMarked
package dev.agentfs;

import org.jspecify.annotations.NullMarked;
