package dev.agentfs.hostfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writes content and logs it, printing "synced N" after each step that returned
 * from sync; it is killed with SIGKILL after a given step. Everything it reported synced must be
 * there after reopening, unlogged content is removed by retainOnly, and the log accepts appends
 * after whatever the kill tore. (SIGKILL keeps the page cache, so this checks the protocol and
 * torn-tail recovery, not the fsyncs themselves.)
 */
class CrashDurabilityTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {0, 6, 40})
  void everythingSyncedSurvivesSigkill(int killAfter) throws Exception {
    Path store = dir.resolve("s");
    Process child = Children.start("crash", store);
    try {
      BufferedReader out = Children.lines(child);
      String want = "synced " + killAfter;
      String line;
      while ((line = out.readLine()) != null && !line.equals(want)) {
        assertTrue(line.startsWith("synced "), line);
      }
      assertEquals(want, line, "the child stopped early");
      child.destroyForcibly();
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    } finally {
      child.destroyForcibly();
    }

    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      List<String[]> steps = new ArrayList<>();
      s.metadataLog()
          .replay(
              b -> {
                assertEquals(1, b.size());
                byte[] r = new byte[b.get(0).remaining()];
                b.get(0).get(r);
                String[] f = new String(r, StandardCharsets.UTF_8).split(" ");
                if (!f[0].equals("junk")) {
                  steps.add(f);
                }
              });
      assertTrue(steps.size() >= killAfter + 1, "only " + steps.size() + " steps survived");
      Set<String> live = new HashSet<>();
      for (int i = 0; i < steps.size(); i++) {
        String[] f = steps.get(i);
        assertEquals(i, Integer.parseInt(f[0]), "steps in order");
        byte[] data = ChildMain.data(i);
        assertEquals(data.length, Integer.parseInt(f[2]));
        HostContent c = s.openContent(f[1]);
        assertEquals(data.length, c.size(), "size of step " + i);
        ByteBuffer got = ByteBuffer.allocate(data.length);
        c.read(0, got);
        assertArrayEquals(data, got.array(), "bytes of step " + i);
        live.add(f[1]);
      }
      s.retainOnly(live);
      try (Stream<Path> files = Files.walk(store.resolve("data"))) {
        assertEquals(live.size(), files.filter(Files::isRegularFile).count(), "strays removed");
      }
      s.metadataLog().append(List.of(ByteBuffer.wrap(new byte[] {42})), true);
    }
    try (HostFsBackstore s = HostFsBackstore.open(store)) {
      List<byte[]> last = new ArrayList<>();
      s.metadataLog().replay(b -> last.add(b.isEmpty() ? new byte[0] : copy(b.get(0))));
      assertNotNull(last.get(last.size() - 1));
      assertArrayEquals(new byte[] {42}, last.get(last.size() - 1), "append after recovery");
    }
  }

  private static byte[] copy(ByteBuffer b) {
    byte[] r = new byte[b.remaining()];
    b.get(r);
    return r;
  }
}
