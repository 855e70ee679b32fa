package dev.agentfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.agentfs.AgentFsException;
import dev.agentfs.MountInfo;
import dev.agentfs.MountInfo.Kind;
import dev.agentfs.control.JsonReader;
import dev.agentfs.fuse.session.MountTable.Entry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which mount-table lines are AgentFS mounts, and how an INFO reply becomes a MountInfo. */
class KernelMountDiscoveryTest {
  private static Entry e(int id, String mp, String type, String source) {
    return new Entry(id, 0, id, Path.of(mp), type, source);
  }

  @Test
  void onlyTheTopmostAgentFsMountPerPathIsProbed() {
    List<Entry> table = List.of(
        e(1, "/", "ext4", "/dev/sda1"),
        e(2, "/a", "fuse.agentfs", "agentfs"),
        e(3, "/b", "fuse.sshfs", "me@host:"),
        e(4, "/c", "fuse.agentfs", "agentfs"),
        e(5, "/c", "tmpfs", "tmpfs"),            // covers /c: not reachable by its path
        e(6, "/d", "tmpfs", "tmpfs"),
        e(7, "/d", "fuse.agentfs", "agentfs"),   // on top of tmpfs: this one counts
        e(8, "/e", "fuse.mine", "agentfs"),      // made with -o subtype=mine
        e(9, "/f", "fuse", "agentfs-snapshot:s1"),
        e(10, "/g", "fuse.other", "other"));
    assertEquals(List.of(Path.of("/a"), Path.of("/d"), Path.of("/e"), Path.of("/f")),
        KernelMountDiscovery.topmost(table).stream().map(Entry::mountPoint).toList());
  }

  @Test
  void snapshotMountsAreKnownByTheirSource() {
    assertEquals(Kind.SNAPSHOT, KernelMountDiscovery.kindOf("agentfs-snapshot:s1"));
    assertEquals("s1", KernelMountDiscovery.snapshotOf("agentfs-snapshot:s1"));
    assertEquals(Kind.SNAPSHOT, KernelMountDiscovery.kindOf("agentfs-snapshot"));
    assertNull(KernelMountDiscovery.snapshotOf("agentfs-snapshot"));
    assertEquals(Kind.UNKNOWN, KernelMountDiscovery.kindOf("agentfs"));
  }

  @Test
  void anInfoReplyBecomesAMountInfo() throws Exception {
    String reply = "{\"pid\":77,\"mountpoint\":\"/srv\",\"kind\":\"export\",\"store\":"
        + "\"hostfs:/var/s\",\"lower\":\"/ws\",\"transport\":\"kernel\",\"readOnly\":false,"
        + "\"defaultBranch\":\"b\",\"branches\":[\"b\",\"main\"],\"snapshots\":2,"
        + "\"bound\":[{\"pid\":9,\"branch\":\"b\"}]}\n";
    MountInfo m = KernelMountDiscovery.fromInfo(Path.of("/x"), "agentfs",
        JsonReader.objects(reply));
    assertEquals(new MountInfo(Path.of("/x"), MountInfo.Health.ALIVE, Kind.EXPORT, "agentfs",
        77, "hostfs:/var/s", "/ws", "b", List.of("b", "main"), Map.of(9, "b"), null, null), m);
    assertEquals("{mountpoint=/x, health=alive, kind=export, source=agentfs, pid=77, "
        + "store=hostfs:/var/s, lower=/ws, defaultBranch=b, branches=[b, main], "
        + "bound=[{pid=9, branch=b}]}", m.toJson().toString());
    assertThrows(AgentFsException.class, () -> KernelMountDiscovery.fromInfo(Path.of("/x"),
        "agentfs", JsonReader.objects(reply + reply)));
  }

  @Test
  void theProbeTimeoutMustBePositive() {
    assertThrows(IllegalArgumentException.class,
        () -> new KernelMountDiscovery(Duration.ZERO));
  }
}
