package dev.agentfs;

import dev.agentfs.core.FsCore;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the automatic checkpoints a {@link CheckpointPolicy} asks for and prunes them by its
 * retention rules. A checkpoint is an ordinary snapshot named
 * {@code auto-<branch>-<yyyyMMdd'T'HHmmss'Z'>} (UTC; {@code -2}, {@code -3}, ... for more in
 * the same second, always past the highest number so far; never older than the branch's newest
 * checkpoint, even when the clock is set back), so it shows in {@code snapshot list}, under
 * {@code .agentfs/snapshots/}
 * and can be restored or reset to like any other; the name is how this class recognises its
 * own, and its time is the one retention counts with. Pruning deletes the checkpoints no rule
 * keeps, in one garbage-collection sweep that reclaims what only they reached; a checkpoint a
 * branch was created from is never deleted while that branch exists (commit needs it).
 *
 * <p>Time is whatever {@link #tick(Instant)} and {@link #checkpoint(String, Instant)} are
 * given, so tests drive it with made-up instants and never sleep; an {@link AgentFs} whose
 * policy has an interval drives {@link #tick(Instant)} from a single-thread
 * {@link ScheduledExecutorService} with its clock. Thread-safe.
 *
 * @since 0.1
 */
public final class Checkpointer implements AutoCloseable {
  /** What every checkpoint's name starts with. */
  public static final String PREFIX = "auto-";

  private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** One checkpoint: a snapshot of {@code branch} taken at {@code at}. */
  public record Checkpoint(String name, String branch, Instant at, int seq) {}

  /**
   * What one checkpoint request did: the branch's newest checkpoint afterwards (null when it
   * has none), whether this request created it, and which checkpoints pruning deleted.
   */
  public record Result(String branch, @Nullable String checkpoint, boolean created,
      List<String> pruned) {
    public Result {
      pruned = List.copyOf(pruned);
    }

    /** As the control file's CHECKPOINT op answers it. */
    public Map<String, Object> toJson() {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("branch", branch);
      o.put("checkpoint", checkpoint);
      o.put("created", created);
      o.put("pruned", pruned);
      return o;
    }
  }

  private final FsCore core;
  private final CheckpointPolicy policy;
  private final LongSupplier clockNanos;
  private volatile @Nullable ScheduledExecutorService scheduler;

  Checkpointer(FsCore core, CheckpointPolicy policy, LongSupplier clockNanos) {
    this.core = core;
    this.policy = policy;
    this.clockNanos = clockNanos;
  }

  public CheckpointPolicy policy() {
    return policy;
  }

  /** Now by the filesystem's clock. */
  public Instant now() {
    return Instant.ofEpochSecond(0, clockNanos.getAsLong());
  }

  /**
   * One timer pass: checkpoints every branch that changed since its last checkpoint, then
   * prunes every branch's checkpoints. Returns the names created. A branch that cannot be
   * checkpointed (deleted meanwhile, name too long) is logged and skipped.
   */
  public synchronized List<String> tick(Instant now) {
    List<String> created = new ArrayList<>();
    for (String b : core.branchNames()) {
      try {
        Result r = take(b, now);
        if (r.created()) {
          created.add(r.checkpoint());
        }
      } catch (AgentFsException e) {
        LOG.warn("checkpoint of branch {} skipped: {}", b, e.getMessage());
      }
    }
    try {
      pruneAll();
    } catch (AgentFsException e) {
      LOG.warn("pruning checkpoints failed: {}", e.getMessage());
    }
    return created;
  }

  /**
   * What {@code branch exec} asks before each command: a checkpoint of {@code branch} when
   * the policy checkpoints on exec ({@link #checkpoint(String, Instant)}), else nothing.
   */
  public synchronized Result beforeExec(String branch, Instant now) throws AgentFsException {
    if (!policy.onExec()) {
      core.branch(branch);
      List<Checkpoint> mine = list(branch);
      return new Result(branch, mine.isEmpty() ? null : mine.get(0).name(), false, List.of());
    }
    return checkpoint(branch, now);
  }

  /**
   * Checkpoints {@code branch} at {@code now} unless it did not change since its newest
   * checkpoint, then prunes its checkpoints. ENOENT for an unknown branch.
   */
  public synchronized Result checkpoint(String branch, Instant now) throws AgentFsException {
    Result r = take(branch, now);
    return new Result(branch, r.checkpoint(), r.created(), prune(branch));
  }

  private Result take(String branch, Instant now) throws AgentFsException {
    core.branch(branch);
    List<Checkpoint> mine = list(branch);
    if (!mine.isEmpty() && core.diff(mine.get(0).name(), branch).isEmpty()) {
      return new Result(branch, mine.get(0).name(), false, List.of());
    }
    // Never older than the newest checkpoint (a clock set back), and past the highest number
    // of its second, not the first free name: pruning frees names, and one reused would sort
    // as older than the checkpoints it follows, and be pruned first.
    Instant second = now.truncatedTo(ChronoUnit.SECONDS);
    if (!mine.isEmpty() && mine.get(0).at().isAfter(second)) {
      second = mine.get(0).at();
    }
    String base = PREFIX + branch + "-" + STAMP.format(second);
    int seq = 1;
    for (Checkpoint k : mine) {
      if (k.at().equals(second)) {
        seq = Math.max(seq, k.seq() + 1);
      }
    }
    Set<String> taken = new HashSet<>(core.snapshotNames());
    String name = seq == 1 ? base : base + "-" + seq;
    while (taken.contains(name)) {
      name = base + "-" + ++seq;
    }
    core.snapshot(branch, name);
    return new Result(branch, name, true, List.of());
  }

  /** The checkpoints of {@code branch} (also of a deleted one), newest first. */
  public List<Checkpoint> list(String branch) {
    List<Checkpoint> out = new ArrayList<>();
    for (Checkpoint c : all()) {
      if (c.branch().equals(branch)) {
        out.add(c);
      }
    }
    return out;
  }

  /** Every checkpoint, newest first. */
  private List<Checkpoint> all() {
    List<Checkpoint> out = new ArrayList<>();
    for (String n : core.snapshotNames()) {
      if (!n.startsWith(PREFIX)) {
        continue;
      }
      try {
        Checkpoint c = parse(n, core.snapshotBranch(n));
        if (c != null) {
          out.add(c);
        }
      } catch (AgentFsException e) {
        // deleted meanwhile
      }
    }
    out.sort(Comparator.comparing(Checkpoint::at).thenComparingInt(Checkpoint::seq)
        .reversed());
    return out;
  }

  /** The checkpoint {@code name} of {@code branch} stands for, or null when it is none. */
  static @Nullable Checkpoint parse(String name, String branch) {
    String p = PREFIX + branch + "-";
    if (!name.startsWith(p)) {
      return null;
    }
    String rest = name.substring(p.length());
    int seq = 1;
    int dash = rest.indexOf('-');
    if (dash >= 0) {
      String s = rest.substring(dash + 1);
      if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
        return null;
      }
      seq = Integer.parseInt(s);
      rest = rest.substring(0, dash);
    }
    try {
      return new Checkpoint(name, branch, Instant.from(STAMP.parse(rest)), seq);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** Deletes the checkpoints of {@code branch} retention does not keep; returns them. */
  public synchronized List<String> prune(String branch) throws AgentFsException {
    return core.deleteSnapshots(doomed(list(branch), protectedBases()));
  }

  /** {@link #prune(String)} of every branch's checkpoints in one sweep. */
  public synchronized List<String> pruneAll() throws AgentFsException {
    Map<String, List<Checkpoint>> byBranch = new LinkedHashMap<>();
    for (Checkpoint c : all()) {
      byBranch.computeIfAbsent(c.branch(), k -> new ArrayList<>()).add(c);
    }
    Set<String> bases = protectedBases();
    List<String> doomed = new ArrayList<>();
    for (List<Checkpoint> cs : byBranch.values()) {
      doomed.addAll(doomed(cs, bases));
    }
    return core.deleteSnapshots(doomed);
  }

  private List<String> doomed(List<Checkpoint> newestFirst, Set<String> bases) {
    List<Instant> times = new ArrayList<>();
    for (Checkpoint c : newestFirst) {
      times.add(c.at());
    }
    Set<Integer> kept = Retention.kept(times, policy.keepLast(), policy.keepHourly());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < newestFirst.size(); i++) {
      String n = newestFirst.get(i).name();
      if (!kept.contains(i) && !bases.contains(n)) {
        out.add(n);
      }
    }
    return out;
  }

  private Set<String> protectedBases() {
    Set<String> bases = new HashSet<>();
    for (String b : core.branchNames()) {
      try {
        String base = core.baseOf(b);
        if (base != null) {
          bases.add(base);
        }
      } catch (AgentFsException e) {
        // deleted meanwhile
      }
    }
    return bases;
  }

  /**
   * Runs {@link #tick(Instant)} every {@link CheckpointPolicy#every()} on {@code ses} with
   * this filesystem's clock, until {@link #close()}.
   */
  void start(ScheduledExecutorService ses) {
    long ms = policy.every().toMillis();
    scheduler = ses;
    ses.scheduleAtFixedRate(this::tickNow, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void tickNow() {
    try {
      tick(now());
    } catch (RuntimeException e) {
      // A failed pass must not cancel the timer: the next one may succeed.
      LOG.warn("checkpoint pass failed", e);
    }
  }

  /** Stops the timer and waits for a pass under way (not synchronized: that pass holds it). */
  @Override
  public void close() {
    ScheduledExecutorService s = scheduler;
    if (s == null) {
      return;
    }
    scheduler = null;
    s.shutdownNow();
    try {
      s.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
