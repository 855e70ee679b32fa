package dev.agentfs.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A python3 process running {@code fsops.py} below a directory (usually a mount point): the test
 * sends it one command per line and reads its replies, each "synced ..." reply a promise that
 * the change was fsync'd. Replies are read with a timeout, so a hung mount fails the test
 * instead of hanging it; stderr is kept for the failure message.
 */
final class FsOps implements AutoCloseable {
  private static final String EOF = "\0eof";

  private final Process process;
  private final Writer in;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuffer err = new StringBuffer();

  private FsOps(Process process) {
    this.process = process;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread out = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException e) {
        err.append(e);
      } finally {
        lines.add(EOF);
      }
    }, "fsops-out");
    out.setDaemon(true);
    out.start();
    Thread errs = new Thread(() -> {
      try {
        err.append(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        err.append(e);
      }
    }, "fsops-err");
    errs.setDaemon(true);
    errs.start();
  }

  /** Starts fsops.py with {@code root} as the directory its paths are relative to. */
  static FsOps start(Path root) throws IOException {
    Path script;
    try {
      script = Path.of(FsOps.class.getResource("fsops.py").toURI());
    } catch (URISyntaxException e) {
      throw new IOException(e);
    }
    List<String> cmd = new ArrayList<>(List.of("python3", "-u", script.toString(),
        root.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
    pb.environment().put("LC_ALL", "C");
    return new FsOps(pb.start());
  }

  long pid() {
    return process.pid();
  }

  /** Sends one command without waiting for a reply. */
  void send(String command) throws IOException {
    in.write(command + "\n");
    in.flush();
  }

  /** The next reply line; fails on EOF, an error reply or after 60 s. */
  String read() throws InterruptedException {
    String line = lines.poll(60, TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError("no reply from fsops.py within 60 s; stderr: " + err);
    }
    if (line.equals(EOF)) {
      throw new AssertionError("fsops.py ended; stderr: " + err);
    }
    if (line.startsWith("error ")) {
      throw new AssertionError(line + "; stderr: " + err);
    }
    return line;
  }

  /** Sends {@code command} and returns its reply. */
  String call(String command) throws IOException, InterruptedException {
    send(command);
    return read();
  }

  /** Lines of a manifest of {@code dirs}, up to the closing "end". */
  List<String> manifest(String... dirs) throws IOException, InterruptedException {
    send("manifest " + String.join(" ", dirs));
    List<String> out = new ArrayList<>();
    for (String line = read(); !line.equals("end"); line = read()) {
      out.add(line);
    }
    return out;
  }

  /** SIGKILL; for a writer whose mount just died under it. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    try {
      in.write("exit\n");
      in.flush();
      in.close();
    } catch (IOException e) {
      // already gone
    }
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
