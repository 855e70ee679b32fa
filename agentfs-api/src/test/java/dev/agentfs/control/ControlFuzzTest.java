package dev.agentfs.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import dev.agentfs.control.ControlFrames.Op;
import dev.agentfs.control.ControlFrames.Reply;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.vfs.Caller;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * 100,000 random and mutated frames into {@link ControlServer#handle}: it never throws and
 * always answers a well-formed reply frame. Seeded: a failure prints the seed and iteration,
 * and {@code -Dcontrol.fuzz.seed=N} replays it.
 */
class ControlFuzzTest {
  private static final int ITERATIONS = 100_000;
  private static final Set<Integer> STATUSES = Set.of(0, Errno.EINVAL.code(),
      Errno.ENOSYS.code(), Errno.ESTALE.code(), Errno.EEXIST.code(), Errno.ENOENT.code(),
      Errno.EBUSY.code());

  @Test
  void randomAndMutatedFramesNeverBreakTheServer() {
    long seed = Long.getLong("control.fuzz.seed", 0x5EED_AF01L);
    Random rnd = new Random(seed);
    FakeControlPlane plane = new FakeControlPlane();
    List<TreeDiff.Change> big = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      big.add(FakeControlPlane.change(TreeDiff.Kind.ADDED, "/p/" + i, null));
    }
    plane.diff = big;
    ControlServer server = new ControlServer();
    List<byte[]> seeds = validFrames();
    int[] byStatus = new int[256];
    long start = System.nanoTime();
    for (int it = 0; it < ITERATIONS; it++) {
      byte[] frame = next(rnd, seeds);
      Caller caller = new Caller(1 + rnd.nextInt(4), 1000, 1000, new int[0]);
      byte[] out;
      try {
        out = server.reply(caller, frame, plane);
      } catch (Throwable t) {
        throw new AssertionError("seed " + seed + " iteration " + it + ": threw", t);
      }
      try {
        assertTrue(out.length <= ControlFrames.FRAME_SIZE);
        Reply r = ControlFrames.decodeReply(out);
        assertTrue(STATUSES.contains(r.status()), "status " + r.status() + " " + r.text());
        assertEquals(ControlFrames.REPLY_HEADER_SIZE + r.payload().length, out.length);
        if (r.status() != 0) {
          assertTrue(r.text().startsWith(Errno.of(r.status()).name()), r.text());
          assertTrue(!r.more());
        } else if (cursorOf(frame) == 0 && !r.more()) {
          // A whole reply is UTF-8 JSON lines. Pages may cut a long line anywhere, and a
          // mutated cursor may point anywhere, so only whole replies are checked.
          ControlFrames.utf8(r.payload(), 0, r.payload().length);
        }
        byStatus[r.status()]++;
      } catch (AgentFsException | AssertionError e) {
        throw new AssertionError("seed " + seed + " iteration " + it + ": bad reply", e);
      }
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(byStatus[0] > 1000, "some frames were valid: " + byStatus[0]);
    assertTrue(byStatus[Errno.EINVAL.code()] > 10_000, "most were not");
    System.out.println("fuzz: " + ITERATIONS + " frames in " + ms + " ms, ok=" + byStatus[0]
        + " EINVAL=" + byStatus[Errno.EINVAL.code()]);
  }

  /** The request's cursor field (bytes 8..11), or -1 when the frame is too short. */
  private static int cursorOf(byte[] frame) {
    return frame.length < 12 ? -1 : java.nio.ByteBuffer.wrap(frame)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(8);
  }

  private static List<byte[]> validFrames() {
    List<byte[]> out = new ArrayList<>();
    try {
      for (Op op : Op.values()) {
        out.add(ControlFrames.encodeRequest(op, 0, ControlFramesTest.sample(op)));
        List<Map.Entry<String, String>> ps = new ArrayList<>();
        for (String k : op.requiredKeys()) {
          ps.add(Map.entry(k, k.equals("pid") ? "17" : "x"));
        }
        out.add(ControlFrames.encodeRequest(op, 0, ps));
        ps.add(Map.entry("force", "1"));
        out.add(ControlFrames.encodeRequest(op, 0, ps));
      }
      out.add(ControlFrames.encodeRequest(Op.DIFF, 8100, List.of(Map.entry("from", "a"),
          Map.entry("to", "b"))));
    } catch (AgentFsException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  private static final byte[] INTERESTING = {0, 1, 2, '\n', '=', (byte) 0x7f, (byte) 0x80,
      (byte) 0xC3, (byte) 0xE2, (byte) 0xED, (byte) 0xF0, (byte) 0xFF, '0', '1', 'A'};

  private static byte[] next(Random rnd, List<byte[]> seeds) {
    int mode = rnd.nextInt(10);
    if (mode == 0) {
      byte[] f = new byte[rnd.nextInt(64)];
      rnd.nextBytes(f);
      return f;
    }
    if (mode == 1) {
      // a valid header with a random op, cursor and payload
      byte[] p = new byte[rnd.nextInt(200)];
      for (int i = 0; i < p.length; i++) {
        p[i] = rnd.nextInt(4) == 0 ? INTERESTING[rnd.nextInt(INTERESTING.length)]
            : (byte) ('a' + rnd.nextInt(26));
      }
      int len = rnd.nextInt(8) == 0 ? rnd.nextInt() : p.length;
      int cursor = rnd.nextInt(4) == 0 ? rnd.nextInt() : 0;
      return ControlFrames.encodeRawRequest(ControlFrames.MAGIC, 1, rnd.nextInt(16), cursor,
          p, len);
    }
    byte[] f = seeds.get(rnd.nextInt(seeds.size())).clone();
    if (mode == 2) {
      return f; // unchanged: a valid request
    }
    int mutations = 1 + rnd.nextInt(4);
    for (int m = 0; m < mutations; m++) {
      switch (rnd.nextInt(6)) {
        case 0 -> { // flip a bit
          if (f.length > 0) {
            int i = rnd.nextInt(f.length);
            f[i] ^= (byte) (1 << rnd.nextInt(8));
          }
        }
        case 1 -> { // an interesting byte
          if (f.length > 0) {
            f[rnd.nextInt(f.length)] = INTERESTING[rnd.nextInt(INTERESTING.length)];
          }
        }
        case 2 -> f = java.util.Arrays.copyOf(f, rnd.nextInt(f.length + 1)); // truncate
        case 3 -> { // pad, as the kernel does, with zeros or garbage
          byte[] g = java.util.Arrays.copyOf(f, f.length + rnd.nextInt(64));
          if (rnd.nextBoolean()) {
            for (int i = f.length; i < g.length; i++) {
              g[i] = (byte) rnd.nextInt();
            }
          }
          f = g;
        }
        case 4 -> { // a header field replaced
          if (f.length >= 16) {
            int at = new int[] {4, 6, 8, 12}[rnd.nextInt(4)];
            int v = rnd.nextBoolean() ? rnd.nextInt(20) : rnd.nextInt();
            f[at] = (byte) v;
            f[at + 1] = (byte) (v >>> 8);
            if (at >= 8) {
              f[at + 2] = (byte) (v >>> 16);
              f[at + 3] = (byte) (v >>> 24);
            }
          }
        }
        default -> { // payload text spliced from another frame
          byte[] o = seeds.get(rnd.nextInt(seeds.size()));
          if (o.length > 16 && f.length > 16) {
            String a = new String(f, 16, f.length - 16, StandardCharsets.ISO_8859_1);
            String b = new String(o, 16, o.length - 16, StandardCharsets.ISO_8859_1);
            byte[] p = (a.substring(0, rnd.nextInt(a.length() + 1))
                + b.substring(rnd.nextInt(b.length() + 1))).getBytes(
                    StandardCharsets.ISO_8859_1);
            f = ControlFrames.encodeRawRequest(ControlFrames.MAGIC, 1, f[6] & 0xff, 0, p,
                p.length);
          }
        }
      }
    }
    return f;
  }
}
