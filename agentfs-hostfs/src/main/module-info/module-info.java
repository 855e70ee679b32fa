/**
 * AgentFS HostFs: the durable backstore in a host directory.
 *
 * @since 0.1
 */
module dev.agentfs.hostfs {
  requires dev.agentfs;
  requires org.slf4j;
  requires static org.jspecify;
  // Raw file descriptors (fallocate, SEEK_DATA/HOLE, FICLONE, copy_file_range, flock).
  requires org.jnrproject.ffi;
  requires org.jnrproject.jffi;

  // Native.LibC is implemented by classes jnr-ffi generates at run time, so the package is
  // exported (it is the module's only package and its API).
  exports dev.agentfs.hostfs;

  provides dev.agentfs.spi.BackstoreProvider with dev.agentfs.hostfs.HostFsBackstoreProvider;
}
