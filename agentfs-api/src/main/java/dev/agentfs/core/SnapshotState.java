package dev.agentfs.core;

/** A frozen inode table: what a branch looked like at one instant. Never changes. */
record SnapshotState(String name, String branch, LongTrie<Inode> table, long createdNs) {}
