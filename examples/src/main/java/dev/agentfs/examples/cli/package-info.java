/** The {@code agentfs} command-line tool: {@code java -jar examples/target/agentfs.jar}. */
@NullMarked
package dev.agentfs.examples.cli;

import org.jspecify.annotations.NullMarked;
