package dev.agentfs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.*;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpcodeTest {
  @Test
  void codesAreUniqueAndRoundTrip() {
    Set<Integer> seen = new HashSet<>();
    for (Opcode o : Opcode.values()) {
      assertTrue(seen.add(o.code()), "duplicate " + o);
      assertSame(o, Opcode.of(o.code()));
    }
  }

  @Test
  void kernelNumbersMatchTheHeader() {
    assertEquals(1, Opcode.LOOKUP.code());
    assertEquals(26, Opcode.INIT.code());
    assertEquals(42, Opcode.BATCH_FORGET.code());
    assertEquals(45, Opcode.RENAME2.code());
    assertEquals(47, Opcode.COPY_FILE_RANGE.code());
    assertEquals(51, Opcode.TMPFILE.code());
    assertEquals(52, Opcode.STATX.code());
    assertEquals(53, Opcode.COPY_FILE_RANGE_64.code());
    assertEquals(4096, Opcode.CUSE_INIT.code());
  }

  @Test
  void onlyForgetsInterruptAndNotifyReplyGoUnanswered() {
    EnumSet<Opcode> silent = EnumSet.noneOf(Opcode.class);
    for (Opcode o : Opcode.values()) {
      if (!o.replies()) {
        silent.add(o);
      }
    }
    assertEquals(EnumSet.of(Opcode.FORGET, Opcode.BATCH_FORGET, Opcode.INTERRUPT,
        Opcode.NOTIFY_REPLY), silent);
  }

  @Test
  void unknownCodesAreNullAndStillNamed() {
    assertNull(Opcode.of(7)); // 7 was never assigned
    assertNull(Opcode.of(54));
    assertNull(Opcode.of(-1));
    assertNull(Opcode.of(1 << 20));
    assertEquals("UNKNOWN(99)", Opcode.nameOf(99));
    assertEquals("READ", Opcode.nameOf(15));
  }
}
