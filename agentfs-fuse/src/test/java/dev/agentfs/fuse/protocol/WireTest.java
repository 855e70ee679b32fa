package dev.agentfs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.*;

import dev.agentfs.vfs.Attr;
import dev.agentfs.vfs.Modes;
import dev.agentfs.vfs.StatFs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Byte fixtures for the wire structs: offsets and sizes as in include/uapi/linux/fuse.h. */
class WireTest {
  private static ByteBuffer buf(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer hex(String h) {
    byte[] b = HexFormat.of().parseHex(h.replace(" ", ""));
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static String hexOf(ByteBuffer b, int off, int len) {
    byte[] out = new byte[len];
    b.get(off, out);
    return HexFormat.of().formatHex(out);
  }

  @Test
  void structSizes() {
    assertEquals(40, Wire.InHeader.SIZE);
    assertEquals(16, Wire.OutHeader.SIZE);
    assertEquals(88, Wire.Attr.SIZE);
    assertEquals(128, Wire.EntryOut.SIZE);
    assertEquals(104, Wire.AttrOut.SIZE);
    assertEquals(64, Wire.InitIn.SIZE);
    assertEquals(64, Wire.InitOut.SIZE);
    assertEquals(88, Wire.SetattrIn.SIZE);
    assertEquals(40, Wire.ReadIn.SIZE);
    assertEquals(40, Wire.WriteIn.SIZE);
    assertEquals(48, Wire.LkIn.SIZE);
    assertEquals(56, Wire.CopyFileRangeIn.SIZE);
    assertEquals(80, Wire.Kstatfs.SIZE);
    assertEquals(16, Wire.OpenOut.SIZE);
    assertEquals(16, Wire.SetxattrIn.SIZE);
    assertEquals(8, Wire.SetxattrIn.COMPAT_SIZE);
  }

  @Test
  void ioctlNumbers() {
    assertEquals(0x8004E500, Wire.FUSE_DEV_IOC_CLONE);
    assertEquals(0x4010E501, Wire.FUSE_DEV_IOC_BACKING_OPEN);
    assertEquals(0x4004E502, Wire.FUSE_DEV_IOC_BACKING_CLOSE);
    assertEquals(0xE503, Wire.FUSE_DEV_IOC_SYNC_INIT);
  }

  @Test
  void inHeaderFromBytes() {
    // len=56 opcode=1 unique=0x1122 nodeid=1 uid=1000 gid=100 pid=4242 extlen=0
    ByteBuffer b = hex("38000000 01000000 2211000000000000 0100000000000000"
        + " e8030000 64000000 92100000 0000 0000");
    Wire.InHeader h = Wire.InHeader.decode(b, 0);
    assertEquals(new Wire.InHeader(56, 1, 0x1122, 1, 1000, 100, 4242, 0), h);
    ByteBuffer again = buf(40);
    h.encode(again, 0);
    assertEquals(hexOf(b, 0, 40), hexOf(again, 0, 40));
  }

  @Test
  void outHeaderCarriesNegativeErrno() {
    ByteBuffer b = buf(16);
    Wire.OutHeader.encode(b, 0, 16, -38, 7);
    assertEquals("10000000" + "daffffff" + "0700000000000000", hexOf(b, 0, 16));
  }

  @Test
  void initInJoinsFlags2OnlyWithInitExt() {
    ByteBuffer b = buf(64);
    new Wire.InitIn(7, 45, 131072, InitFlag.INIT_EXT.mask() | InitFlag.PASSTHROUGH.mask())
        .encode(b, 0);
    assertEquals("07000000" + "2d000000" + "00000200" + "00000040" + "20000000",
        hexOf(b, 0, 20));
    Wire.InitIn in = Wire.InitIn.decode(b, 0, 64);
    assertTrue(InitFlag.PASSTHROUGH.in(in.flags()));
    // Without INIT_EXT the flags2 word is not to be trusted.
    b.putInt(12, 0);
    assertFalse(InitFlag.PASSTHROUGH.in(Wire.InitIn.decode(b, 0, 64).flags()));
    // An old 16-byte init_in has no flags2 at all.
    b.putInt(12, (int) InitFlag.INIT_EXT.mask());
    assertFalse(InitFlag.PASSTHROUGH.in(Wire.InitIn.decode(b, 0, 16).flags()));
  }

  @Test
  void initOutLayout() {
    ByteBuffer b = buf(64);
    long flags = InitFlag.ASYNC_READ.mask() | InitFlag.PASSTHROUGH.mask();
    new Wire.InitOut(7, 45, 0x20000, flags, 64, 48, 1 << 20, 1, 256, 0, 1, 0).encode(b, 0);
    assertEquals(7, b.getInt(0));
    assertEquals(45, b.getInt(4));
    assertEquals(0x20000, b.getInt(8));
    assertEquals(1, b.getInt(12));
    assertEquals(64, b.getShort(16));
    assertEquals(48, b.getShort(18));
    assertEquals(1 << 20, b.getInt(20));
    assertEquals(1, b.getInt(24));
    assertEquals(256, b.getShort(28));
    assertEquals(1 << 5, b.getInt(32)); // PASSTHROUGH is bit 37 -> flags2 bit 5
    assertEquals(1, b.getInt(36)); // max_stack_depth
    assertEquals(flags, Wire.InitOut.decode(b, 0).flags());
  }

  @Test
  void attrAndEntryOut() {
    Attr a = new Attr(42, Modes.S_IFREG | 0644, 1, 1000, 100, 0, 5, 1,
        1_500_000_000L, 2_000_000_001L, -1L, 0);
    ByteBuffer b = buf(128);
    assertEquals(128, Wire.EntryOut.encode(b, 0, 42, 3, 1_250_000_000L, 2_000_000_000L, a));
    assertEquals(42, b.getLong(0));
    assertEquals(3, b.getLong(8));
    assertEquals(1, b.getLong(16)); // entry_valid seconds
    assertEquals(2, b.getLong(24)); // attr_valid seconds
    assertEquals(250_000_000, b.getInt(32));
    assertEquals(0, b.getInt(36));
    Wire.Attr w = Wire.EntryOut.decode(b, 0).attr();
    assertEquals(42, w.ino());
    assertEquals(5, w.size());
    assertEquals(1, w.atime());
    assertEquals(500_000_000, w.atimensec());
    assertEquals(2, w.mtime());
    assertEquals(1, w.mtimensec());
    assertEquals(-1, w.ctime()); // times before the epoch keep a positive nsec part
    assertEquals(999_999_999, w.ctimensec());
    assertEquals(Modes.S_IFREG | 0644, w.mode());
    assertEquals(1000, w.uid());
    assertEquals(Attr.BLKSIZE, w.blksize());
    assertEquals(0, w.flags());
  }

  @Test
  void negativeEntryIsAllZeroButTimeout() {
    ByteBuffer b = buf(128);
    for (int i = 0; i < 128; i++) {
      b.put(i, (byte) 0x5a);
    }
    Wire.EntryOut.encode(b, 0, 0, 0, 3_000_000_000L, 0, null);
    assertEquals(0, b.getLong(0));
    assertEquals(3, b.getLong(16));
    for (int i = 40; i < 128; i++) {
      assertEquals(0, b.get(i), "byte " + i);
    }
  }

  @Test
  void direntIsPaddedToEightBytes() {
    ByteBuffer b = buf(64);
    for (int i = 0; i < 64; i++) {
      b.put(i, (byte) 0x5a);
    }
    int n = Wire.Dirent.encode(b, 0, 9, 3, Modes.dtype(Modes.S_IFDIR), new byte[] {'a', 'b', 'c'});
    assertEquals(32, n);
    assertEquals(Wire.Dirent.size(3), n);
    assertEquals("616263" + "0000000000", hexOf(b, 24, 8));
    Wire.Dirent d = Wire.Dirent.decode(b, 0);
    assertEquals(9, d.ino());
    assertEquals(3, d.off());
    assertEquals(4, d.type());
    assertEquals(Wire.align8(128 + 24 + 8), Wire.Direntplus.size(8));
  }

  @Test
  void requestStructsDecode() {
    ByteBuffer b = buf(88);
    new Wire.SetattrIn(Wire.FATTR_SIZE | Wire.FATTR_FH, 9, 4096, 0, 1, 2, 3, 4, 5, 6, 0644, 7, 8)
        .encode(b, 0);
    Wire.SetattrIn s = Wire.SetattrIn.decode(b, 0);
    assertEquals(9, s.fh());
    assertEquals(4096, s.size());
    assertEquals(0644, s.mode());
    assertEquals(7, s.uid());
    assertEquals(8, s.gid());
    assertEquals(5, s.mtimensec());

    ByteBuffer w = buf(40);
    new Wire.WriteIn(5, 100, 12, Wire.FUSE_WRITE_KILL_SUIDGID, 77, 2).encode(w, 0);
    assertEquals(5, Wire.WriteIn.fh(w, 0));
    assertEquals(100, Wire.WriteIn.offset(w, 0));
    assertEquals(12, Wire.WriteIn.size(w, 0));
    assertEquals(Wire.FUSE_WRITE_KILL_SUIDGID, Wire.WriteIn.writeFlags(w, 0));

    ByteBuffer lk = hex("0300000000000000 0400000000000000 0000000000000000 ffffffffffffff7f"
        + " 01000000 d2040000 01000000 00000000");
    Wire.LkIn l = Wire.LkIn.decode(lk, 0);
    assertEquals(3, l.fh());
    assertEquals(4, l.owner());
    assertEquals(Long.MAX_VALUE, l.lk().end());
    assertEquals(Modes.F_WRLCK, l.lk().type());
    assertEquals(1234, l.lk().pid());
    assertEquals(Wire.FUSE_LK_FLOCK, l.lkFlags());

    ByteBuffer sx = hex("0a000000 01000000 02000000 00000000");
    assertEquals(new Wire.SetxattrIn(10, 1, 2), Wire.SetxattrIn.decode(sx, 0, true));
    assertEquals(new Wire.SetxattrIn(10, 1, 0), Wire.SetxattrIn.decode(sx, 0, false));
  }

  @Test
  void statfsAndNotices() {
    ByteBuffer b = buf(80);
    Wire.Kstatfs.encode(b, 0, new StatFs(10, 9, 8, 7, 6, 4096, 255, 512));
    assertEquals(new Wire.Kstatfs(10, 9, 8, 7, 6, 4096, 255, 512), Wire.Kstatfs.decode(b, 0));

    ByteBuffer n = buf(24);
    new Wire.NotifyInvalInodeOut(5, 0, -1).encode(n, 0);
    assertEquals("0500000000000000" + "0000000000000000" + "ffffffffffffffff", hexOf(n, 0, 24));
    new Wire.NotifyInvalEntryOut(1, 3, 0).encode(n, 0);
    assertEquals("0100000000000000" + "03000000" + "00000000", hexOf(n, 0, 16));
  }

  @Test
  void cstringStopsAtNulOrEnd() {
    ByteBuffer b = hex("61620063");
    assertEquals(2, Wire.cstrlen(b, 0, 4));
    assertEquals(1, Wire.cstrlen(b, 3, 4));
  }

  @Test
  void flagNames() {
    assertEquals(java.util.Set.of("ASYNC_READ", "PASSTHROUGH"),
        InitFlag.names(InitFlag.ASYNC_READ.mask() | InitFlag.PASSTHROUGH.mask()));
    assertTrue(InitFlag.names(1L << 63).contains("BIT_63"));
  }
}
