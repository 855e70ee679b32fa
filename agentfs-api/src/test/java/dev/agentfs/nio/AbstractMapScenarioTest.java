package dev.agentfs.nio;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.agentfs.AgentFs;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileChannel#map} compared with the default file system, scenario by scenario as in
 * {@link NioScenarioTest}, for one backstore. The scenarios every backstore must pass alike are
 * the argument checks, what a mapping holds when it is made, that a PRIVATE buffer never
 * reaches the file, and how mapping grows a file. The coherence scenarios (a READ_WRITE buffer
 * and the file see each other's writes, a READ_ONLY buffer sees later writes) run only where
 * the bytes live in a host file; a backstore without one asserts the documented alternative
 * in its own tests (READ_WRITE refused, READ_ONLY a copy).
 */
public abstract class AbstractMapScenarioTest {
  @TempDir protected Path tmp;

  /** A fresh AgentFs over the backstore under test; {@code dir} is an empty directory. */
  protected abstract AgentFs newAgentFs(Path dir) throws Exception;

  /** True when files' bytes live in host files, so READ_WRITE mappings are coherent. */
  protected abstract boolean hostBacked();

  @TestFactory
  protected Stream<DynamicTest> mapScenarios() {
    Map<String, NioScenarioTest.Scenario> all = new LinkedHashMap<>();
    all.put("argumentsAndChannelModes", AbstractMapScenarioTest::arguments);
    all.put("contentAtMapTime", AbstractMapScenarioTest::contentAtMapTime);
    all.put("privateNeverReachesTheFile", AbstractMapScenarioTest::privateMapping);
    all.put("mappingGrowsTheFile", AbstractMapScenarioTest::grows);
    if (hostBacked()) {
      all.put("readWriteIsCoherent", AbstractMapScenarioTest::readWrite);
      all.put("readOnlySeesLaterWrites", AbstractMapScenarioTest::readOnlyCoherent);
    }
    int[] n = {0};
    return all.entrySet().stream().map(e -> dynamicTest(e.getKey(),
        () -> NioScenarioTest.compare(e.getValue(),
            () -> newAgentFs(Files.createDirectory(tmp.resolve("s" + n[0]++))))));
  }

  /** The bytes of {@code b} from 0 to its limit, leaving its position alone. */
  static String text(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    d.position(0);
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return new String(out, UTF_8).replace('\0', '.');
  }

  static String describe(MappedByteBuffer b) {
    return "cap=" + b.capacity() + " ro=" + b.isReadOnly() + " [" + text(b) + "]";
  }

  static void arguments(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    try (FileChannel ch = FileChannel.open(f, READ)) {
      t.step("nullMode", () -> ch.map(null, 0, 1));
      t.step("negativePosition", () -> ch.map(MapMode.READ_ONLY, -1, 1));
      t.step("negativeSize", () -> ch.map(MapMode.READ_ONLY, 0, -1));
      t.step("overflow", () -> ch.map(MapMode.READ_ONLY, Long.MAX_VALUE, 1));
      t.step("tooBig", () -> ch.map(MapMode.READ_ONLY, 0, Integer.MAX_VALUE + 1L));
      t.step("readWriteOnReadChannel", () -> ch.map(MapMode.READ_WRITE, 0, 1));
      t.step("privateOnReadChannel", () -> ch.map(MapMode.PRIVATE, 0, 1));
      t.step("pastTheEndOnReadChannel", () -> ch.map(MapMode.READ_ONLY, 5, 10));
      t.step("sizeAfter", () -> Files.size(f));
      t.step("empty", () -> describe(ch.map(MapMode.READ_ONLY, 0, 0)));
      t.step("emptyPastTheEnd", () -> describe(ch.map(MapMode.READ_ONLY, 10, 0)));
    }
    try (FileChannel ch = FileChannel.open(f, WRITE)) {
      t.step("readOnlyOnWriteChannel", () -> ch.map(MapMode.READ_ONLY, 0, 1));
      t.step("readWriteOnWriteChannel", () -> ch.map(MapMode.READ_WRITE, 0, 1));
    }
    try (FileChannel ch = FileChannel.open(f, APPEND)) {
      t.step("appendChannel", () -> ch.map(MapMode.READ_ONLY, 0, 1));
    }
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      t.step("emptyPrivate", () -> describe(ch.map(MapMode.PRIVATE, 0, 0)));
      t.step("emptyGrowsTheFile", () -> describe(ch.map(MapMode.PRIVATE, 20, 0)));
      t.step("grown", () -> Files.size(f));
    }
    FileChannel closed = FileChannel.open(f, READ);
    closed.close();
    t.step("closed", () -> closed.map(MapMode.READ_ONLY, 0, 1));
  }

  static void contentAtMapTime(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    MappedByteBuffer whole;
    MappedByteBuffer middle;
    try (FileChannel ch = FileChannel.open(f, READ)) {
      whole = ch.map(MapMode.READ_ONLY, 0, 10);
      middle = ch.map(MapMode.READ_ONLY, 3, 4);
      t.step("whole", () -> describe(whole));
      t.step("middle", () -> describe(middle));
      t.step("positionUntouched", ch::position);
      t.step("putReadOnly", () -> whole.put(0, (byte) 'x'));
    }
    t.step("outlivesTheChannel", () -> describe(whole));
    t.step("isLoaded", () -> whole.load() == whole);
    Path big = root.resolve("big");
    byte[] bytes = new byte[3 * 1024 * 1024 + 5];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31 + (i >> 12));
    }
    Files.write(big, bytes);
    try (FileChannel ch = FileChannel.open(big, READ)) {
      MappedByteBuffer b = ch.map(MapMode.READ_ONLY, 4097, bytes.length - 4097);
      t.step("bigMatches", () -> {
        for (int i = 0; i < b.capacity(); i++) {
          if (b.get(i) != bytes[4097 + i]) {
            return "differs at " + i;
          }
        }
        return "same " + b.capacity();
      });
    }
  }

  static void privateMapping(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    MappedByteBuffer b;
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      b = ch.map(MapMode.PRIVATE, 2, 6);
      t.step("mapped", () -> describe(b));
      b.put(0, (byte) 'X').put(5, (byte) 'Y');
      t.step("bufferSeesItsWrites", () -> describe(b));
      t.step("fileDoesNot", () -> Files.readString(f));
      b.force();
      t.step("notEvenForced", () -> Files.readString(f));
      ByteBuffer r = ByteBuffer.allocate(10);
      ch.read(r, 0);
      t.step("channelDoesNot", () -> new String(r.array(), UTF_8));
    }
  }

  static void grows(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      t.step("readOnlyPastTheEnd", () -> describe(ch.map(MapMode.READ_ONLY, 8, 8)));
      t.step("size", () -> Files.size(f));
      t.step("content", () -> Files.readString(f).replace('\0', '.'));
      t.step("privatePastTheEnd", () -> describe(ch.map(MapMode.PRIVATE, 20, 4)));
      t.step("size2", () -> Files.size(f));
      t.step("within", () -> describe(ch.map(MapMode.READ_ONLY, 0, 4)));
      t.step("size3", () -> Files.size(f));
    }
  }

  static void readWrite(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    MappedByteBuffer b;
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      b = ch.map(MapMode.READ_WRITE, 0, 10);
      t.step("mapped", () -> describe(b));
      b.put(1, (byte) 'A').put(9, (byte) 'Z');
      t.step("fileSeesTheBuffer", () -> Files.readString(f));
      ByteBuffer r = ByteBuffer.allocate(10);
      ch.read(r, 0);
      t.step("channelSeesTheBuffer", () -> new String(r.array(), UTF_8));
      ch.write(ByteBuffer.wrap("cd".getBytes(UTF_8)), 2);
      t.step("bufferSeesTheChannel", () -> describe(b));
      Files.writeString(f, "wxyz", APPEND);
      t.step("appendLeavesTheMapping", () -> describe(b));
      t.step("size", () -> Files.size(f));
      b.force();
      t.step("forced", () -> Files.readString(f));
      t.step("growing", () -> describe(ch.map(MapMode.READ_WRITE, 12, 6)));
      t.step("grown", () -> Files.readString(f).replace('\0', '.'));
    }
    b.put(0, (byte) '!');
    t.step("afterClose", () -> Files.readString(f).replace('\0', '.'));
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      MappedByteBuffer tail = ch.map(MapMode.READ_WRITE, 15, 3);
      tail.put(0, (byte) '#');
      MappedByteBuffer ro = ch.map(MapMode.READ_ONLY, 0, 18);
      t.step("twoMappingsOneFile", () -> describe(ro));
    }
  }

  static void readOnlyCoherent(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("f"), "0123456789");
    MappedByteBuffer b;
    try (FileChannel ch = FileChannel.open(f, READ)) {
      b = ch.map(MapMode.READ_ONLY, 0, 10);
    }
    try (FileChannel w = FileChannel.open(f, WRITE)) {
      w.write(ByteBuffer.wrap("abc".getBytes(UTF_8)), 4);
    }
    t.step("seesTheWrite", () -> describe(b));
    try (FileChannel ch = FileChannel.open(f, READ, WRITE)) {
      MappedByteBuffer p = ch.map(MapMode.PRIVATE, 0, 10);
      p.put(0, (byte) 'P');
      ch.write(ByteBuffer.wrap("Q".getBytes(UTF_8)), 9);
      t.step("privatePageIsItsOwn", () -> describe(p));
      t.step("readOnlyUnaffected", () -> describe(b));
    }
  }
}
