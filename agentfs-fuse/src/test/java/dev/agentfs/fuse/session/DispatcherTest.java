package dev.agentfs.fuse.session;

import static org.junit.jupiter.api.Assertions.*;

import dev.agentfs.Configuration;
import dev.agentfs.fuse.MemVfs;
import dev.agentfs.fuse.protocol.InitFlag;
import dev.agentfs.fuse.protocol.Opcode;
import dev.agentfs.fuse.protocol.Wire;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.Vfs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dispatcher at the protocol level: requests as bytes in, replies as bytes out, no mount. */
class DispatcherTest {
  private static final int ENOSYS = 38;
  private static final int EIO = 5;
  private static final int ENOENT = 2;
  private static final int ERANGE = 34;

  private final List<ByteBuffer> sent = new ArrayList<>();
  private MemVfs vfs;
  private Dispatcher dispatcher;
  private Dispatcher.Context ctx;
  private long nextUnique = 100;

  @BeforeEach
  void setUp() {
    vfs = new MemVfs();
    dispatcher = dispatcher(Configuration.builder().threads(1).build());
    Reply reply = new Reply(Wire.allocate(1 << 17), m -> {
      ByteBuffer copy = ByteBuffer.allocate(m.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      copy.put(m.duplicate()).flip();
      sent.add(copy);
      return copy.remaining();
    });
    ctx = new Dispatcher.Context(Wire.allocate(1 << 17), reply);
  }

  private Dispatcher dispatcher(Configuration c) {
    return new Dispatcher(vfs, c, new InitNegotiator(c, 256), n -> {});
  }

  /** Sends one request; returns the replies it produced. */
  private List<ByteBuffer> call(Dispatcher d, int opcode, long nodeid, Consumer<ByteBuffer> body) {
    ByteBuffer in = ctx.in;
    in.clear();
    for (int i = 0; i < 4096; i++) {
      in.put(i, (byte) 0);
    }
    in.position(Wire.InHeader.SIZE);
    body.accept(in);
    int len = in.position();
    new Wire.InHeader(len, opcode, nextUnique++, nodeid, 0, 0, 4242, 0).encode(in, 0);
    in.clear();
    int before = sent.size();
    d.dispatch(ctx, len);
    return new ArrayList<>(sent.subList(before, sent.size()));
  }

  private List<ByteBuffer> call(int opcode, long nodeid, Consumer<ByteBuffer> body) {
    return call(dispatcher, opcode, nodeid, body);
  }

  private static Consumer<ByteBuffer> name(String n) {
    return b -> b.put(n.getBytes(StandardCharsets.UTF_8)).put((byte) 0);
  }

  private static ByteBuffer only(List<ByteBuffer> replies) {
    assertEquals(1, replies.size(), "exactly one reply");
    return replies.get(0);
  }

  private static int error(ByteBuffer r) {
    return -r.getInt(4);
  }

  private void init() {
    ByteBuffer r = only(call(Opcode.INIT.code(), 0, b -> {
      new Wire.InitIn(7, 45, 1 << 17, -1L).encode(b, b.position());
      b.position(b.position() + Wire.InitIn.SIZE);
    }));
    assertEquals(0, error(r));
  }

  @Test
  void unknownOpcodeIsAnsweredEnosys() {
    for (int code : new int[] {7, 99, 54, 1000}) {
      long unique = nextUnique;
      ByteBuffer r = only(call(code, 1, b -> b.putLong(0)));
      assertEquals(16, r.getInt(0), "header only");
      assertEquals(ENOSYS, error(r));
      assertEquals(unique, r.getLong(8), "unique echoed");
    }
  }

  @Test
  void everyOpcodeIsAnsweredExactlyOnceOrNotAtAll() {
    for (Opcode op : Opcode.values()) {
      List<ByteBuffer> replies = call(op.code(), Vfs.ROOT, b -> b.put(new byte[256]));
      assertEquals(op.replies() ? 1 : 0, replies.size(), op.name());
    }
  }

  @Test
  void initAnswersTheNegotiatedRecord() {
    ByteBuffer r = only(call(Opcode.INIT.code(), 0, b -> {
      new Wire.InitIn(7, 99, 1 << 16, InitFlag.maskOf(InitFlag.ASYNC_READ, InitFlag.SPLICE_READ,
          InitFlag.INIT_EXT, InitFlag.SETXATTR_EXT)).encode(b, b.position());
      b.position(b.position() + Wire.InitIn.SIZE);
    }));
    assertEquals(16 + Wire.InitOut.SIZE, r.getInt(0));
    Wire.InitOut out = Wire.InitOut.decode(r, 16);
    assertEquals(7, out.major());
    assertEquals(Wire.KERNEL_MINOR_VERSION, out.minor());
    assertEquals(InitFlag.maskOf(InitFlag.ASYNC_READ, InitFlag.INIT_EXT, InitFlag.SETXATTR_EXT),
        out.flags());
    assertNotNull(dispatcher.negotiated());
  }

  @Test
  void handlerBugBecomesEioAndTheNextRequestWorks() {
    vfs.failWith("getattr", new IllegalStateException("bug in the filesystem"));
    assertEquals(EIO, error(only(call(Opcode.GETATTR.code(), 1, b -> b.put(new byte[16])))));
    vfs.heal("getattr");
    ByteBuffer r = only(call(Opcode.GETATTR.code(), 1, b -> b.put(new byte[16])));
    assertEquals(0, error(r));
    Wire.AttrOut a = Wire.AttrOut.decode(r, 16);
    assertEquals(1, a.attr().ino());
    assertTrue(Modes.isDir(a.attr().mode()));
  }

  @Test
  void lookupAndForgetKeepReferences() {
    assertEquals(0, error(only(call(Opcode.MKDIR.code(), 1, b -> {
      b.putInt(0755).putInt(022);
      name("d").accept(b);
    }))));
    long ino = vfs.inoOf("d");
    assertEquals(1, vfs.refs(ino));
    ByteBuffer r = only(call(Opcode.LOOKUP.code(), 1, name("d")));
    Wire.EntryOut e = Wire.EntryOut.decode(r, 16);
    assertEquals(ino, e.nodeid());
    assertEquals(3600, e.entryValid(), "the default entry timeout is one hour");
    assertEquals(2, vfs.refs(ino));
    assertEquals(0, call(Opcode.FORGET.code(), ino, b -> b.putLong(2)).size());
    assertEquals(0, vfs.refs(ino));
    assertEquals(0, call(Opcode.BATCH_FORGET.code(), 0, b -> b.putInt(1).putInt(0)
        .putLong(ino).putLong(5)).size());
  }

  @Test
  void negativeLookupIsCachedOnlyWithATimeout() {
    Dispatcher none = dispatcher(Configuration.builder().negativeTimeout(Duration.ZERO).build());
    assertEquals(ENOENT, error(only(call(none, Opcode.LOOKUP.code(), 1, name("nope")))));
    Dispatcher neg = dispatcher(Configuration.builder().negativeTimeout(Duration.ofSeconds(2))
        .build());
    ByteBuffer r = only(call(neg, Opcode.LOOKUP.code(), 1, name("nope")));
    assertEquals(0, error(r));
    Wire.EntryOut e = Wire.EntryOut.decode(r, 16);
    assertEquals(0, e.nodeid());
    assertEquals(2, e.entryValid());
  }

  @Test
  void createWriteReadThroughTheWire() {
    ByteBuffer c = only(call(Opcode.CREATE.code(), 1, b -> {
      b.putInt(Modes.O_RDWR).putInt(Modes.S_IFREG | 0644).putInt(022).putInt(0);
      name("f").accept(b);
    }));
    assertEquals(16 + Wire.EntryOut.SIZE + Wire.OpenOut.SIZE, c.getInt(0));
    long ino = Wire.EntryOut.decode(c, 16).nodeid();
    long fh = Wire.OpenOut.decode(c, 16 + Wire.EntryOut.SIZE).fh();

    byte[] data = "hello, fuse".getBytes(StandardCharsets.UTF_8);
    ByteBuffer w = only(call(Opcode.WRITE.code(), ino, b -> {
      new Wire.WriteIn(fh, 3, data.length, 0, 0, 0).encode(b, b.position());
      b.position(b.position() + Wire.WriteIn.SIZE).put(data);
    }));
    assertEquals(data.length, w.getInt(16));

    ByteBuffer r = only(call(Opcode.READ.code(), ino, b -> {
      new Wire.ReadIn(fh, 0, 4096, 0, 0, 0).encode(b, b.position());
      b.position(b.position() + Wire.ReadIn.SIZE);
    }));
    assertEquals(16 + 3 + data.length, r.getInt(0));
    byte[] got = new byte[data.length];
    r.get(16 + 3, got);
    assertArrayEquals(data, got);
    assertEquals(0, r.get(16));
  }

  @Test
  void xattrSizeProbeAndErange() {
    init(); // grants SETXATTR_EXT: setxattr_in is 16 bytes from here on
    byte[] value = "12345".getBytes(StandardCharsets.UTF_8);
    assertEquals(0, error(only(call(Opcode.SETXATTR.code(), 1, b -> {
      b.putInt(value.length).putInt(0).putInt(0).putInt(0);
      name("user.k").accept(b);
      b.put(value);
    }))));

    ByteBuffer probe = only(call(Opcode.GETXATTR.code(), 1, b -> {
      b.putInt(0).putInt(0);
      name("user.k").accept(b);
    }));
    assertEquals(16 + 8, probe.getInt(0));
    assertEquals(5, probe.getInt(16));

    assertEquals(ERANGE, error(only(call(Opcode.GETXATTR.code(), 1, b -> {
      b.putInt(2).putInt(0);
      name("user.k").accept(b);
    }))));

    ByteBuffer full = only(call(Opcode.GETXATTR.code(), 1, b -> {
      b.putInt(64).putInt(0);
      name("user.k").accept(b);
    }));
    assertEquals(16 + 5, full.getInt(0));

    ByteBuffer list = only(call(Opcode.LISTXATTR.code(), 1, b -> b.putInt(0).putInt(0)));
    assertEquals("user.k\0".length(), list.getInt(16));
    assertEquals(ERANGE, error(only(call(Opcode.LISTXATTR.code(), 1,
        b -> b.putInt(3).putInt(0)))));
    assertEquals(61, error(only(call(Opcode.GETXATTR.code(), 1, b -> {
      b.putInt(64).putInt(0);
      name("user.missing").accept(b);
    }))), "ENODATA passes through");
  }

  @Test
  void readdirPagesWithStableOffsets() {
    for (String n : new String[] {"a", "bb", "ccc"}) {
      call(Opcode.MKNOD.code(), 1, b -> {
        b.putInt(Modes.S_IFREG | 0644).putInt(0).putInt(0).putInt(0);
        name(n).accept(b);
      });
    }
    // Room for exactly two 32-byte dirents per call.
    List<String> names = new ArrayList<>();
    long off = 0;
    for (int guard = 0; guard < 10; guard++) {
      long from = off;
      ByteBuffer r = only(call(Opcode.READDIR.code(), 1, b -> {
        new Wire.ReadIn(0, from, 64, 0, 0, 0).encode(b, b.position());
        b.position(b.position() + Wire.ReadIn.SIZE);
      }));
      int len = r.getInt(0) - 16;
      if (len == 0) {
        break;
      }
      for (int p = 16; p < 16 + len; ) {
        Wire.Dirent d = Wire.Dirent.decode(r, p);
        names.add(new String(d.name(), StandardCharsets.UTF_8));
        off = d.off();
        p += Wire.Dirent.size(d.name().length);
      }
    }
    assertEquals(List.of(".", "..", "a", "bb", "ccc"), names);
  }

  @Test
  void readdirplusReferencesAllButDots() {
    call(Opcode.MKNOD.code(), 1, b -> {
      b.putInt(Modes.S_IFREG | 0644).putInt(0).putInt(0).putInt(0);
      name("x").accept(b);
    });
    long ino = vfs.inoOf("x");
    long before = vfs.refs(ino);
    ByteBuffer r = only(call(Opcode.READDIRPLUS.code(), 1, b -> {
      new Wire.ReadIn(0, 0, 4096, 0, 0, 0).encode(b, b.position());
      b.position(b.position() + Wire.ReadIn.SIZE);
    }));
    int p = 16;
    List<Long> nodeids = new ArrayList<>();
    while (p < r.getInt(0)) {
      Wire.Direntplus d = Wire.Direntplus.decode(r, p);
      nodeids.add(d.entry().nodeid());
      p += Wire.Direntplus.size(d.dirent().name().length);
    }
    assertEquals(List.of(0L, 0L, ino), nodeids, "dots carry no reference");
    assertEquals(before + 1, vfs.refs(ino));
  }

  @Test
  void locksAndFlock() {
    assertEquals(0, error(only(call(Opcode.SETLK.code(), 1, b -> {
      b.putLong(1).putLong(2);
      Wire.FileLock.encode(b, b.position(), 0, Long.MAX_VALUE, Modes.F_WRLCK, 1);
      b.position(b.position() + 24).putInt(Wire.FUSE_LK_FLOCK).putInt(0);
    }))));
    assertEquals(1, vfs.calls("flock"));
    assertEquals(0, vfs.calls("setlk"));
    ByteBuffer g = only(call(Opcode.GETLK.code(), 1, b -> {
      b.putLong(1).putLong(2);
      Wire.FileLock.encode(b, b.position(), 0, 99, Modes.F_RDLCK, 1);
      b.position(b.position() + 24).putInt(0).putInt(0);
    }));
    assertEquals(Modes.F_UNLCK, Wire.FileLock.decode(g, 16).type());
  }

  @Test
  void ioctlIsEnottyAndStatxEnosys() {
    assertEquals(25, error(only(call(Opcode.IOCTL.code(), 1, b -> b.put(new byte[32])))));
    assertEquals(ENOSYS, error(only(call(Opcode.STATX.code(), 1, b -> b.put(new byte[24])))));
    assertEquals(ENOSYS, error(only(call(Opcode.POLL.code(), 1, b -> b.put(new byte[24])))));
  }

  @Test
  void aSecondReplyIsRefused() {
    Reply r = ctx.reply;
    r.begin(1, Opcode.GETATTR.code());
    r.error(EIO);
    assertThrows(IllegalStateException.class, () -> r.error(EIO));
    assertEquals(1, sent.size());
  }
}
