@NullMarked
package dev.agentfs.core;

import org.jspecify.annotations.NullMarked;
