package dev.agentfs.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfs.hostfs.HostFsBackstore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A READ_WRITE mapping made through the java.nio FileSystem of a host-directory branch that is
 * also mounted: writes through the mount reach the buffer at once (one host page cache), and
 * what the buffer wrote reaches the mount's readers, kernel page cache included, once a channel
 * of the file is forced.
 */
class MountMapTest {
  @TempDir Path tmp;

  /** The first four bytes, read through the mount without reaching the end of the file. */
  private static String head(Path viaKernel) throws IOException {
    try (FileChannel k = FileChannel.open(viaKernel, READ)) {
      ByteBuffer x = ByteBuffer.allocate(4);
      k.read(x, 0);
      return new String(x.array(), UTF_8);
    }
  }

  @Test
  void aMappedFileAndTheMountSeeEachOther() throws Exception {
    Fuse.require();
    HostFsBackstore store = HostFsBackstore.open(tmp.resolve("store"));
    try (Fuse.Mounted m = Fuse.mount(tmp, b -> b.backstore(store));
        FileSystem nio = m.fs().main().asFileSystem()) {
      Path viaKernel = m.path("mapped");
      byte[] data = new byte[16384];
      java.util.Arrays.fill(data, (byte) '0');
      Files.write(viaKernel, data);
      // A read that stops short of the end leaves the page in the kernel's cache, where (with
      // the mount's long caches) it stays until this file system says the file changed.
      assertEquals("0000", head(viaKernel));
      try (FileChannel ch = FileChannel.open(nio.getPath("/mapped"), READ, WRITE)) {
        MappedByteBuffer b = ch.map(MapMode.READ_WRITE, 0, data.length);
        b.put(0, (byte) 'A');
        b.force();
        ch.force(false);
        assertEquals("A000", head(viaKernel));
        assertEquals("A000", Proc.run(tmp, List.of("python3", "-c",
            "import sys; sys.stdout.write(open(sys.argv[1]).read(4))", viaKernel.toString()))
            .ok().out());
        try (FileChannel k = FileChannel.open(viaKernel, WRITE)) {
          k.write(ByteBuffer.wrap("xyz".getBytes(UTF_8)), 1);
        }
        assertEquals('x', b.get(1));
        assertEquals('z', b.get(3));
      }
    }
  }
}
