package dev.agentfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfs.fuse.session.FuseSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeMountTest {
  @TempDir Path tmp;

  @Test
  void writeAndReadBack() throws Exception {
    FuseTestSupport.requireFuse();
    MemVfs vfs = new MemVfs();
    try (FuseSession s = FuseTestSupport.mount(vfs, tmp)) {
      Files.writeString(tmp.resolve("a.txt"), "hello");
      assertEquals("hello", Files.readString(tmp.resolve("a.txt"), StandardCharsets.UTF_8));
      System.out.println(s.grantedFeatures());
    }
  }
}
