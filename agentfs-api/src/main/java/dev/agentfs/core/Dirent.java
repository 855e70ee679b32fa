package dev.agentfs.core;

/** One directory entry: the name, the inode it points to, its type bits and readdir cookie. */
record Dirent(Name name, long ino, int type, long cookie) {}
