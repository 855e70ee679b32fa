@NullMarked
package dev.agentfs.spi;

import org.jspecify.annotations.NullMarked;
