package dev.agentfs.hostfs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.nio.AbstractMapScenarioTest;
import dev.agentfs.vfs.ChangeListener;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Mapping files whose bytes are host files: every map scenario, the coherent ones included,
 * against the default file system; and what only a snapshot-capable store has to get right:
 * a READ_WRITE buffer never writes into a snapshot, a READ_ONLY buffer over bytes a snapshot
 * shares is a copy, set-id files are not mapped writable, and forcing announces the change.
 */
class HostFsMapScenarioTest extends AbstractMapScenarioTest {
  @Override
  protected AgentFs newAgentFs(Path dir) throws Exception {
    return AgentFs.builder().backstore(HostFsBackstore.open(dir.resolve("store"))).build();
  }

  @Override
  protected boolean hostBacked() {
    return true;
  }

  private static String read(MappedByteBuffer b) {
    byte[] out = new byte[b.capacity()];
    b.duplicate().position(0).get(out);
    return new String(out, UTF_8);
  }

  @Test
  void aReadWriteBufferNeverWritesIntoASnapshot() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        MappedByteBuffer b = ch.map(MapMode.READ_WRITE, 0, 10);
        b.put(0, (byte) 'A');
        afs.snapshot("s");
        b.put(1, (byte) 'B');
        ch.write(ByteBuffer.wrap("C".getBytes(UTF_8)), 2);
        assertEquals("ABC3456789", Files.readString(f));
        assertEquals("ABC3456789", read(b));
        assertEquals("A123456789", afs.snapshotView("s").readString("/f"));
        afs.snapshot("t");
        b.put(3, (byte) 'D');
        assertEquals("ABC3456789", afs.snapshotView("t").readString("/f"));
        assertEquals("ABCD456789", afs.main().readString("/f"));
      }
    }
  }

  @Test
  void readOnlyOverBytesASnapshotSharesIsACopy() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      afs.snapshot("s");
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        MappedByteBuffer ro = ch.map(MapMode.READ_ONLY, 0, 10);
        ch.write(ByteBuffer.wrap("abc".getBytes(UTF_8)), 0);
        assertEquals("0123456789", read(ro), "mapped before the write unshared the bytes");
        MappedByteBuffer now = ch.map(MapMode.READ_ONLY, 0, 10);
        ch.write(ByteBuffer.wrap("xyz".getBytes(UTF_8)), 7);
        assertEquals("abc3456xyz", read(now), "the branch owns its bytes alone again");
      }
      assertEquals("0123456789", afs.snapshotView("s").readString("/f"));
    }
  }

  @Test
  void setIdFilesAreNotMappedWritable() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      afs.main().chmod("/f", 04755);
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
            () -> ch.map(MapMode.READ_WRITE, 0, 10));
        assertTrue(e.getMessage().contains("set-user/group-ID"), e.getMessage());
        assertEquals("0123456789", read(ch.map(MapMode.READ_ONLY, 0, 10)));
      }
      assertEquals(04755, afs.main().lstat("/f").mode() & 07777, "nothing cleared the bit");
    }
  }

  @Test
  void forcingAChannelAnnouncesWhatTheBufferWrote() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      long ino = afs.main().lstat("/f").ino();
      Set<Long> changed = ConcurrentHashMap.newKeySet();
      afs.addListener(new ChangeListener() {
        @Override
        public void inodeChanged(long i) {
          changed.add(i);
        }

        @Override
        public void entryChanged(long parent, byte[] name) {}
      });
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        MappedByteBuffer b = ch.map(MapMode.READ_WRITE, 0, 10);
        b.put(0, (byte) 'Z');
        b.force();
        assertTrue(changed.isEmpty(), "the buffer's own force reaches no one: " + changed);
        ch.force(false);
        assertEquals(Set.of(ino), changed);
      }
    }
  }
}
