/**
 * The {@code bench} command (issue #7): mounts each benchmark configuration in-process, runs
 * I/O, metadata and agent-shaped workloads against it and against a native directory,
 * alternating between them, and writes {@code results.json}, {@code results.md} and
 * {@code chart.png}. See {@code docs/performance.md}.
 */
@NullMarked
package dev.agentfs.examples.bench;

import org.jspecify.annotations.NullMarked;
