package dev.agentfs.fuse.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** How the initial user namespace is told from /proc/self/uid_map. */
class CapabilitiesTest {
  @Test
  void onlyTheIdentityMapIsTheInitialNamespace() {
    assertTrue(Capabilities.isIdentityMap("         0          0 4294967295\n"));
    // unshare -Urm as nobody: the namespace's root is uid 65534 outside.
    assertFalse(Capabilities.isIdentityMap("         0      65534          1\n"));
    // A container's range, and a map of several lines.
    assertFalse(Capabilities.isIdentityMap("0 100000 65536\n"));
    assertFalse(Capabilities.isIdentityMap("0 0 1000\n1000 1000 4294966295\n"));
    assertFalse(Capabilities.isIdentityMap(""));
  }

  @Test
  void thisProcessAgreesWithItsOwnUidMap() throws Exception {
    String map = Files.readString(Path.of("/proc/self/uid_map"));
    assertEquals(Capabilities.isIdentityMap(map), Capabilities.initialUserNamespace(), map);
  }
}
