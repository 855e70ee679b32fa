package dev.agentfs.it;

import dev.agentfs.AgentFs;
import dev.agentfs.AgentFsException;
import dev.agentfs.Configuration;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.KernelMounts;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.fuse.session.MountMethod;
import dev.agentfs.fuse.session.MountOptions;
import dev.agentfs.fuse.session.MountTable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@link UnprivilegedMountTest}, run as a non-root user. {@code serve DIR}
 * mounts an in-memory AgentFs at DIR with the default (automatic) mount method, writes
 * hello.txt through the mount, prints {@code MOUNTED <method>}, and unmounts when stdin
 * closes (printing {@code UNMOUNTED <gone>}) or through the shutdown hook on SIGTERM. {@code
 * try DIR CASE...} attempts one mount per case and prints {@code RESULT <case> <errno>
 * <message>}, or {@code RESULT <case> MOUNTED <method>} (then unmounts).
 */
public final class UserMountChild {
  private UserMountChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    if (args[0].equals("serve")) {
      serve(dir);
      return;
    }
    for (int i = 2; i < args.length; i++) {
      attempt(args[i], dir);
    }
  }

  private static void serve(Path dir) throws Exception {
    int uid = (Integer) Files.getAttribute(dir, "unix:uid");
    int gid = (Integer) Files.getAttribute(dir, "unix:gid");
    AgentFs fs = AgentFs.builder().root(uid, gid, 0755).threads(2).build();
    fs.mount(dir);
    FuseSession s = FuseSession.live(dir);
    Files.writeString(dir.resolve("hello.txt"), "written by the child\n");
    System.out.println("MOUNTED " + (s == null ? "?" : s.mountMethod()));
    System.out.flush();
    System.in.readAllBytes(); // until the test closes our stdin
    fs.close();
    System.out.println("UNMOUNTED " + !MountTable.isFuseMountPoint(dir));
  }

  private static void attempt(String kase, Path dir) {
    Configuration.Builder c = Configuration.builder().threads(2);
    MountMethod method = MountMethod.AUTO;
    switch (kase) {
      case "auto", "agentfs" -> { }
      case "fusermount" -> method = MountMethod.FUSERMOUNT;
      case "passthrough" -> c.passthrough(Passthrough.REQUIRED);
      case "allow_other" -> c.enable(Feature.ALLOW_OTHER);
      case "suid_dev" -> c.enable(Feature.SUID_DEV);
      default -> throw new IllegalArgumentException(kase);
    }
    try (AgentFs fs = AgentFs.builder().configuration(c.build()).build()) {
      if (kase.equals("agentfs")) {
        fs.mount(dir).close();
        System.out.println("RESULT " + kase + " MOUNTED");
      } else {
        try (FuseSession s = KernelMounts.mount(fs.vfs(), dir, fs.configuration(),
            MountOptions.defaults().withMethod(method))) {
          System.out.println("RESULT " + kase + " MOUNTED " + s.mountMethod());
        }
      }
    } catch (AgentFsException e) {
      System.out.println("RESULT " + kase + " " + e.errno() + " " + e.getMessage());
    }
    System.out.flush();
  }
}
