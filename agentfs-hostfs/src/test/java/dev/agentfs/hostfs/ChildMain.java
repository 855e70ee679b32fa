package dev.agentfs.hostfs;

import dev.agentfs.AgentFsException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * What the tests run in a child JVM: {@code hold DIR} keeps the backstore open until stdin
 * closes; {@code try DIR} tries to open it and prints the outcome; {@code crash DIR} writes
 * content and logs it forever, printing "synced N" after each durable step, until killed.
 */
public final class ChildMain {
  private ChildMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "hold":
        try (HostFsBackstore s = HostFsBackstore.open(dir)) {
          out.println("locked");
          out.flush();
          while (System.in.read() >= 0) {
            // Wait for the parent to close our stdin.
          }
        }
        break;
      case "try":
        try (HostFsBackstore s = HostFsBackstore.open(dir)) {
          out.println("opened");
        } catch (AgentFsException e) {
          out.println(e.errno() + " " + e.getMessage());
        }
        break;
      case "crash":
        crash(dir, out);
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
  }

  /** The bytes of step {@code i}: deterministic, so the parent can check them. */
  static byte[] data(int i) {
    byte[] b = new byte[1 + (i * 7919) % 200_000];
    for (int k = 0; k < b.length; k++) {
      b[k] = (byte) (i * 31 + k * 7 + (k >>> 9));
    }
    return b;
  }

  private static void crash(Path dir, PrintStream out) throws Exception {
    HostFsBackstore s = HostFsBackstore.open(dir);
    FileMetadataLog log = s.metadataLog();
    for (int i = 0; ; i++) {
      var c = s.newContent();
      byte[] d = data(i);
      c.write(0, ByteBuffer.wrap(d));
      c.sync(true);
      byte[] rec = (i + " " + c.id() + " " + d.length).getBytes(StandardCharsets.UTF_8);
      log.append(List.of(ByteBuffer.wrap(rec)), true);
      out.println("synced " + i);
      out.flush();
      // Unsynced work after the durable step: the kill may land anywhere in it.
      var junk = s.newContent();
      junk.write(0, ByteBuffer.wrap(d));
      log.append(List.of(ByteBuffer.wrap(("junk " + junk.id()).getBytes(StandardCharsets.UTF_8))), false);
    }
  }
}
