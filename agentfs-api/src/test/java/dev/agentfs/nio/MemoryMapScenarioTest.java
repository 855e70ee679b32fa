package dev.agentfs.nio;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Mapping files whose bytes are in memory: the shared scenarios against the default file
 * system, and what differs by design: READ_WRITE is refused before anything changes, and a
 * READ_ONLY buffer is a copy of the file at map time.
 */
class MemoryMapScenarioTest extends AbstractMapScenarioTest {
  @Override
  protected AgentFs newAgentFs(Path dir) {
    return AgentFs.builder().build();
  }

  @Override
  protected boolean hostBacked() {
    return false;
  }

  @Test
  void readWriteIsRefusedBeforeTheFileGrows() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
            () -> ch.map(MapMode.READ_WRITE, 5, 100));
        assertTrue(e.getMessage().startsWith("/f: READ_WRITE mapping needs the file's bytes in"
            + " a host file"), e.getMessage());
        assertEquals(10, Files.size(f));
        assertEquals(0, ch.map(MapMode.READ_WRITE, 30, 0).capacity(), "size 0 maps nothing");
        assertEquals(30, Files.size(f), "and grows the file as the JDK does");
      }
    }
  }

  @Test
  void readOnlyAndPrivateAreCopiesTakenAtMapTime() throws Exception {
    try (AgentFs afs = newAgentFs(tmp); FileSystem fs = afs.main().asFileSystem()) {
      Path f = Files.writeString(fs.getPath("/f"), "0123456789");
      try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
        MappedByteBuffer ro = ch.map(MapMode.READ_ONLY, 0, 10);
        MappedByteBuffer priv = ch.map(MapMode.PRIVATE, 0, 10);
        ch.write(ByteBuffer.wrap("abc".getBytes(UTF_8)), 0);
        assertEquals("0123456789", text(ro));
        assertEquals("0123456789", text(priv));
        assertEquals("abc3456789", Files.readString(f));
      }
    }
  }
}
