/**
 * A {@link java.nio.file.FileSystem} over one {@link dev.agentfs.Branch}, without a mount: every
 * {@code Files.*} call becomes inode-level {@link dev.agentfs.vfs.Vfs} calls in this process.
 *
 * <p>Obtain one with {@link dev.agentfs.Branch#asFileSystem()}, or through the provider:
 *
 * <pre>{@code
 * FileSystem fs = FileSystems.newFileSystem(URI.create("agentfs://task-1/"),
 *     Map.of("agentfs", agentFs));          // branch = URI authority
 * FileSystem fs2 = FileSystems.newFileSystem(URI.create("agentfs://any-key/"),
 *     Map.of("agentfs", agentFs, "branch", "main", "caller", caller, "umask", 022));
 * }</pre>
 *
 * <p>Environment keys ({@link dev.agentfs.nio.AgentFsFileSystemProvider}): {@code "agentfs"} (an
 * {@link dev.agentfs.AgentFs}, required), {@code "branch"} (branch name, default: the URI
 * authority), {@code "caller"} (a {@link dev.agentfs.vfs.Caller}, default root), {@code "umask"}
 * (an Integer, default 022). Closing the file system closes its channels, directory streams and
 * watch services but never the {@code AgentFs}.
 *
 * <p>Paths have Unix semantics and are byte-faithful: an {@link dev.agentfs.nio.AgentFsPath}
 * holds the raw name bytes the core stores; strings are encoded to and decoded from UTF-8 at the
 * API edge ({@code toString()} shows malformed bytes as U+FFFD, but the path still names the
 * exact entry it came from, e.g. from a directory listing).
 *
 * <p>Behaviour follows the default file system on Linux, including which exception each error
 * raises; errors without a dedicated java.nio exception are {@link
 * java.nio.file.FileSystemException}s whose reason is the errno name.
 */
@NullMarked
package dev.agentfs.nio;

import org.jspecify.annotations.NullMarked;
