package dev.agentfs;

import dev.agentfs.core.BranchFs;
import dev.agentfs.core.FsCore;
import dev.agentfs.core.Router;
import dev.agentfs.core.TreeDiff;
import dev.agentfs.memory.MemoryBackstore;
import dev.agentfs.spi.Backstore;
import dev.agentfs.spi.MountHandle;
import dev.agentfs.spi.TransportProvider;
import dev.agentfs.vfs.Caller;
import dev.agentfs.vfs.ChangeListener;
import dev.agentfs.vfs.Vfs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * An isolated, snapshot-able filesystem for one agent (or many): a copy-on-write tree with
 * O(1) snapshots and writable branches, stored in a {@link Backstore}, usable from Java through
 * {@link Branch} and from any process once mounted with FUSE.
 *
 * <pre>{@code
 * try (AgentFs fs = AgentFs.builder().build()) {
 *   Branch main = fs.main();
 *   main.mkdirs("/src");
 *   main.write("/src/App.java", "class App {}");
 *   Snapshot base = main.snapshot("base");
 *   Branch task = fs.createBranch("task-1", base);
 *   task.write("/src/App.java", "class App { int x; }");
 *   fs.diff("base", "task-1").forEach(System.out::println);   // MODIFIED /src/App.java
 *   main.readString("/src/App.java");                         // still "class App {}"
 * }
 * }</pre>
 *
 * Thread-safe. {@link #close()} unmounts every mount of this instance and closes the backstore.
 *
 * @since 0.1
 */
public final class AgentFs implements AutoCloseable {
  /** The name of the branch every filesystem starts with. */
  public static final String MAIN = "main";

  /** The mount-table source of {@link #mountSnapshot} mounts, before ":NAME". */
  public static final String SNAPSHOT_SOURCE = "agentfs-snapshot";

  private final Configuration config;
  private final Backstore backstore;
  private final FsCore core;
  private final List<MountHandle> mounts = new CopyOnWriteArrayList<>();
  private final List<Router> routers = new CopyOnWriteArrayList<>();
  private final MountControl control = new MountControl(this);
  private final Checkpointer checkpointer;
  private volatile boolean closed;

  private AgentFs(Configuration config, Backstore backstore, FsCore core, LongSupplier clock) {
    this.config = config;
    this.backstore = backstore;
    this.core = core;
    this.checkpointer = new Checkpointer(core, config.checkpoints(), clock);
    if (!config.checkpoints().every().isZero()) {
      checkpointer.start(java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agentfs-checkpoints");
        t.setDaemon(true);
        return t;
      }));
    }
  }

  /**
   * The AgentFS mounts on this machine, of this and of other processes, with their health;
   * the same as {@link Mounts#list()} (needs agentfs-fuse on the class path).
   */
  public static List<MountInfo> list() throws AgentFsException {
    return Mounts.list();
  }

  /**
   * The automatic checkpoints of this filesystem ({@link Configuration#checkpoints()}): to
   * take or prune them now, or to list them.
   */
  public Checkpointer checkpoints() {
    return checkpointer;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Configuration configuration() {
    return config;
  }

  public Backstore backstore() {
    return backstore;
  }

  /** The default branch. */
  public Branch main() {
    return wrap(MAIN);
  }

  private Branch wrap(String name) {
    try {
      return new Branch(core, core.branch(name), Caller.ROOT);
    } catch (AgentFsException e) {
      throw new IllegalStateException(e);
    }
  }

  public Branch branch(String name) throws AgentFsException {
    return new Branch(core, core.branch(name), Caller.ROOT);
  }

  public List<Branch> branches() {
    List<Branch> out = new ArrayList<>();
    for (String n : core.branchNames()) {
      try {
        out.add(branch(n));
      } catch (AgentFsException e) {
        // deleted meanwhile
      }
    }
    return out;
  }

  /** Snapshots the default branch. */
  public Snapshot snapshot(String name) throws AgentFsException {
    return main().snapshot(name);
  }

  public Snapshot getSnapshot(String name) throws AgentFsException {
    return new Snapshot(name, core.snapshotBranch(name), core.snapshotCreatedNs(name));
  }

  public List<Snapshot> snapshots() {
    List<Snapshot> out = new ArrayList<>();
    for (String n : core.snapshotNames()) {
      try {
        out.add(getSnapshot(n));
      } catch (AgentFsException e) {
        // deleted meanwhile
      }
    }
    return out;
  }

  /** A new writable branch starting from {@code from}; O(1). */
  public Branch createBranch(String name, Snapshot from) throws AgentFsException {
    BranchFs b = core.createBranch(name, from.name());
    return new Branch(core, b, Caller.ROOT);
  }

  /**
   * A new writable branch starting from the current state of {@code from}, through a snapshot
   * named {@code name + "@base"} (or {@code @base-2}, ... when taken) that becomes its base.
   */
  public Branch createBranch(String name, Branch from) throws AgentFsException {
    String base = name + "@base";
    // A branch deleted and made again keeps its old base around: pick the next free name.
    java.util.Set<String> taken = new java.util.HashSet<>(core.snapshotNames());
    for (int i = 2; taken.contains(base); i++) {
      base = name + "@base-" + i;
    }
    Snapshot snap = from.snapshot(base);
    try {
      return createBranch(name, snap);
    } catch (AgentFsException | RuntimeException e) {
      // The base was made for this branch only (EDQUOT, EEXIST, ...): leave nothing behind.
      try {
        core.deleteSnapshot(base);
      } catch (AgentFsException x) {
        e.addSuppressed(x);
      }
      throw e;
    }
  }

  /**
   * Applies what {@code branch} changed since its base snapshot to the branch that snapshot
   * was taken from. Changes the target also made since the base are conflicts: reported, not
   * applied. With {@code dryRun} nothing changes and the result says what would.
   */
  public CommitResult commit(String branch, boolean dryRun) throws AgentFsException {
    Branch b = branch(branch);
    String base = b.base().orElseThrow(() -> new AgentFsException(Errno.EINVAL, branch, null,
        "the branch has no base snapshot to commit against"));
    return commit(branch, core.snapshotBranch(base), dryRun);
  }

  /** Like {@link #commit(String, boolean)}, onto any branch {@code target}. */
  public CommitResult commit(String branch, String target, boolean dryRun)
      throws AgentFsException {
    if (branch.equals(target)) {
      throw new AgentFsException(Errno.EINVAL, branch, null, "cannot commit a branch onto itself");
    }
    return Commits.commit(this, branch(branch), branch(target), dryRun);
  }

  /**
   * Overlay mode: writes what {@code branch} changed since its base into the lower workspace
   * on the host, file by file atomically. A workspace file that changed since the base is a
   * conflict and is left alone.
   */
  public CommitResult commitToLower(String branch, boolean dryRun) throws AgentFsException {
    Path lower = core.lowerRoot();
    if (lower == null) {
      throw new AgentFsException(Errno.EINVAL, branch, null, "not an overlay: no lower workspace");
    }
    return Commits.commitToLower(this, branch(branch), lower, dryRun);
  }

  /**
   * Resets {@code branch} to {@code snapshot} in place: processes bound to it see the
   * snapshot's tree at once; handles on files the snapshot lacks answer ESTALE.
   */
  public void resetBranch(String branch, String snapshot) throws AgentFsException {
    core.resetBranch(branch, snapshot);
  }

  /**
   * Restores one path (a file or a whole subtree) of {@code branch} to what it is in
   * {@code snapshot}, leaving the rest of the branch alone. A path the snapshot lacks is
   * removed from the branch.
   */
  public void restore(String branch, String snapshot, String path) throws AgentFsException {
    branch(branch).restore(path, snapshot);
  }

  /** A read-only view of a snapshot through the path API (EROFS on every change). */
  public Branch snapshotView(String snapshot) throws AgentFsException {
    return new Branch(core, core.snapshotView(snapshot), Caller.ROOT);
  }

  /**
   * Mounts snapshot {@code snapshot} read-only at {@code mountPoint}: writes give EROFS.
   * O(1): the mount serves the snapshot's tree as it is. Its source in the mount table is
   * {@code agentfs-snapshot:NAME} (just {@code agentfs-snapshot} when the name has characters
   * a mount option cannot carry), which is how {@link Mounts#list()} recognises it.
   */
  public MountHandle mountSnapshot(String snapshot, Path mountPoint) throws AgentFsException {
    if (closed) {
      throw new AgentFsException(Errno.EBADF, mountPoint.toString(), null, "AgentFs is closed");
    }
    TransportProvider t = transport(config.transport(), mountPoint);
    refuseStoreUnder(mountPoint);
    String source = SNAPSHOT_SOURCE
        + (snapshot.matches("[A-Za-z0-9._@+:-]{1,200}") ? ":" + snapshot : "");
    MountHandle m = t.mount(core.snapshotView(snapshot), mountPoint,
        config.toBuilder().enable(Feature.READ_ONLY).fsName(source).build());
    mounts.add(m);
    return m;
  }

  /** Deletes a snapshot and reclaims the storage only it used. */
  public void deleteSnapshot(String name) throws AgentFsException {
    core.deleteSnapshot(name);
  }

  /** Deletes a branch (EBUSY while files are open in it) and reclaims what only it used. */
  public void deleteBranch(String name) throws AgentFsException {
    core.deleteBranch(name);
  }

  /** What changed between two snapshots or branches, named by their names. */
  public List<TreeDiff.Change> diff(String from, String to) throws AgentFsException {
    return core.diff(from, to);
  }

  /**
   * What changed from {@code from} to {@code to} as one unified diff ({@code diff -u}) of the
   * text files; binary or very large files get a one-line note instead of a patch.
   */
  public String patch(String from, String to) throws AgentFsException {
    Branch a = viewOf(from);
    Branch b = viewOf(to);
    StringBuilder out = new StringBuilder();
    for (TreeDiff.Change c : diff(from, to)) {
      if (c.directory() || !c.dataChanged() && c.kind() != TreeDiff.Kind.RENAMED) {
        continue;
      }
      String oldPath = c.oldPath() != null ? c.oldPath() : c.path();
      byte[] before = c.kind() == TreeDiff.Kind.ADDED ? null : contentOf(a, oldPath);
      byte[] after = c.kind() == TreeDiff.Kind.DELETED ? null : contentOf(b, c.path());
      String p = UnifiedDiff.diff(c.path(), before, after);
      if (p == null) {
        out.append("Binary or large file ").append(c.path()).append(" differs\n");
      } else {
        out.append(p);
      }
    }
    return out.toString();
  }

  private Branch viewOf(String ref) throws AgentFsException {
    return core.snapshotNames().contains(ref) ? snapshotView(ref) : branch(ref);
  }

  private static byte @Nullable [] contentOf(Branch b, String path) throws AgentFsException {
    dev.agentfs.vfs.Attr a = b.lstat(path);
    if (a.isSymlink()) {
      return (b.readlink(path) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    if (!a.isRegular() || a.size() > UnifiedDiff.MAX_BYTES) {
      return new byte[UnifiedDiff.MAX_BYTES + 1];
    }
    return b.read(path);
  }

  /** The inode-level view of the default branch. */
  public Vfs vfs() {
    return main().vfs();
  }

  /** Told about every change in every branch; see {@link ChangeListener}. */
  public void addListener(ChangeListener l) {
    core.addListener(l);
  }

  public void removeListener(ChangeListener l) {
    core.removeListener(l);
  }

  /** The core, for transports and tools in this project. */
  public FsCore core() {
    return core;
  }

  /**
   * Mounts the default branch at {@code mountPoint} with the configured transport. Returns
   * when the kernel answers requests; {@link #close()} unmounts.
   */
  public MountHandle mount(Path mountPoint) throws AgentFsException {
    return mount(main(), mountPoint);
  }

  public MountHandle mount(Branch branch, Path mountPoint) throws AgentFsException {
    if (closed) {
      throw new AgentFsException(Errno.EBADF, mountPoint.toString(), null, "AgentFs is closed");
    }
    TransportProvider t = transport(config.transport(), mountPoint);
    refuseStoreUnder(mountPoint);
    core.hideFromLower(mountPoint);
    Router router = new Router(core, branch.name());
    MountControl plane = control.forMount(router, mountPoint.toAbsolutePath().normalize());
    router.setControlHandler((caller, request, max) -> plane.handle(caller, request));
    MountHandle m = t.mount(router, mountPoint, config);
    router.setInvalidator(name -> m.invalidateEntry(Vfs.ROOT, name));
    routers.add(router);
    ChangeListener inval = new ChangeListener() {
      @Override
      public void inodeChanged(long ino) {}

      @Override
      public void entryChanged(long parent, byte[] name) {}

      @Override
      public void inodeChanged(String b, long ino) {
        long node = router.nodeIdIfRouted(b, ino);
        if (node > 0) {
          m.invalidateInode(node);
        }
      }

      @Override
      public void entryChanged(String b, long parent, byte[] name) {
        long node = router.nodeIdIfRouted(b, parent);
        if (node > 0) {
          m.invalidateEntry(node, name);
        }
      }
    };
    core.addListener(inval);
    MountHandle tracked = new MountHandle() {
      @Override
      public Path mountPoint() {
        return m.mountPoint();
      }

      @Override
      public java.util.Set<String> grantedFeatures() {
        return m.grantedFeatures();
      }

      @Override
      public boolean isAlive() {
        return m.isAlive();
      }

      @Override
      public void invalidateInode(long ino) {
        m.invalidateInode(ino);
      }

      @Override
      public void invalidateEntry(long parent, byte[] name) {
        m.invalidateEntry(parent, name);
      }

      @Override
      public void close() {
        core.removeListener(inval);
        mounts.remove(this);
        routers.remove(router);
        m.close();
      }
    };
    mounts.add(tracked);
    return tracked;
  }

  /**
   * A mount at or above the backstore's directory would hide the store behind the mount it
   * serves: every file the store opens by path would go through the mount itself.
   */
  private void refuseStoreUnder(Path mountPoint) throws AgentFsException {
    Path store = backstore.hostDirectory();
    if (store == null) {
      return;
    }
    Path s = real(store);
    Path mp = real(mountPoint);
    if (s.startsWith(mp)) {
      throw new AgentFsException(Errno.EINVAL, mountPoint.toString(), store.toString(),
          "the backstore's directory lies under the mount point: the mount would hide the "
              + "store it serves; mount elsewhere or move the store");
    }
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (java.io.IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  private static TransportProvider transport(String name, Path mountPoint)
      throws AgentFsException {
    List<String> seen = new ArrayList<>();
    for (TransportProvider p : ServiceLoader.load(TransportProvider.class)) {
      seen.add(p.name());
      if (p.name().equals(name)) {
        String why = p.unavailableReason();
        if (why != null) {
          throw new AgentFsException(Errno.ENODEV, mountPoint.toString(), null, why);
        }
        return p;
      }
    }
    throw new AgentFsException(Errno.ENOSYS, mountPoint.toString(), null,
        "no transport named '" + name + "' on the class path (found " + seen
            + "); add the agentfs-fuse module");
  }

  /** The routers of this instance's mounts (one per mount). */
  List<Router> routers() {
    return List.copyOf(routers);
  }

  /** The control plane: the same operations the control file and the CLI offer. */
  public dev.agentfs.control.ControlPlane control() {
    return control;
  }

  /**
   * Binds process {@code pid} and the processes it starts to {@code branch} on every mount of
   * this instance: they see that branch at the mount's paths.
   */
  public void bind(int pid, String branch) throws AgentFsException {
    control.bind(dev.agentfs.vfs.Caller.ROOT, pid, branch);
  }

  public void unbind(int pid) throws AgentFsException {
    control.unbind(dev.agentfs.vfs.Caller.ROOT, pid);
  }

  /** The branch {@code pid} sees at this instance's first mount. */
  public String branchOf(int pid) throws AgentFsException {
    return control.branchOf(dev.agentfs.vfs.Caller.ROOT, pid);
  }

  /** The mounts of this instance that are still open. */
  public List<MountHandle> mounts() {
    return List.copyOf(mounts);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    checkpointer.close();
    control.closeExports();
    for (MountHandle m : mounts) {
      m.close();
    }
    core.close();
    backstore.close();
  }

  /**
   * Collects the backstore, clock and {@link Configuration} for a new {@link AgentFs}. Unset
   * values take documented defaults: an unbounded in-memory backstore, the system clock,
   * {@link Configuration#defaults()}, a root directory owned by uid/gid 0 with mode 0755.
   */
  public static final class Builder {
    private @Nullable Backstore backstore;
    private Configuration.Builder config = Configuration.builder();
    private LongSupplier clock = Builder::systemNanos;
    private int rootUid;
    private int rootGid;
    private int rootMode = 0755;
    private @Nullable Path lower;
    private Materialize materialize = Materialize.LAZY;

    private Builder() {}

    private static long systemNanos() {
      Instant now = Instant.now();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    public Builder backstore(Backstore b) {
      this.backstore = Objects.requireNonNull(b, "backstore");
      return this;
    }

    public Builder configuration(Configuration c) {
      this.config = c.toBuilder();
      return this;
    }

    public Builder transport(String name) {
      config.transport(name);
      return this;
    }

    public Builder threads(int n) {
      config.threads(n);
      return this;
    }

    public Builder passthrough(boolean on) {
      config.passthrough(on ? Passthrough.REQUIRED : Passthrough.OFF);
      return this;
    }

    public Builder passthrough(Passthrough p) {
      config.passthrough(p);
      return this;
    }

    public Builder enable(Feature... fs) {
      config.enable(fs);
      return this;
    }

    /** See {@link Configuration#maxBranches()}. */
    public Builder maxBranches(int n) {
      config.maxBranches(n);
      return this;
    }

    /** See {@link Configuration#maxSnapshots()}. */
    public Builder maxSnapshots(int n) {
      config.maxSnapshots(n);
      return this;
    }

    /** See {@link Configuration#maxOpenHandles()}. */
    public Builder maxOpenHandles(int n) {
      config.maxOpenHandles(n);
      return this;
    }

    /** Automatic checkpoints with retention; see {@link CheckpointPolicy}. */
    public Builder checkpoints(CheckpointPolicy policy) {
      config.checkpoints(policy);
      return this;
    }

    public Builder disable(Feature... fs) {
      config.disable(fs);
      return this;
    }

    /**
     * Overlay mode: the tree starts as {@code workspace}, read through on demand; the first
     * change to a file copies it into the backstore, deletions hide lower entries. The
     * workspace itself is never modified.
     */
    public Builder lower(Path workspace) {
      return lower(workspace, Materialize.LAZY);
    }

    /**
     * Overlay mode with a choice of when lower files become the branch's own: {@link
     * Materialize#LAZY} as {@link #lower(Path)}; {@link Materialize#EAGER} and {@link
     * Materialize#CLONE} copy (or reflink) the whole workspace into the backstore when the
     * filesystem is built, so the main branch never reads the workspace again.
     */
    public Builder lower(Path workspace, Materialize mode) {
      this.lower = Objects.requireNonNull(workspace, "lower");
      this.materialize = Objects.requireNonNull(mode, "materialize");
      return this;
    }

    /** Shorthand for the configuration's {@link Configuration.Builder#lowerRefresh}. */
    public Builder lowerRefresh(java.time.Duration d) {
      config.lowerRefresh(d);
      return this;
    }

    /** The clock for timestamps, in nanoseconds since the epoch (tests inject a fake one). */
    public Builder clock(LongSupplier nanos) {
      this.clock = Objects.requireNonNull(nanos, "clock");
      return this;
    }

    /** Owner and mode of the root directory of a new filesystem. */
    public Builder root(int uid, int gid, int mode) {
      if (uid < 0 || gid < 0 || (mode & ~07777) != 0) {
        throw new IllegalArgumentException("bad root owner/mode " + uid + ":" + gid + " "
            + Integer.toOctalString(mode));
      }
      this.rootUid = uid;
      this.rootGid = gid;
      this.rootMode = mode;
      return this;
    }

    /**
     * Builds the filesystem. A refused materialisation or an unusable lower directory or
     * backstore is an {@link IllegalArgumentException} whose cause is the {@link
     * AgentFsException}; {@link #open()} throws that exception itself.
     */
    public AgentFs build() {
      try {
        return open();
      } catch (AgentFsException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }

    /**
     * Like {@link #build()}, but failures come as the {@link AgentFsException} with the errno
     * and path that say what went wrong (e.g. ENOTSUP or EXDEV and the lower file for a
     * {@link Materialize#CLONE} the host cannot do). A backstore this builder made itself is
     * closed again on failure; one passed in is left to its owner.
     */
    public AgentFs open() throws AgentFsException {
      Configuration c = config.build();
      Backstore b = backstore != null ? backstore : MemoryBackstore.create();
      FsCore core = null;
      try {
        core = new FsCore(b, clock, c.has(Feature.ROOT_BYPASS), c.has(Feature.READ_ONLY),
            c.has(Feature.STRICT_UTF8_NAMES), c.has(Feature.CONFINED_SYMLINKS), rootUid, rootGid,
            rootMode, lower,
            new FsCore.Limits(c.maxBranches(), c.maxSnapshots(), c.maxOpenHandles()),
            c.lowerRefreshNanos());
        Path storeDir = b.hostDirectory();
        if (storeDir != null) {
          // An overlay whose lower tree holds the store must not show the store's files
          // (nor materialise them).
          core.hideFromLower(storeDir);
          core.hideFromLower(real(storeDir));
        }
        if (lower != null && materialize != Materialize.LAZY) {
          core.materialize(MAIN, materialize == Materialize.CLONE);
        }
      } catch (AgentFsException | RuntimeException e) {
        if (core != null) {
          core.close();
        }
        if (backstore == null) {
          b.close();
        }
        throw e;
      }
      return new AgentFs(c, b, core, clock);
    }

    /** Builds and mounts the default branch; closing the result unmounts. */
    public AgentFs mount(Path mountPoint) throws AgentFsException {
      AgentFs fs = open();
      try {
        fs.mount(mountPoint);
      } catch (AgentFsException | RuntimeException e) {
        fs.close();
        throw e;
      }
      return fs;
    }
  }
}
