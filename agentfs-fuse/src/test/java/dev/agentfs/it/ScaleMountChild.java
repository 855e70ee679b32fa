package dev.agentfs.it;

import dev.agentfs.AgentFs;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Path;

/**
 * The server JVM of {@link MountScaleTest}, started under a low descriptor limit. {@code hostfs
 * STORE MNT} mounts a HostFs store; {@code overlay LOWER STORE MNT} mounts an overlay of LOWER
 * over a HostFs store. Prints {@code MOUNTED}, serves until stdin closes, then unmounts and
 * prints {@code UNMOUNTED} with the store's content descriptor count and bound.
 */
public final class ScaleMountChild {
  private ScaleMountChild() {}

  public static void main(String[] args) throws Exception {
    boolean overlay = args[0].equals("overlay");
    int i = overlay ? 2 : 1;
    HostFsBackstore store = HostFsBackstore.open(Path.of(args[i]));
    Path mnt = Path.of(args[i + 1]);
    AgentFs.Builder b = AgentFs.builder().backstore(store).threads(2);
    if (overlay) {
      b.lower(Path.of(args[1]));
    }
    String fds;
    try (AgentFs fs = b.build()) {
      fs.mount(mnt);
      System.out.println("MOUNTED");
      System.out.flush();
      System.in.readAllBytes(); // until the test closes our stdin
      fds = store.openFiles() + "/" + store.maxOpenFiles();
    }
    System.out.println("UNMOUNTED content-fds " + fds);
    System.out.flush();
  }
}
