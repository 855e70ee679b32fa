package dev.agentfs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfs.AgentFs;
import dev.agentfs.Branch;
import dev.agentfs.Feature;
import dev.agentfs.Passthrough;
import dev.agentfs.fuse.session.FuseSession;
import dev.agentfs.hostfs.HostFsBackstore;
import dev.agentfs.spi.MountHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kernel passthrough over the HostFs backstore: engaged, correct, copy-on-write safe. */
class PassthroughTest {
  @TempDir Path tmp;
  Path mnt;

  @BeforeEach
  void setUp() throws Exception {
    Fuse.require();
    mnt = Files.createDirectory(tmp.resolve("mnt"));
  }

  private AgentFs open() throws Exception {
    return AgentFs.builder().backstore(HostFsBackstore.open(tmp.resolve("store")))
        .passthrough(Passthrough.REQUIRED).build();
  }

  private static long count(FuseSession s, String op) {
    Map<String, Long> c = s.requestCounts();
    return c.getOrDefault(op, 0L);
  }

  @Test
  void readsAndWritesBypassTheEngine() throws Exception {
    byte[] block = new byte[1 << 20];
    new Random(3).nextBytes(block);
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      assertTrue(h.grantedFeatures().contains("PASSTHROUGH"), h.grantedFeatures().toString());
      FuseSession s = FuseSession.live(mnt);
      assertNotNull(s);
      Path f = mnt.resolve("big.bin");
      MessageDigest w = MessageDigest.getInstance("SHA-256");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        for (int i = 0; i < 256; i++) {
          block[0] = (byte) i;
          w.update(block);
          ch.write(ByteBuffer.wrap(block));
        }
        ch.force(true);
      }
      assertEquals(256L << 20, Files.size(f));
      long readsBefore = count(s, "READ");
      MessageDigest r = MessageDigest.getInstance("SHA-256");
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
        while (ch.read(buf.clear()) > 0) {
          r.update(buf.flip());
        }
      }
      assertArrayEquals(w.digest(), r.digest());
      assertEquals(0, count(s, "WRITE"), "writes must not reach the engine");
      assertEquals(readsBefore, count(s, "READ"), "reads must not reach the engine");
      // RELEASE reaches the engine asynchronously after close(2) returns: wait for it.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (s.passthroughBackings() != 0 && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      assertEquals(0, s.passthroughBackings(), "backing ids are closed with the last file");
      // The Java API sees what the kernel wrote straight into the host file.
      assertEquals(256L << 20, fs.main().stat("/big.bin").size());
    }
  }

  @Test
  void aSnapshotKeepsWhatItSawWhileAWriterKeepsWriting() throws Exception {
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      Path f = mnt.resolve("log.txt");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap("before snapshot\n".getBytes()));
        var snap = fs.main().snapshot("s");
        ch.write(ByteBuffer.wrap("after snapshot\n".getBytes()));
        ch.force(true);
        Branch b = fs.createBranch("b", snap);
        assertEquals("before snapshot\n", b.readString("/log.txt"));
      }
      assertEquals("before snapshot\nafter snapshot\n", Files.readString(f));
      assertEquals("before snapshot\nafter snapshot\n", fs.main().readString("/log.txt"));
      // Writing through a branch of the snapshot never reaches the main branch's file.
      fs.branch("b").append("/log.txt", "branch\n".getBytes());
      assertEquals("before snapshot\nafter snapshot\n", Files.readString(f));
    }
  }

  @Test
  void mtimeFollowsWritesTheEngineNeverSaw() throws Exception {
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      Path f = mnt.resolve("t");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap("a".getBytes()));
        long first = fs.main().stat("/t").mtimeNs();
        fs.main().setTimes("/t", first, 1_000_000_000L); // pretend it was written in 1970
        ch.write(ByteBuffer.wrap("b".getBytes()));
        long second = fs.main().stat("/t").mtimeNs();
        assertTrue(second > 1_000_000_000L, "mtime must move with a passthrough write");
        assertEquals(2, fs.main().stat("/t").size());
      }
    }
  }

  @Test
  void openAfterSnapshotUnsharesBeforeTheKernelWrites() throws Exception {
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      Files.writeString(mnt.resolve("f"), "one");
      var snap = fs.main().snapshot("s");
      Files.writeString(mnt.resolve("f"), "two", StandardOpenOption.APPEND);
      assertEquals("onetwo", Files.readString(mnt.resolve("f")));
      assertEquals("one", fs.createBranch("b", snap).readString("/f"));
    }
  }

  /**
   * pjdfstest chmod/12.t: a write by a non-owner clears S_ISUID/S_ISGID. With HANDLE_KILLPRIV_V2
   * the kernel leaves that to the server, but passthrough writes never reach it, so set-id
   * files must not be opened in passthrough.
   */
  @Test
  void unprivilegedWriteClearsSetIdBitsAsOnExt4() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Proc.has("setpriv"), "setpriv is not installed");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (AgentFs fs = AgentFs.builder().backstore(HostFsBackstore.open(tmp.resolve("store")))
        .passthrough(Passthrough.REQUIRED).enable(Feature.ALLOW_OTHER).build();
        MountHandle h = fs.mount(mnt)) {
      for (String mode : new String[] {"4777", "2777", "6777"}) {
        Proc.sh(mnt, "rm -f f && touch f && chmod " + mode + " f").ok();
        Proc.shAs(mnt, 65534, 65534, "echo x >> f").ok();
        String after = Proc.sh(mnt, "stat -c %a f").ok().out().trim();
        assertEquals("777", after, "mode " + mode + " after a non-owner write");
        assertEquals(0777, fs.main().stat("/f").mode() & 07777);
      }
      // Ordinary files still take the passthrough path.
      FuseSession s = FuseSession.live(mnt);
      assertNotNull(s);
      long writes = count(s, "WRITE");
      Files.writeString(mnt.resolve("plain"), "x");
      assertEquals(writes, count(s, "WRITE"), "a plain file's write must bypass the engine");
    }
  }

  @Test
  void passthroughSurvivesARestartOfTheStore() throws Exception {
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      Files.writeString(mnt.resolve("kept"), "durable");
    }
    try (AgentFs fs = open(); MountHandle h = fs.mount(mnt)) {
      assertEquals("durable", Files.readString(mnt.resolve("kept")));
    }
  }
}
