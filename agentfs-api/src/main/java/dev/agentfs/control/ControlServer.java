package dev.agentfs.control;

import dev.agentfs.vfs.Caller;

/**
 * Placeholder until the control protocol lands: every request answers ENOSYS.
 *
 * @since 0.1
 */
public final class ControlServer {
  private ControlServer() {}

  public static byte[] handle(Caller caller, byte[] request, ControlPlane plane) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(20)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x53464741).putShort((short) 1).putShort((short) 0).putInt(38).putInt(0).putInt(0);
    return b.array();
  }
}
