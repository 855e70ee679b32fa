package dev.agentfs.core;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * The mutable head of one writable branch: its inode table root and current epoch. Mutating
 * operations hold {@link #freeze} shared; taking a snapshot holds it exclusively for the O(1)
 * moment it takes to capture the root and advance the epoch, so no write is half in a snapshot.
 */
final class BranchState {
  final String name;
  final @Nullable String baseSnapshot;
  final long createdNs;

  volatile LongTrie<Inode> table;
  volatile long epoch;

  final ReentrantReadWriteLock freeze = new ReentrantReadWriteLock();

  /** A read-only view of a snapshot: every change answers EROFS. */
  boolean readOnly;

  /** Guards replacing {@link #table}; always the innermost lock. */
  final Object tableLock = new Object();

  /** Serialises renames in this branch, so the ancestor check cannot race another rename. */
  final Object renameLock = new Object();

  /** Unlinked inodes still open or known to the kernel; not part of any snapshot. */
  final ConcurrentHashMap<Long, Inode> orphans = new ConcurrentHashMap<>();

  /** A directory entry changed since the last journal flush. */
  record EntryKey(long dir, Name name) {}

  /** Inodes and entries changed since the last journal flush (durable backstores only). */
  final java.util.Set<Long> dirtyInodes = ConcurrentHashMap.newKeySet();

  final java.util.Set<EntryKey> dirtyEntries = ConcurrentHashMap.newKeySet();

  /**
   * Inodes whose host file is used directly, by the kernel (passthrough) or by a java.nio
   * memory mapping, with a use count.
   */
  final ConcurrentHashMap<Long, Integer> pinned = new ConcurrentHashMap<>();

  BranchState(String name, @Nullable String baseSnapshot, LongTrie<Inode> table, long epoch,
      long createdNs) {
    this.name = name;
    this.baseSnapshot = baseSnapshot;
    this.table = table;
    this.epoch = epoch;
    this.createdNs = createdNs;
  }
}
