package dev.agentfs.fuse.session;

import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.protocol.Wire;
import java.util.Set;

/**
 * What INIT settled: the protocol minor both sides speak, the granted capability bits, and the
 * limits the request buffers are sized for.
 *
 * @param minor the minor version in use (the smaller of the two)
 * @param kernelMinor what the kernel offered
 * @param kernelFlags every capability the kernel offered
 * @param granted the capabilities asked for and offered
 * @param maxWrite the largest WRITE the kernel will send
 * @param maxPages the page count answered in max_pages
 * @param out the init_out record that was answered
 *
 * @since 0.1
 */
public record Negotiated(int minor, int kernelMinor, long kernelFlags, long granted,
    int maxWrite, int maxPages, Wire.InitOut out) {

  public boolean has(InitFlag f) {
    return f.in(granted);
  }

  public Set<String> grantedNames() {
    return InitFlag.names(granted);
  }
}
