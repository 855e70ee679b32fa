/**
 * JUnit 5 support for code that uses AgentFS: {@link dev.agentfs.junit.AgentFsTest} injects a
 * fresh, optionally mounted or overlaid, filesystem into tests and tears it down afterwards.
 */
@NullMarked
package dev.agentfs.junit;

import org.jspecify.annotations.NullMarked;
