package dev.agentfs.it;

import dev.agentfs.AgentFs;
import dev.agentfs.Passthrough;
import dev.agentfs.hostfs.HostFsBackstore;
import java.nio.file.Path;

/**
 * The JVM that {@link MountCrashTest} kills: opens the HostFs backstore in args[0], mounts it
 * at args[1] on the kernel transport with passthrough args[2], prints "mounted", and serves
 * until SIGKILL. A closed stdin means the test JVM is gone: then it unmounts and exits.
 */
public final class CrashMountChild {
  private CrashMountChild() {}

  public static void main(String[] args) throws Exception {
    AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(Path.of(args[0])))
        .passthrough(Passthrough.valueOf(args[2])).build();
    fs.mount(Path.of(args[1]));
    System.out.println("mounted");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until stdin closes
    }
    fs.close();
  }
}
