package dev.agentfs.it.stress;

import dev.agentfs.AgentFsException;
import dev.agentfs.Errno;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@link Ops} carried out by a python child process (ops_server.py): each call sends one line
 * and waits for the answer, so the system calls come from another process, with its own
 * pid and file table, exactly as an agent's tools would make them. Errors arrive as the raw
 * errno the child saw.
 */
public final class ChildOps implements Ops, AutoCloseable {
  private final Process proc;
  private final BufferedWriter in;
  private final BufferedReader out;
  private final Path errLog;
  private final long pid;

  public ChildOps(Path root, Path errLog) throws IOException {
    String script;
    try (InputStream s = ChildOps.class.getResourceAsStream("ops_server.py")) {
      if (s == null) {
        throw new IOException("ops_server.py is missing from the test class path");
      }
      script = new String(s.readAllBytes(), StandardCharsets.UTF_8);
    }
    this.errLog = errLog;
    ProcessBuilder pb = new ProcessBuilder("python3", "-u", "-c", script, root.toString())
        .redirectError(errLog.toFile());
    pb.environment().put("LC_ALL", "C");
    this.proc = pb.start();
    this.in = new BufferedWriter(new OutputStreamWriter(proc.getOutputStream(),
        StandardCharsets.UTF_8));
    this.out = new BufferedReader(new InputStreamReader(proc.getInputStream(),
        StandardCharsets.UTF_8));
    this.pid = proc.pid();
  }

  public long pid() {
    return pid;
  }

  private String call(String path, @Nullable String other, Object... parts)
      throws AgentFsException {
    String reply;
    try {
      StringBuilder sb = new StringBuilder();
      for (Object o : parts) {
        sb.append(sb.length() == 0 ? "" : "\t").append(o);
      }
      in.write(sb.append('\n').toString());
      in.flush();
      reply = out.readLine();
    } catch (IOException e) {
      throw new AssertionError("python child " + pid + " is gone: " + e + "; " + stderr(), e);
    }
    if (reply == null) {
      throw new AssertionError("python child " + pid + " ended; " + stderr());
    }
    if (reply.startsWith("ok\t")) {
      return reply.substring(3);
    }
    String[] f = reply.split("\t", 3);
    if (f.length < 3 || !f[0].equals("err")) {
      throw new AssertionError("python child " + pid + " answered: " + reply);
    }
    int code = Integer.parseInt(f[1]);
    Errno e = Errno.of(code);
    return throwErr(e, path, other, "errno " + code + " (" + f[2] + ") in process " + pid);
  }

  private static String throwErr(Errno e, String path, @Nullable String other, String detail)
      throws AgentFsException {
    throw new AgentFsException(e, path, other, detail);
  }

  private String stderr() {
    try {
      return "stderr: " + Files.readString(errLog);
    } catch (IOException e) {
      return "stderr unreadable: " + e;
    }
  }

  private static String oct(int mode) {
    return Integer.toOctalString(mode);
  }

  @Override
  public void create(String path, int mode, int tag, int len) throws AgentFsException {
    call(path, null, "create", path, oct(mode), tag, len);
  }

  @Override
  public void write(String path, long offset, int tag, int len) throws AgentFsException {
    call(path, null, "write", path, offset, tag, len);
  }

  @Override
  public String read(String path) throws AgentFsException {
    return call(path, null, "read", path);
  }

  @Override
  public void truncate(String path, long size) throws AgentFsException {
    call(path, null, "truncate", path, size);
  }

  @Override
  public void rename(String from, String to) throws AgentFsException {
    call(from, to, "rename", from, to);
  }

  @Override
  public void unlink(String path) throws AgentFsException {
    call(path, null, "unlink", path);
  }

  @Override
  public void link(String existing, String path) throws AgentFsException {
    call(existing, path, "link", existing, path);
  }

  @Override
  public void mkdir(String path, int mode) throws AgentFsException {
    call(path, null, "mkdir", path, oct(mode));
  }

  @Override
  public void rmdir(String path) throws AgentFsException {
    call(path, null, "rmdir", path);
  }

  @Override
  public void symlink(String target, String path) throws AgentFsException {
    call(path, target, "symlink", target, path);
  }

  @Override
  public void chmod(String path, int mode) throws AgentFsException {
    call(path, null, "chmod", path, oct(mode));
  }

  @Override
  public int scan(String dir) throws AgentFsException {
    return Integer.parseInt(call(dir, null, "scan", dir));
  }

  /** Ends the child: closing its input ends its loop; it is killed if it does not exit. */
  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException e) {
      // it is gone already
    }
    try {
      if (!proc.waitFor(30, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
        proc.waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      proc.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
