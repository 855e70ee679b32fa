# Drives one phase of MountScaleTest over a tree of many small files.
#
#   python3 scale_tree.py PHASE ROOT COUNT PER_DIR PREFIX
#
# The tree is ROOT/dNNNNN/PREFIXNNNNNNN with PER_DIR files a directory; each file holds its own
# relative path and a newline, so every phase can check what it sees. Phases:
#   create  mkdir the directories (they may exist) and create every file (O_EXCL)
#   stat    lstat every file: a regular file of the expected size
#   read    read every file and compare its bytes
#   list    scandir every directory under ROOT; prints the number of entries (no PREFIX use)
#   delete  unlink every file, then remove the directories that became empty
# Prints one JSON line: phase, files, entries (list), seconds. Any mismatch or OSError ends
# the process with a message naming the path and a non-zero exit.
import json
import os
import stat
import sys
import time


def paths(count, per_dir, prefix):
    for i in range(count):
        d = "d%05d" % (i // per_dir)
        yield d, "%s/%s%07d" % (d, prefix, i)


def main():
    phase, root, count, per_dir, prefix = sys.argv[1:6]
    count = int(count)
    per_dir = int(per_dir)
    os.chdir(root)
    started = time.monotonic()
    entries = 0
    if phase == "create":
        made = set()
        for d, p in paths(count, per_dir, prefix):
            if d not in made:
                os.makedirs(d, exist_ok=True)
                made.add(d)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, (p + "\n").encode())
            finally:
                os.close(fd)
    elif phase == "stat":
        for _, p in paths(count, per_dir, prefix):
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or st.st_size != len(p) + 1:
                sys.exit("%s: mode %o size %d" % (p, st.st_mode, st.st_size))
    elif phase == "read":
        for _, p in paths(count, per_dir, prefix):
            fd = os.open(p, os.O_RDONLY)
            try:
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            if data != (p + "\n").encode():
                sys.exit("%s: read %r" % (p, data))
    elif phase == "list":
        for top in os.scandir("."):
            if top.is_dir(follow_symlinks=False):
                with os.scandir(top.path) as it:
                    for _ in it:
                        entries += 1
            else:
                entries += 1
    elif phase == "delete":
        dirs = []
        for d, p in paths(count, per_dir, prefix):
            if not dirs or dirs[-1] != d:
                dirs.append(d)
            os.unlink(p)
        for d in dirs:
            if not os.listdir(d):
                os.rmdir(d)
    else:
        sys.exit("unknown phase " + phase)
    print(json.dumps({"phase": phase, "files": count, "entries": entries,
                      "seconds": round(time.monotonic() - started, 3)}))


main()
