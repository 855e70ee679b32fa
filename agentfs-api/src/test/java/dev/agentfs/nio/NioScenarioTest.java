package dev.agentfs.nio;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.COPY_ATTRIBUTES;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.DSYNC;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.SYNC;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.agentfs.AgentFs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario runs twice: on the default file system (in a temporary directory) and on an
 * AgentFs branch through {@link AgentFsFileSystem}. Each run writes a {@link Transcript}
 * (values, listings, attributes, exception classes and the paths they name); the two
 * transcripts must be equal, and each scenario also asserts what it expects on both.
 */
class NioScenarioTest {
  @FunctionalInterface
  interface Scenario {
    void run(Path root, Transcript t) throws Exception;
  }

  private static final Instant T0 = Instant.parse("2024-01-02T03:04:05Z");

  @TestFactory
  Stream<DynamicTest> scenarios() {
    Map<String, Scenario> all = new java.util.LinkedHashMap<>();
    all.put("createReadWriteAppendTruncate", NioScenarioTest::createReadWrite);
    all.put("openOptions", NioScenarioTest::openOptions);
    all.put("directoriesAndListings", NioScenarioTest::directories);
    all.put("symlinks", NioScenarioTest::symlinks);
    all.put("symlinkLoops", NioScenarioTest::symlinkLoops);
    all.put("hardLinks", NioScenarioTest::hardLinks);
    all.put("moves", NioScenarioTest::moves);
    all.put("copies", NioScenarioTest::copies);
    all.put("channels", NioScenarioTest::channels);
    all.put("sparseFiles", NioScenarioTest::sparse);
    all.put("posixPermissions", NioScenarioTest::permissions);
    all.put("attributes", NioScenarioTest::attributes);
    all.put("userXattrs", NioScenarioTest::xattrs);
    all.put("walkFileTree", NioScenarioTest::walk);
    all.put("globs", NioScenarioTest::globs);
    all.put("pathOperations", NioScenarioTest::paths);
    all.put("locks", NioScenarioTest::locks);
    all.put("watchService", NioScenarioTest::watch);
    all.put("watchCoalescing", NioScenarioTest::watchCoalescing);
    all.put("watchOverflow", NioScenarioTest::watchOverflow);
    all.put("fileStore", NioScenarioTest::fileStore);
    return all.entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> compare(e.getValue())));
  }

  /** Makes the AgentFs a scenario's second run uses. */
  @FunctionalInterface
  interface AgentFsFactory {
    AgentFs create() throws Exception;
  }

  private static void compare(Scenario s) throws Exception {
    compare(s, () -> AgentFs.builder().build());
  }

  /** Runs {@code s} on the default file system and on a branch of {@code agentFs}'s result. */
  static void compare(Scenario s, AgentFsFactory agentFs) throws Exception {
    Path tmp = Files.createTempDirectory("nio-oracle");
    List<String> expected;
    try {
      Path root = Files.createDirectory(tmp.resolve("w"));
      Transcript t = new Transcript(root);
      s.run(root, t);
      expected = t.lines();
    } finally {
      deleteTree(tmp);
    }
    List<String> actual;
    try (AgentFs afs = agentFs.create();
        FileSystem fs = afs.main().asFileSystem()) {
      Path root = Files.createDirectory(fs.getPath("/w"));
      Transcript t = new Transcript(root);
      s.run(root, t);
      actual = t.lines();
    }
    if (Boolean.getBoolean("nio.dump")) {
      System.out.println(String.join("\n", actual));
    }
    StringBuilder diff = new StringBuilder();
    for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
      String e = i < expected.size() ? expected.get(i) : "<none>";
      String a = i < actual.size() ? actual.get(i) : "<none>";
      if (!e.equals(a)) {
        diff.append("\n  default: ").append(e).append("\n  agentfs: ").append(a);
      }
    }
    assertEquals(String.join("\n", expected), String.join("\n", actual),
        "differences:" + diff);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(p, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  // ---------------------------------------------------------------- scenarios

  static void createReadWrite(Path root, Transcript t) throws Exception {
    Path f = root.resolve("a.txt");
    t.step("write", () -> Files.writeString(f, "hello"));
    assertEquals("hello", t.step("read", () -> Files.readString(f)));
    t.step("size", () -> Files.size(f));
    t.step("append", () -> Files.writeString(f, " world", APPEND));
    assertEquals("hello world", t.step("read2", () -> Files.readString(f)));
    t.step("truncateExisting", () -> Files.writeString(f, "x", WRITE, TRUNCATE_EXISTING));
    t.step("read3", () -> Files.readString(f));
    t.step("createNewExisting", () -> Files.writeString(f, "y", CREATE_NEW, WRITE));
    t.step("createFileExisting", () -> Files.createFile(f));
    t.step("readMissing", () -> Files.readString(root.resolve("missing")));
    t.step("writeWithoutCreate", () -> Files.writeString(root.resolve("nope"), "z", WRITE));
    t.step("createFile", () -> Files.createFile(root.resolve("empty")));
    t.step("emptySize", () -> Files.size(root.resolve("empty")));
    t.step("writeDir", () -> Files.writeString(root, "x"));
    t.step("readDir", () -> Files.readAllBytes(root));
    t.step("createInMissingDir", () -> Files.createFile(root.resolve("no/such")));
    t.step("createUnderFile", () -> Files.createFile(f.resolve("child")));
    t.step("readUnderFile", () -> Files.readString(f.resolve("child")));
    t.step("lines", () -> {
      Files.write(root.resolve("l.txt"), List.of("one", "two", "three"));
      return Files.readAllLines(root.resolve("l.txt"));
    });
    t.step("bufferedWriter", () -> {
      try (var w = Files.newBufferedWriter(root.resolve("b.txt"))) {
        w.write("buffered");
      }
      try (var r = Files.newBufferedReader(root.resolve("b.txt"))) {
        return r.readLine();
      }
    });
    t.step("inputStreamSkip", () -> {
      try (var in = Files.newInputStream(root.resolve("b.txt"))) {
        in.skip(3);
        return new String(in.readAllBytes(), UTF_8);
      }
    });
    t.step("outputStreamOnDir", () -> Files.newOutputStream(root));
    t.step("inputStreamOnDir", () -> {
      try (var in = Files.newInputStream(root)) {
        return in.read();
      }
    });
  }

  static void openOptions(Path root, Transcript t) throws Exception {
    Path f = root.resolve("o.txt");
    t.step("readAppend", () -> Files.newByteChannel(f, READ, APPEND));
    t.step("appendTruncate", () -> Files.newByteChannel(f, APPEND, TRUNCATE_EXISTING));
    t.step("createReadOnly", () -> Files.newByteChannel(f, CREATE, READ));
    t.step("createWrite", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, CREATE, WRITE)) {
        return c.write(ByteBuffer.wrap("abc".getBytes(UTF_8)));
      }
    });
    t.step("sync", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, WRITE, SYNC)) {
        return c.write(ByteBuffer.wrap("S".getBytes(UTF_8)));
      }
    });
    t.step("dsync", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, WRITE, DSYNC, APPEND)) {
        c.write(ByteBuffer.wrap("D".getBytes(UTF_8)));
        return c.position();
      }
    });
    t.step("content", () -> Files.readString(f));
    t.step("readWritePosition", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, READ, WRITE)) {
        c.position(1);
        c.write(ByteBuffer.wrap("Z".getBytes(UTF_8)));
        ByteBuffer b = ByteBuffer.allocate(10);
        int n = c.read(b);
        return n + ":" + c.position() + ":" + c.size();
      }
    });
    t.step("content2", () -> Files.readString(f));
    Path d = root.resolve("doc.tmp");
    t.step("deleteOnClose", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(d, CREATE_NEW, WRITE, DELETE_ON_CLOSE)) {
        c.write(ByteBuffer.wrap("tmp".getBytes(UTF_8)));
        return Files.exists(d);
      }
    });
    t.step("deletedAfterClose", () -> Files.exists(d));
    t.step("writeOnReadChannel", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, READ)) {
        return c.write(ByteBuffer.wrap(new byte[1]));
      }
    });
    t.step("readOnWriteChannel", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, WRITE)) {
        return c.read(ByteBuffer.allocate(1));
      }
    });
    t.step("closedChannel", () -> {
      SeekableByteChannel c = Files.newByteChannel(f, READ);
      c.close();
      return c.read(ByteBuffer.allocate(1));
    });
    t.step("truncateExistingWithoutWrite", () -> {
      try (SeekableByteChannel c = Files.newByteChannel(f, READ, TRUNCATE_EXISTING)) {
        return c.size();
      }
    });
  }

  static void directories(Path root, Transcript t) throws Exception {
    t.step("createDirectory", () -> Files.createDirectory(root.resolve("d")));
    t.step("createExisting", () -> Files.createDirectory(root.resolve("d")));
    t.step("createDirectories", () -> Files.createDirectories(root.resolve("d/e/f")));
    t.step("createDirectoriesAgain", () -> Files.createDirectories(root.resolve("d/e/f")));
    t.step("createUnderMissing", () -> Files.createDirectory(root.resolve("x/y")));
    for (String n : List.of("c", "a", "b", ".hidden")) {
      Files.writeString(root.resolve("d/" + n), n);
    }
    assertEquals(List.of(".hidden", "a", "b", "c", "e"), t.step("list", () -> names(root.resolve("d"))));
    t.step("deleteNonEmpty", () -> {
      Files.delete(root.resolve("d/e"));
      return "deleted";
    });
    t.step("deleteMissing", () -> {
      Files.delete(root.resolve("d/zz"));
      return "deleted";
    });
    t.step("deleteIfExistsMissing", () -> Files.deleteIfExists(root.resolve("d/zz")));
    t.step("deleteIfExists", () -> Files.deleteIfExists(root.resolve("d/c")));
    t.step("listFile", () -> Files.newDirectoryStream(root.resolve("d/a")));
    t.step("listMissing", () -> Files.newDirectoryStream(root.resolve("d/none")));
    t.step("dirUnderFile", () -> Files.createDirectory(root.resolve("d/a/sub")));
    t.step("createDirectoriesOverFile", () -> Files.createDirectories(root.resolve("d/a/sub")));
    t.step("isDirectory", () -> Files.isDirectory(root.resolve("d/e")) + ","
        + Files.isDirectory(root.resolve("d/a")) + "," + Files.isRegularFile(root.resolve("d/a"))
        + "," + Files.exists(root.resolve("d/none")) + "," + Files.notExists(root.resolve("d/none")));
    t.step("deleteEmptyDir", () -> {
      Files.delete(root.resolve("d/e/f"));
      return names(root.resolve("d/e"));
    });
    t.step("hidden", () -> Files.isHidden(root.resolve("d/.hidden")) + ","
        + Files.isHidden(root.resolve("d/a")));
    t.step("dotPaths", () -> Files.readString(root.resolve("d/./e/../a")));
    t.step("createDot", () -> Files.createDirectory(root.resolve("d/.")));
  }

  static void symlinks(Path root, Transcript t) throws Exception {
    Files.writeString(root.resolve("target.txt"), "T");
    Files.createDirectory(root.resolve("dir"));
    t.step("relative", () -> Files.createSymbolicLink(root.resolve("rel"), root.getFileSystem().getPath("target.txt")));
    t.step("absolute", () -> Files.createSymbolicLink(root.resolve("abs"), root.resolve("target.txt")));
    t.step("toDir", () -> Files.createSymbolicLink(root.resolve("dirlink"), root.getFileSystem().getPath("dir")));
    t.step("dangling", () -> Files.createSymbolicLink(root.resolve("dangling"), root.getFileSystem().getPath("nothing")));
    t.step("exists", () -> Files.createSymbolicLink(root.resolve("rel"), root.getFileSystem().getPath("x")));
    assertEquals("T", t.step("readRel", () -> Files.readString(root.resolve("rel"))));
    t.step("readAbs", () -> Files.readString(root.resolve("abs")));
    t.step("readlinkRel", () -> Files.readSymbolicLink(root.resolve("rel")));
    t.step("readlinkAbs", () -> Files.readSymbolicLink(root.resolve("abs")));
    t.step("readlinkFile", () -> Files.readSymbolicLink(root.resolve("target.txt")));
    t.step("readlinkMissing", () -> Files.readSymbolicLink(root.resolve("missing")));
    t.step("isSymlink", () -> Files.isSymbolicLink(root.resolve("rel")) + ","
        + Files.isSymbolicLink(root.resolve("target.txt")) + ","
        + Files.isRegularFile(root.resolve("rel")) + ","
        + Files.isRegularFile(root.resolve("rel"), NOFOLLOW_LINKS));
    t.step("danglingExists", () -> Files.exists(root.resolve("dangling")) + ","
        + Files.exists(root.resolve("dangling"), NOFOLLOW_LINKS));
    t.step("readDangling", () -> Files.readString(root.resolve("dangling")));
    t.step("writeThroughDangling", () -> {
      Files.writeString(root.resolve("dangling"), "made");
      return Files.readString(root.resolve("nothing"));
    });
    t.step("throughDirLink", () -> {
      Files.writeString(root.resolve("dirlink/inner"), "I");
      return names(root.resolve("dir"));
    });
    t.step("listDirLink", () -> names(root.resolve("dirlink")));
    t.step("nofollowOpen", () -> Files.newByteChannel(root.resolve("rel"), READ, NOFOLLOW_LINKS));
    t.step("nofollowAttrs", () -> Files.readAttributes(root.resolve("rel"),
        BasicFileAttributes.class, NOFOLLOW_LINKS).isSymbolicLink());
    t.step("realPath", () -> root.resolve("dirlink/../abs").toRealPath());
    t.step("realPathNofollow", () -> root.resolve("dir/./inner").toRealPath(NOFOLLOW_LINKS));
    t.step("realPathMissing", () -> root.resolve("nope").toRealPath());
    t.step("sameFile", () -> Files.isSameFile(root.resolve("rel"), root.resolve("target.txt")));
    t.step("deleteLink", () -> {
      Files.delete(root.resolve("dirlink"));
      return Files.exists(root.resolve("dir")) + "," + Files.exists(root.resolve("dirlink"), NOFOLLOW_LINKS);
    });
    t.step("linkWithAttrs", () -> Files.createSymbolicLink(root.resolve("l2"),
        root.resolve("target.txt"), PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwxrwxrwx"))));
  }

  static void symlinkLoops(Path root, Transcript t) throws Exception {
    FileSystem fs = root.getFileSystem();
    Files.createSymbolicLink(root.resolve("a"), fs.getPath("b"));
    Files.createSymbolicLink(root.resolve("b"), fs.getPath("a"));
    Files.createSymbolicLink(root.resolve("self"), fs.getPath("self"));
    t.step("read", () -> Files.readString(root.resolve("a")));
    t.step("exists", () -> Files.exists(root.resolve("a")) + "," + Files.exists(root.resolve("a"), NOFOLLOW_LINKS));
    t.step("attrs", () -> Files.readAttributes(root.resolve("self"), BasicFileAttributes.class));
    t.step("write", () -> Files.writeString(root.resolve("self"), "x"));
    t.step("createDir", () -> Files.createDirectory(root.resolve("a/x")));
    t.step("list", () -> Files.newDirectoryStream(root.resolve("self")));
    Files.createDirectories(root.resolve("tree/sub"));
    Files.createSymbolicLink(root.resolve("tree/sub/up"), fs.getPath(".."));
    List<String> seen = new ArrayList<>();
    t.step("walkFollow", () -> {
      Files.walkFileTree(root.resolve("tree"), EnumSet.of(FileVisitOption.FOLLOW_LINKS), 10,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              seen.add(root.relativize(file) + ":" + exc.getClass().getSimpleName());
              return FileVisitResult.CONTINUE;
            }
          });
      return seen;
    });
    assertEquals(List.of("tree/sub/up:FileSystemLoopException"), seen);
    t.step("walkStreamFollow", () -> {
      try (Stream<Path> s = Files.walk(root.resolve("tree"), FileVisitOption.FOLLOW_LINKS)) {
        return s.count();
      }
    });
  }

  static void hardLinks(Path root, Transcript t) throws Exception {
    Path a = root.resolve("a");
    Path b = root.resolve("b");
    Files.writeString(a, "one");
    t.step("link", () -> Files.createLink(b, a));
    t.step("nlink", () -> Files.getAttribute(a, "unix:nlink"));
    t.step("same", () -> Files.isSameFile(a, b));
    t.step("keys", () -> Files.readAttributes(a, BasicFileAttributes.class).fileKey()
        .equals(Files.readAttributes(b, BasicFileAttributes.class).fileKey()));
    Files.writeString(b, "two");
    assertEquals("two", t.step("readA", () -> Files.readString(a)));
    t.step("linkExisting", () -> Files.createLink(b, a));
    t.step("linkMissing", () -> Files.createLink(root.resolve("c"), root.resolve("zz")));
    t.step("linkDir", () -> Files.createLink(root.resolve("c"), root));
    t.step("deleteA", () -> {
      Files.delete(a);
      return Files.readString(b) + "," + Files.getAttribute(b, "unix:nlink");
    });
  }

  static void moves(Path root, Transcript t) throws Exception {
    Files.writeString(root.resolve("a"), "A");
    Files.writeString(root.resolve("b"), "B");
    Files.createDirectories(root.resolve("d/sub"));
    Files.createDirectory(root.resolve("empty"));
    Files.writeString(root.resolve("d/sub/f"), "F");
    t.step("rename", () -> Files.move(root.resolve("a"), root.resolve("a2")));
    t.step("afterRename", () -> names(root));
    t.step("existing", () -> Files.move(root.resolve("a2"), root.resolve("b")));
    t.step("replace", () -> Files.move(root.resolve("a2"), root.resolve("b"), REPLACE_EXISTING));
    assertEquals("A", t.step("replaced", () -> Files.readString(root.resolve("b"))));
    Files.writeString(root.resolve("c"), "C");
    t.step("atomic", () -> Files.move(root.resolve("c"), root.resolve("b"), ATOMIC_MOVE));
    t.step("atomicResult", () -> Files.readString(root.resolve("b")) + "," + names(root));
    t.step("intoOwnSubtree", () -> Files.move(root.resolve("d"), root.resolve("d/sub/d")));
    t.step("fileOverNonEmptyDir", () -> Files.move(root.resolve("b"), root.resolve("d"), REPLACE_EXISTING));
    t.step("fileOverEmptyDir", () -> Files.move(root.resolve("b"), root.resolve("empty"), REPLACE_EXISTING));
    t.step("afterOverEmpty", () -> Files.isRegularFile(root.resolve("empty")));
    t.step("missing", () -> Files.move(root.resolve("zz"), root.resolve("yy")));
    t.step("dirWithContents", () -> {
      Files.move(root.resolve("d"), root.resolve("d2"));
      return Files.readString(root.resolve("d2/sub/f"));
    });
    t.step("ontoItself", () -> Files.move(root.resolve("d2"), root.resolve("d2")));
    t.step("atomicFileOverDir", () -> {
      Files.createDirectory(root.resolve("e"));
      return Files.move(root.resolve("empty"), root.resolve("e"), ATOMIC_MOVE);
    });
    t.step("dirOverFileReplace", () -> {
      Files.writeString(root.resolve("g"), "G");
      Files.move(root.resolve("e"), root.resolve("g"), REPLACE_EXISTING);
      return Files.isDirectory(root.resolve("g"));
    });
    t.step("intoMissingDir", () -> Files.move(root.resolve("g"), root.resolve("no/g")));
    t.step("final", () -> names(root));
  }

  static void copies(Path root, Transcript t) throws Exception {
    Path a = root.resolve("a");
    Files.writeString(a, "A");
    Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwx--x---"));
    Files.setLastModifiedTime(a, FileTime.from(T0));
    Files.getFileAttributeView(a, UserDefinedFileAttributeView.class)
        .write("tag", ByteBuffer.wrap("v".getBytes(UTF_8)));
    t.step("copy", () -> Files.copy(a, root.resolve("b")));
    t.step("copyContent", () -> Files.readString(root.resolve("b")));
    t.step("copyPerms", () -> PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("b"))));
    t.step("copyTimeKept", () -> Files.getLastModifiedTime(root.resolve("b")).toInstant().equals(T0));
    t.step("copyXattrs", () -> Files.getFileAttributeView(root.resolve("b"), UserDefinedFileAttributeView.class).list());
    t.step("existing", () -> Files.copy(a, root.resolve("b")));
    t.step("replace", () -> {
      Files.writeString(root.resolve("c"), "C");
      Files.copy(root.resolve("c"), root.resolve("b"), REPLACE_EXISTING);
      return Files.readString(root.resolve("b"));
    });
    t.step("attributes", () -> Files.copy(a, root.resolve("attrs"), COPY_ATTRIBUTES));
    t.step("attrsTime", () -> Files.getLastModifiedTime(root.resolve("attrs")));
    t.step("attrsPerms", () -> PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("attrs"))));
    t.step("attrsXattrs", () -> Files.getFileAttributeView(root.resolve("attrs"), UserDefinedFileAttributeView.class).list());
    Files.createDirectories(root.resolve("d/sub"));
    Files.writeString(root.resolve("d/sub/f"), "F");
    t.step("copyDir", () -> {
      Files.copy(root.resolve("d"), root.resolve("d2"));
      return names(root.resolve("d2"));
    });
    t.step("replaceNonEmptyDir", () -> Files.copy(a, root.resolve("d"), REPLACE_EXISTING));
    Files.createSymbolicLink(root.resolve("link"), root.getFileSystem().getPath("a"));
    t.step("copyLinkNofollow", () -> {
      Files.copy(root.resolve("link"), root.resolve("link2"), NOFOLLOW_LINKS);
      return Files.isSymbolicLink(root.resolve("link2")) + ":" + Files.readSymbolicLink(root.resolve("link2"));
    });
    t.step("copyLinkFollow", () -> {
      Files.copy(root.resolve("link"), root.resolve("link3"));
      return Files.isSymbolicLink(root.resolve("link3")) + ":" + Files.readString(root.resolve("link3"));
    });
    t.step("intoMissing", () -> Files.copy(a, root.resolve("no/a")));
    t.step("missingSource", () -> Files.copy(root.resolve("zz"), root.resolve("yy")));
    t.step("sameFile", () -> Files.copy(a, a));
    t.step("atomicCopy", () -> Files.copy(a, root.resolve("q"), ATOMIC_MOVE));
    t.step("streamCopy", () -> {
      Files.copy(new java.io.ByteArrayInputStream("S".getBytes(UTF_8)), root.resolve("s"));
      return Files.readString(root.resolve("s"));
    });
  }

  static void channels(Path root, Transcript t) throws Exception {
    Path f = root.resolve("c.bin");
    try (FileChannel ch = FileChannel.open(f, CREATE_NEW, READ, WRITE)) {
      t.step("write", () -> ch.write(ByteBuffer.wrap("0123456789".getBytes(UTF_8))));
      t.step("position", ch::position);
      t.step("pwrite", () -> ch.write(ByteBuffer.wrap("AB".getBytes(UTF_8)), 3));
      t.step("positionAfterPwrite", ch::position);
      t.step("pread", () -> {
        ByteBuffer b = ByteBuffer.allocate(4);
        int n = ch.read(b, 2);
        return n + ":" + new String(b.array(), 0, n, UTF_8);
      });
      t.step("readAtEnd", () -> ch.read(ByteBuffer.allocate(4)));
      t.step("preadBeyond", () -> ch.read(ByteBuffer.allocate(4), 100));
      t.step("seekAndRead", () -> {
        ch.position(8);
        ByteBuffer b = ByteBuffer.allocate(10);
        return ch.read(b) + ":" + ch.position();
      });
      t.step("scatter", () -> {
        ch.position(0);
        ByteBuffer x = ByteBuffer.allocate(3);
        ByteBuffer y = ByteBuffer.allocate(4);
        long n = ch.read(new ByteBuffer[] {x, y});
        return n + ":" + new String(x.array(), UTF_8) + "|" + new String(y.array(), UTF_8);
      });
      t.step("gather", () -> {
        ch.position(ch.size());
        return ch.write(new ByteBuffer[] {ByteBuffer.wrap("x".getBytes(UTF_8)), ByteBuffer.wrap("yz".getBytes(UTF_8))});
      });
      t.step("truncateLarger", () -> ch.truncate(100).size());
      t.step("truncate", () -> {
        ch.position(9);
        ch.truncate(5);
        return ch.size() + ":" + ch.position();
      });
      t.step("force", () -> {
        ch.force(true);
        ch.force(false);
        return "ok";
      });
      t.step("negativePosition", () -> ch.position(-1));
    }
    t.step("content", () -> Files.readString(f));
    Path g = root.resolve("g.bin");
    try (FileChannel src = FileChannel.open(f, READ);
        FileChannel dst = FileChannel.open(g, CREATE, WRITE)) {
      t.step("transferTo", () -> src.transferTo(1, 3, dst));
      t.step("transferFrom", () -> dst.transferFrom(FileChannel.open(f, READ), 3, 100));
      t.step("transferFromBeyond", () -> dst.transferFrom(FileChannel.open(f, READ), 100, 1));
    }
    t.step("transferred", () -> Files.readString(g));
    try (FileChannel ap = FileChannel.open(f, APPEND)) {
      t.step("appendPosition", ap::position);
      t.step("appendWrite", () -> {
        ap.position(0);
        ap.write(ByteBuffer.wrap("!".getBytes(UTF_8)));
        return ap.position() + ":" + ap.size();
      });
    }
    t.step("appended", () -> Files.readString(f));
    t.step("truncateReadOnly", () -> {
      try (FileChannel ro = FileChannel.open(f, READ)) {
        return ro.truncate(0);
      }
    });
  }

  static void sparse(Path root, Transcript t) throws Exception {
    Path f = root.resolve("sparse");
    try (FileChannel ch = FileChannel.open(f, CREATE_NEW, WRITE, READ,
        java.nio.file.StandardOpenOption.SPARSE)) {
      t.step("farWrite", () -> ch.write(ByteBuffer.wrap("end".getBytes(UTF_8)), 1 << 20));
      t.step("size", ch::size);
      t.step("holeIsZero", () -> {
        ByteBuffer b = ByteBuffer.allocate(4096);
        ch.read(b, 4096);
        for (byte x : b.array()) {
          if (x != 0) {
            return false;
          }
        }
        return true;
      });
      t.step("tail", () -> {
        ByteBuffer b = ByteBuffer.allocate(8);
        int n = ch.read(b, (1 << 20) - 2);
        return n + ":" + new String(b.array(), 2, n - 2, UTF_8);
      });
    }
    t.step("fileSize", () -> Files.size(f));
    t.step("extendAndShrink", () -> {
      try (FileChannel ch = FileChannel.open(f, WRITE)) {
        ch.truncate(10);
      }
      return Files.size(f);
    });
  }

  static void permissions(Path root, Transcript t) throws Exception {
    t.step("createFileWithPerms", () -> {
      Path p = Files.createFile(root.resolve("p"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwxrwxrwx")));
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    });
    t.step("createDirWithPerms", () -> {
      Path p = Files.createDirectory(root.resolve("pd"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwxr-x---")));
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    });
    t.step("defaultFilePerms", () -> PosixFilePermissions.toString(
        Files.getPosixFilePermissions(Files.createFile(root.resolve("q")))));
    t.step("defaultDirPerms", () -> PosixFilePermissions.toString(
        Files.getPosixFilePermissions(Files.createDirectory(root.resolve("qd")))));
    t.step("set", () -> {
      Files.setPosixFilePermissions(root.resolve("q"), PosixFilePermissions.fromString("r--r-----"));
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("q")));
    });
    t.step("unixMode", () -> Integer.toOctalString((Integer) Files.getAttribute(root.resolve("q"), "unix:mode")));
    t.step("setUnixMode", () -> {
      Files.setAttribute(root.resolve("q"), "unix:mode", 0640);
      return Files.getAttribute(root.resolve("q"), "posix:permissions");
    });
    t.step("setPosixAttr", () -> {
      Files.setAttribute(root.resolve("q"), "posix:permissions", PosixFilePermissions.fromString("rw-------"));
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("q")));
    });
    t.step("access", () -> Files.isReadable(root.resolve("q")) + "," + Files.isWritable(root.resolve("q"))
        + "," + Files.isExecutable(root.resolve("q")) + "," + Files.isExecutable(root.resolve("p"))
        + "," + Files.isExecutable(root.resolve("pd")));
    t.step("owner", () -> Files.getOwner(root.resolve("q")).getName());
    t.step("posixAttrs", () -> {
      PosixFileAttributes a = Files.readAttributes(root.resolve("q"), PosixFileAttributes.class);
      return a.owner().getName() + ":" + a.group().getName() + ":" + PosixFilePermissions.toString(a.permissions());
    });
    t.step("setOwner", () -> {
      var lookup = root.getFileSystem().getUserPrincipalLookupService();
      Files.setOwner(root.resolve("q"), lookup.lookupPrincipalByName("root"));
      Files.getFileAttributeView(root.resolve("q"), PosixFileAttributeView.class)
          .setGroup(lookup.lookupPrincipalByGroupName("root"));
      return Files.getAttribute(root.resolve("q"), "unix:uid") + ":" + Files.getAttribute(root.resolve("q"), "unix:gid");
    });
    t.step("unknownPrincipal", () -> root.getFileSystem().getUserPrincipalLookupService()
        .lookupPrincipalByName("no-such-user-xyz"));
    t.step("badInitialAttribute", () -> Files.createFile(root.resolve("bad"),
        new java.nio.file.attribute.FileAttribute<String>() {
          public String name() {
            return "basic:lastModifiedTime";
          }

          public String value() {
            return "x";
          }
        }));
  }

  static void attributes(Path root, Transcript t) throws Exception {
    Path f = root.resolve("f");
    Files.writeString(f, "12345");
    Files.createDirectories(root.resolve("d/a"));
    Files.createDirectories(root.resolve("d/b"));
    t.step("basic", () -> {
      BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
      return a.isRegularFile() + "," + a.isDirectory() + "," + a.isSymbolicLink() + "," + a.isOther() + "," + a.size();
    });
    t.step("byName", () -> Files.readAttributes(f, "size,isDirectory"));
    t.step("basicKeys", () -> new TreeSet<>(Files.readAttributes(f, "*").keySet()));
    t.step("posixKeys", () -> new TreeSet<>(Files.readAttributes(f, "posix:*").keySet()));
    t.step("unixKeys", () -> new TreeSet<>(Files.readAttributes(f, "unix:*").keySet()));
    t.step("unixSome", () -> {
      Map<String, Object> m = Files.readAttributes(f, "unix:nlink,uid,gid,rdev,size,mode");
      return m.get("nlink") + ":" + m.get("uid") + ":" + m.get("gid") + ":" + m.get("rdev") + ":"
          + m.get("size") + ":" + Integer.toOctalString((Integer) m.get("mode"));
    });
    t.step("dirNlink", () -> Files.getAttribute(root.resolve("d"), "unix:nlink"));
    t.step("inoMatchesKey", () -> {
      long ino = (Long) Files.getAttribute(f, "unix:ino");
      return Files.readAttributes(f, BasicFileAttributes.class).fileKey().toString().contains("ino=" + ino);
    });
    t.step("setTimes", () -> {
      Files.setLastModifiedTime(f, FileTime.from(T0));
      Files.setAttribute(f, "lastAccessTime", FileTime.from(T0.plusSeconds(5)));
      BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
      return a.lastModifiedTime() + "," + a.lastAccessTime();
    });
    t.step("viewSetTimes", () -> {
      Files.getFileAttributeView(f, java.nio.file.attribute.BasicFileAttributeView.class)
          .setTimes(FileTime.from(T0.plusSeconds(60)), null, null);
      return Files.getLastModifiedTime(f);
    });
    t.step("ctimeMoves", () -> ((FileTime) Files.getAttribute(f, "unix:ctime")).toInstant().isAfter(T0));
    t.step("unknownView", () -> Files.readAttributes(f, "acl:*"));
    t.step("unknownAttr", () -> Files.readAttributes(f, "posix:nope"));
    t.step("unknownClass", () -> Files.readAttributes(f, OtherAttributes.class));
    t.step("nullView", () -> Files.getFileAttributeView(f, java.nio.file.attribute.AclFileAttributeView.class));
    t.step("missing", () -> Files.readAttributes(root.resolve("zz"), BasicFileAttributes.class));
    t.step("sameFile", () -> Files.isSameFile(f, root.resolve("d/../f")) + ","
        + Files.isSameFile(f, root.resolve("d")));
    t.step("sameFileMissing", () -> Files.isSameFile(f, root.resolve("zz")));
    t.step("realPath", () -> root.resolve("d/a/../b/./").toRealPath());
    t.step("sizeOfLinkNofollow", () -> {
      Files.createSymbolicLink(root.resolve("l"), root.getFileSystem().getPath("f"));
      return Files.readAttributes(root.resolve("l"), "size,isSymbolicLink", NOFOLLOW_LINKS);
    });
    t.step("owner view", () -> Files.getFileAttributeView(f,
        java.nio.file.attribute.FileOwnerAttributeView.class).name());
  }

  interface OtherAttributes extends BasicFileAttributes {}

  static void xattrs(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("x"), "x");
    UserDefinedFileAttributeView v = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
    t.step("name", v::name);
    t.step("emptyList", v::list);
    t.step("write", () -> v.write("color", ByteBuffer.wrap("blue".getBytes(UTF_8))));
    t.step("write2", () -> v.write("size", ByteBuffer.wrap("L".getBytes(UTF_8))));
    t.step("list", () -> new TreeSet<>(v.list()));
    t.step("size", () -> v.size("color"));
    t.step("read", () -> {
      ByteBuffer b = ByteBuffer.allocate(16);
      int n = v.read("color", b);
      return n + ":" + new String(b.array(), 0, n, UTF_8);
    });
    t.step("getAttribute", () -> Files.getAttribute(f, "user:color"));
    t.step("readAll", () -> Files.readAttributes(f, "user:*"));
    t.step("setAttribute", () -> {
      Files.setAttribute(f, "user:color", "red".getBytes(UTF_8));
      return Files.getAttribute(f, "user:color");
    });
    t.step("readMissing", () -> v.size("nope"));
    t.step("delete", () -> {
      v.delete("size");
      return v.list();
    });
    t.step("deleteMissing", () -> {
      v.delete("size");
      return "ok";
    });
    t.step("onMissingFile", () -> Files.getFileAttributeView(root.resolve("zz"),
        UserDefinedFileAttributeView.class).list());
    t.step("onDirectory", () -> {
      UserDefinedFileAttributeView d = Files.getFileAttributeView(root, UserDefinedFileAttributeView.class);
      d.write("k", ByteBuffer.wrap(new byte[] {1, 2}));
      return d.size("k");
    });
  }

  static void walk(Path root, Transcript t) throws Exception {
    for (String p : List.of("a/b/c.txt", "a/b/d.java", "a/e.txt", "f/g/h.java", "i.md")) {
      Path x = root.resolve(p);
      Files.createDirectories(x.getParent());
      Files.writeString(x, p);
    }
    Files.createDirectories(root.resolve("empty/dir"));
    List<String> events = new ArrayList<>();
    t.step("visit", () -> {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
          events.add("pre " + root.relativize(dir));
          return dir.endsWith("f") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          events.add("file " + root.relativize(file) + " " + attrs.size());
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) {
          events.add("post " + root.relativize(dir));
          return FileVisitResult.CONTINUE;
        }
      });
      Collections.sort(events);
      return events;
    });
    assertTrue(events.contains("file a/b/d.java 10"), events::toString);
    t.step("walkSorted", () -> {
      try (Stream<Path> s = Files.walk(root)) {
        return s.map(p -> root.relativize(p).toString()).sorted().toList();
      }
    });
    t.step("walkDepth1", () -> {
      try (Stream<Path> s = Files.walk(root, 1)) {
        return s.map(p -> root.relativize(p).toString()).sorted().toList();
      }
    });
    t.step("find", () -> {
      try (Stream<Path> s = Files.find(root, 10, (p, a) -> a.isRegularFile() && p.toString().endsWith(".java"))) {
        return s.map(p -> root.relativize(p).toString()).sorted().toList();
      }
    });
    t.step("deleteTree", () -> {
      deleteTree(root.resolve("a"));
      return names(root);
    });
  }

  static void globs(Path root, Transcript t) throws Exception {
    for (String n : List.of("a.txt", "b.md", "c.java", ".d.txt", "e.TXT", "f[1].txt", "g")) {
      Files.writeString(root.resolve(n), n);
    }
    for (String g : List.of("*.txt", "*.{txt,md}", "?.md", "[a-c]*", "[!a-c]*", "*", "f\\[1\\].txt", "**")) {
      t.step("stream " + g, () -> {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, g)) {
          for (Path p : s) {
            out.add(p.getFileName().toString());
          }
        }
        Collections.sort(out);
        return out;
      });
    }
    t.step("filter", () -> {
      List<String> out = new ArrayList<>();
      try (DirectoryStream<Path> s = Files.newDirectoryStream(root, Files::isRegularFile)) {
        s.forEach(p -> out.add(p.getFileName().toString()));
      }
      Collections.sort(out);
      return out;
    });
    t.step("iteratorTwice", () -> {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
        s.iterator();
        return s.iterator();
      }
    });
    FileSystem fs = root.getFileSystem();
    List<String> paths = List.of("a/b/c.java", "c.java", "a/c.java", "/x/y.java", "a.b", "ab", "a/b",
        "{x}", "a,b", "x.txt.bak", "dir/sub/x.txt");
    for (String pat : List.of("glob:*.java", "glob:**/*.java", "glob:**.java", "glob:a/*/c.java",
        "glob:?b", "glob:a?b", "glob:*.{java,b}", "glob:[ab]*", "glob:[!a]*", "glob:\\{x\\}",
        "glob:a,b", "glob:**/sub/*", "glob:/x/*", "regex:.*\\.java", "regex:a.b")) {
      t.step("matcher " + pat, () -> {
        PathMatcher m = fs.getPathMatcher(pat);
        return paths.stream().filter(p -> m.matches(fs.getPath(p))).toList();
      });
    }
    t.step("badSyntax", () -> fs.getPathMatcher("nope:x"));
    t.step("noSyntax", () -> fs.getPathMatcher("x"));
  }

  static void paths(Path root, Transcript t) {
    FileSystem fs = root.getFileSystem();
    List<String> samples = List.of("/", "/a", "/a/b/c", "a/b", "", ".", "..", "a/./b/../c",
        "/../a", "a//b/", "../../x", "/a/b/..", "a/..");
    for (String s : samples) {
      Path p = fs.getPath(s);
      t.step("'" + s + "'", () -> List.of(p.toString(), p.isAbsolute(), String.valueOf(p.getRoot()),
          String.valueOf(p.getFileName()), String.valueOf(p.getParent()), p.getNameCount(),
          p.normalize().toString()));
      t.step("'" + s + "' names", () -> {
        List<String> names = new ArrayList<>();
        p.forEach(n -> names.add(n.toString()));
        return names;
      });
    }
    String[][] pairs = {{"/a/b", "/a/b/c/d"}, {"/a/b/c", "/a/x"}, {"a", "a/b"}, {"a/b", "a"},
        {"/a", "/a"}, {"", "a"}, {"a", ""}, {"/", "/a/b"}, {"/a", "b"}, {"a/b", "c/d"}};
    for (String[] pr : pairs) {
      Path a = fs.getPath(pr[0]);
      Path b = fs.getPath(pr[1]);
      t.step("relativize " + pr[0] + " " + pr[1], () -> a.relativize(b).toString());
      t.step("resolve " + pr[0] + " " + pr[1], () -> a.resolve(b).toString());
      t.step("resolveSibling " + pr[0] + " " + pr[1], () -> a.resolveSibling(b).toString());
      t.step("startsWith " + pr[0] + " " + pr[1], () -> a.startsWith(b) + "," + a.endsWith(b)
          + "," + a.startsWith(pr[1]) + "," + a.endsWith(pr[1]));
      t.step("compare " + pr[0] + " " + pr[1], () -> Integer.signum(a.compareTo(b)) + ","
          + a.equals(b));
    }
    Path p = fs.getPath("/a/b/c/d");
    t.step("subpath", () -> p.subpath(1, 3).toString());
    t.step("subpathBad", () -> p.subpath(2, 2));
    t.step("getNameBad", () -> p.getName(4));
    t.step("nul", () -> fs.getPath("a\0b"));
    t.step("relativeToAbsolute", () -> fs.getPath("x").toAbsolutePath().isAbsolute());
    t.step("separator", fs::getSeparator);
    t.step("uriRoundTrip", () -> {
      Path q = root.resolve("with space");
      return Path.of(q.toUri()).equals(q) + "," + q.toUri().getRawPath().endsWith("/w/with%20space");
    });
  }

  static void locks(Path root, Transcript t) throws Exception {
    Path f = Files.writeString(root.resolve("lock"), "0123456789");
    try (FileChannel a = FileChannel.open(f, READ, WRITE);
        FileChannel b = FileChannel.open(f, READ, WRITE)) {
      FileLock l = a.lock();
      t.step("held", () -> l.isValid() + "," + l.isShared() + "," + l.position() + "," + l.size());
      t.step("secondChannelTryLock", () -> b.tryLock());
      t.step("secondChannelLockRegion", () -> b.tryLock(2, 3, false));
      t.step("sameChannelAgain", () -> a.tryLock());
      l.release();
      t.step("released", l::isValid);
      t.step("region", () -> {
        FileLock x = a.tryLock(0, 5, false);
        FileLock y = b.tryLock(5, 5, false);
        String s = (x != null) + "," + (y != null) + "," + x.overlaps(3, 4) + "," + y.overlaps(3, 1);
        x.release();
        y.release();
        return s;
      });
      t.step("shared", () -> {
        FileLock x = a.tryLock(0, 10, true);
        String s = x.isShared() + "," + x.acquiredBy().equals(a);
        t.add("sharedOverlap", t.describe(assertThrowsAny(() -> b.tryLock(0, 10, true))));
        x.release();
        return s;
      });
      t.step("closeReleases", () -> {
        FileLock x = b.lock(0, Long.MAX_VALUE, false);
        b.close();
        FileLock y = a.tryLock();
        String s = x.isValid() + "," + (y != null);
        y.release();
        return s;
      });
    }
    try (FileChannel ro = FileChannel.open(f, READ); FileChannel wo = FileChannel.open(f, WRITE)) {
      t.step("exclusiveOnReadOnly", () -> ro.tryLock(0, 1, false));
      t.step("sharedOnWriteOnly", () -> wo.tryLock(0, 1, true));
      t.step("sharedOnReadOnly", () -> {
        FileLock x = ro.tryLock(0, 1, true);
        x.release();
        return x.isShared();
      });
    }
  }

  private static Throwable assertThrowsAny(Transcript.Call c) {
    try {
      c.call();
      return new AssertionError("nothing thrown");
    } catch (Throwable e) {
      return e;
    }
  }

  static void watch(Path root, Transcript t) throws Exception {
    Path dir = Files.createDirectory(root.resolve("watched"));
    Files.writeString(dir.resolve("existing"), "e");
    try (WatchService ws = root.getFileSystem().newWatchService()) {
      WatchKey key = dir.register(ws, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
      t.step("watchable", () -> key.watchable());
      Files.writeString(dir.resolve("new"), "n");
      t.step("create", () -> awaitEvent(ws, ENTRY_CREATE, "new"));
      Files.writeString(dir.resolve("existing"), "changed", APPEND);
      t.step("modify", () -> awaitEvent(ws, ENTRY_MODIFY, "existing"));
      Files.delete(dir.resolve("new"));
      t.step("delete", () -> awaitEvent(ws, ENTRY_DELETE, "new"));
      t.step("registerFile", () -> dir.resolve("existing").register(ws, ENTRY_CREATE));
      t.step("registerMissing", () -> root.resolve("nope").register(ws, ENTRY_CREATE));
      t.step("valid", key::isValid);
      key.cancel();
      t.step("cancelled", key::isValid);
    }
    WatchService closed = root.getFileSystem().newWatchService();
    closed.close();
    t.step("pollClosed", () -> closed.poll());
  }

  /**
   * Bursts of writes to two files with a creation between them, left unpolled: the key must
   * hold one ENTRY_MODIFY per file (repeats only counted), in first-change order, as the JDK's
   * keys do. The counts themselves depend on when the watcher looked (inotify also merges
   * unread identical events), so only their being positive is compared.
   */
  static void watchCoalescing(Path root, Transcript t) throws Exception {
    Path dir = Files.createDirectory(root.resolve("watched"));
    Path done = Files.createDirectory(root.resolve("barrier"));
    Files.writeString(dir.resolve("f"), "");
    Files.writeString(dir.resolve("g"), "");
    try (WatchService ws = root.getFileSystem().newWatchService()) {
      WatchKey key = dir.register(ws, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
      WatchKey barrier = done.register(ws, ENTRY_CREATE);
      for (int i = 0; i < 40; i++) {
        Files.writeString(dir.resolve("f"), "x", APPEND);
      }
      Files.createFile(dir.resolve("h"));
      for (int i = 0; i < 40; i++) {
        Files.writeString(dir.resolve("f"), "y", APPEND);
      }
      Files.writeString(dir.resolve("g"), "z", APPEND);
      Files.writeString(dir.resolve("f"), "w", APPEND);
      t.step("barrier", () -> awaitBarrier(ws, barrier, done, "1"));
      t.step("burst", () -> describe(key.pollEvents()));
      t.step("reset", key::reset);
      for (int i = 0; i < 40; i++) {
        Files.writeString(dir.resolve("g"), "v", APPEND);
      }
      t.step("barrier2", () -> awaitBarrier(ws, barrier, done, "2"));
      t.step("nextPoll", () -> describe(key.pollEvents()));
      t.step("empty", () -> describe(key.pollEvents()));
    }
  }

  /**
   * More creations than a key holds (512) before anyone polls: the JDK drops them all for one
   * OVERFLOW event that counts every event after the 512th; the next poll starts afresh.
   */
  static void watchOverflow(Path root, Transcript t) throws Exception {
    Path dir = Files.createDirectory(root.resolve("watched"));
    Path done = Files.createDirectory(root.resolve("barrier"));
    try (WatchService ws = root.getFileSystem().newWatchService()) {
      WatchKey key = dir.register(ws, ENTRY_CREATE);
      WatchKey barrier = done.register(ws, ENTRY_CREATE);
      for (int i = 0; i < 600; i++) {
        Files.createFile(dir.resolve("n" + i));
      }
      t.step("barrier", () -> awaitBarrier(ws, barrier, done, "1"));
      t.step("overflowed", () -> {
        List<String> out = new ArrayList<>();
        for (WatchEvent<?> e : key.pollEvents()) {
          out.add(e.kind() + " " + e.context() + " x" + e.count());
        }
        return out;
      });
      t.step("reset", key::reset);
      Files.createFile(dir.resolve("after"));
      t.step("barrier2", () -> awaitBarrier(ws, barrier, done, "2"));
      t.step("afterwards", () -> describe(key.pollEvents()));
    }
  }

  /** Kind, context and whether the count is positive, of each event. */
  private static List<String> describe(List<WatchEvent<?>> events) {
    List<String> out = new ArrayList<>();
    for (WatchEvent<?> e : events) {
      out.add(e.kind() + " " + e.context() + (e.count() >= 1 ? "" : " count<1"));
    }
    return out;
  }

  /**
   * Creates {@code name} in {@code dir} (watched by {@code barrier}) and waits for its event,
   * leaving every other key that turns up signalled and unpolled. A watch service reports one
   * source in order (inotify's queue, the core's change feed), so once the barrier's event is
   * in, every event caused before it is in its key too.
   */
  static boolean awaitBarrier(WatchService ws, WatchKey barrier, Path dir, String name)
      throws Exception {
    Files.createFile(dir.resolve(name));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      WatchKey k = ws.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (k == null) {
        break;
      }
      if (k != barrier) {
        continue;
      }
      boolean found = false;
      for (WatchEvent<?> e : k.pollEvents()) {
        found |= e.context() != null && e.context().toString().equals(name);
      }
      k.reset();
      if (found) {
        return true;
      }
    }
    return false;
  }

  /** Polls (with a timeout, no sleeps) until {@code kind} for {@code name} arrives. */
  static boolean awaitEvent(WatchService ws, WatchEvent.Kind<Path> kind, String name)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      WatchKey k = ws.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (k == null) {
        break;
      }
      boolean found = false;
      for (WatchEvent<?> e : k.pollEvents()) {
        if (e.kind() == kind && e.context() != null && e.context().toString().equals(name)) {
          found = true;
        }
      }
      k.reset();
      if (found) {
        return true;
      }
    }
    return false;
  }

  static void fileStore(Path root, Transcript t) throws Exception {
    FileStore s = Files.getFileStore(root);
    t.step("positive", () -> (s.getTotalSpace() > 0) + "," + (s.getUsableSpace() > 0) + ","
        + (s.getUnallocatedSpace() > 0) + "," + (s.getBlockSize() > 0) + ","
        + (s.getUsableSpace() <= s.getTotalSpace()));
    t.step("attribute", () -> ((Long) s.getAttribute("totalSpace")) == s.getTotalSpace());
    t.step("views", () -> s.supportsFileAttributeView("posix") + "," + s.supportsFileAttributeView("basic")
        + "," + s.supportsFileAttributeView(PosixFileAttributeView.class) + "," + s.isReadOnly());
    t.step("missing", () -> Files.getFileStore(root.resolve("zz")));
    t.step("fsViews", () -> root.getFileSystem().supportedFileAttributeViews().containsAll(
        List.of("basic", "posix", "unix", "owner", "user")));
  }
}
