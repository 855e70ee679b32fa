package dev.agentfs.core;

import static dev.agentfs.core.Fx.*;
import static dev.agentfs.vfs.Modes.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.vfs.SetAttr;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnospcTest {
  static final int CHUNK = 4096;
  static final long CAP = 64 * CHUNK;

  static byte[] fill(int n, int v) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) v);
    return b;
  }

  @Test
  void writesPastCapacityFailAndLoseNothing() throws AgentFsException {
    Fx fx = new Fx(MemoryBackstore.builder().capacity(CAP).chunkSize(CHUNK).build());
    BranchFs v = fx.main();
    var br = fx.fs.main();
    br.write("/keep", fill(10 * CHUNK, 1));
    long f = Fx.file(v, ROOT, Vfs.ROOT, "grow", 0644, "");
    long fh = v.open(ROOT, f, O_RDWR);
    long off = 0;
    Errno failed = null;
    for (int i = 0; i < 200 && failed == null; i++) {
      try {
        v.write(ROOT, f, fh, off, ByteBuffer.wrap(fill(CHUNK, 2 + i % 100)));
        off += CHUNK;
      } catch (AgentFsException e) {
        failed = e.errno();
      }
    }
    assertEquals(Errno.ENOSPC, failed);
    assertTrue(fx.store.usedBytes() <= CAP);
    final long end = off;
    assertEquals(end, attr(v, f).size(), "a failed write changed the size");
    Map<String, String> before = dump(v.st.table);
    // more failures of every kind that allocates
    expect(Errno.ENOSPC, () -> v.write(ROOT, f, fh, end + CHUNK * 5L, ByteBuffer.wrap(fill(10, 9))));
    expect(Errno.ENOSPC, () -> br.write("/other", fill(CHUNK, 3)));
    assertEquals(0, br.stat("/other").size());
    br.delete("/other");
    expect(Errno.ENOSPC, () -> v.fallocate(ROOT, f, fh, 0, end, CHUNK * 4L));
    assertEquals(before, dump(v.st.table));
    // nothing already written is lost
    assertArrayEquals(fill(10 * CHUNK, 1), br.read("/keep"));
    byte[] all = readAll(v, f, fh);
    for (int i = 0; i < off / CHUNK; i++) {
      assertEquals((byte) (2 + i % 100), all[i * CHUNK + 17], "chunk " + i);
    }
    // free space: writing works again
    v.release(f, fh);
    br.delete("/keep");
    br.write("/again", fill(8 * CHUNK, 5));
    assertArrayEquals(fill(8 * CHUNK, 5), br.read("/again"));
    assertEquals(List_of(), check(v.st.table));
  }

  static java.util.List<String> List_of() {
    return java.util.List.of();
  }

  @Test
  void cowAfterSnapshotRespectsCapacityAndSnapshotDeletionFreesIt() throws AgentFsException {
    Fx fx = new Fx(MemoryBackstore.builder().capacity(CAP).chunkSize(CHUNK).build());
    BranchFs v = fx.main();
    var br = fx.fs.main();
    br.write("/f", fill(40 * CHUNK, 1));
    fx.core.snapshot("main", "s");
    // overwriting after the snapshot needs new chunks: only 24 are free
    long f = v.lookupNoRef(ROOT, Vfs.ROOT, b("f"));
    long fh = v.open(ROOT, f, O_WRONLY);
    Errno failed = null;
    int done = 0;
    for (int i = 0; i < 40 && failed == null; i++) {
      try {
        v.write(ROOT, f, fh, (long) i * CHUNK, ByteBuffer.wrap(fill(CHUNK, 7)));
        done++;
      } catch (AgentFsException e) {
        failed = e.errno();
      }
    }
    assertEquals(Errno.ENOSPC, failed);
    assertTrue(done >= 20 && done <= 24, "done " + done);
    // the snapshot is intact
    fx.core.createBranch("b", "s");
    assertArrayEquals(fill(40 * CHUNK, 1), fx.fs.branch("b").read("/f"));
    fx.core.deleteBranch("b");
    fx.core.deleteSnapshot("s");
    for (int i = done; i < 40; i++) {
      v.write(ROOT, f, fh, (long) i * CHUNK, ByteBuffer.wrap(fill(CHUNK, 7)));
    }
    v.release(f, fh);
    assertArrayEquals(fill(40 * CHUNK, 7), br.read("/f"));
    assertEquals(40L * CHUNK, fx.store.usedBytes());
    // truncating frees too
    v.setattr(ROOT, f, 0, SetAttr.size(CHUNK));
    assertEquals(CHUNK, fx.store.usedBytes());
  }
}
