package dev.agentfs.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JSON reader reads back what the protocol's writer writes, and rejects the rest. */
class JsonReaderTest {
  @Test
  void readsBackWhatTheWriterWrites() throws Exception {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("s", "a \"q\" \\ \n\t\u0001 é \ud83d\ude00");
    o.put("n", 42L);
    o.put("neg", -7L);
    o.put("d", 1.5);
    o.put("t", true);
    o.put("f", false);
    o.put("z", null);
    o.put("l", new ArrayList<>(Arrays.asList(1L, "x", null, List.of(), Map.of())));
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("pid", 12L);
    o.put("o", inner);
    assertEquals(o, JsonReader.parse(JsonLines.write(o)));
    assertEquals(List.of(o, Map.of()), JsonReader.objects(
        new JsonLines().line(o).line(Map.of()).toString() + "\n"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "tru", "\"x", "1 2",
      "{\"a\":1}x", "\"\\q\"", "-", "{1:2}"})
  void malformedJsonIsEio(String bad) {
    AgentFsException e = assertThrows(AgentFsException.class, () -> JsonReader.parse(bad));
    assertEquals(Errno.EIO, e.errno());
  }

  @Test
  void aLineThatIsNoObjectIsEio() {
    assertEquals(Errno.EIO, assertThrows(AgentFsException.class,
        () -> JsonReader.objects("{}\n[1]\n")).errno());
  }
}
