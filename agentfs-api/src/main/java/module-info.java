/**
 * AgentFS: the public API, the {@code Vfs} contract, the backstore and transport SPIs, the
 * copy-on-write core and the in-memory backstore.
 *
 * @since 0.1
 */
module dev.agentfs {
  // Logging facade only; the application chooses the binding.
  requires org.slf4j;
  // Nullness annotations: needed to compile against the API, not to run it.
  requires static org.jspecify;

  exports dev.agentfs;
  exports dev.agentfs.control;
  exports dev.agentfs.memory;
  exports dev.agentfs.nio;
  exports dev.agentfs.spi;
  exports dev.agentfs.vfs;
  // Not an API package, but exported to everyone: public API signatures name core types
  // (AgentFs.diff and CommitResult.Conflict return TreeDiff.Change, AgentFs.core() returns
  // FsCore) and agentfs-fuse drives BranchFs directly. A qualified export would make those
  // methods unusable from named modules.
  exports dev.agentfs.core;

  uses dev.agentfs.spi.BackstoreProvider;
  uses dev.agentfs.spi.TransportProvider;
  uses dev.agentfs.spi.MountDiscovery;

  provides dev.agentfs.spi.BackstoreProvider with dev.agentfs.memory.MemoryBackstoreProvider;
  provides java.nio.file.spi.FileSystemProvider with dev.agentfs.nio.AgentFsFileSystemProvider;
}
