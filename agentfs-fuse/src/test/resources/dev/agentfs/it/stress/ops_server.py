# Executes file operations for a stress actor in a separate process (see ChildOps.java).
# One request per line on stdin: op<TAB>arg...; one answer per line on stdout:
# "ok<TAB>result" or "err<TAB>errno<TAB>strerror". Paths are relative to argv[1].
# Each op is the same system calls the Java side (NioOps) makes, so a replay of the log on
# another directory reproduces the tree. Data bytes come from (tag, length) exactly as
# Data.java computes them.
import hashlib
import os
import sys

root = sys.argv[1]
MAX = 1 << 18
BASE = bytes(((i * 7 + (i >> 8)) & 0xFF) for i in range(MAX))
TABLES = [bytes(((x + k) & 0xFF) for x in range(256)) for k in range(256)]


def data(tag, n):
    if n > MAX:
        raise ValueError("too long: %d" % n)
    return BASE[:n].translate(TABLES[(tag * 31) & 0xFF])


def p(rel):
    return os.path.join(root, rel)


def write_all(fd, b, off):
    view = memoryview(b)
    while len(view):
        n = os.pwrite(fd, view, off)
        view = view[n:]
        off += n


def op_create(path, mode, tag, n):
    fd = os.open(p(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, int(mode, 8))
    try:
        write_all(fd, data(int(tag), int(n)), 0)
    finally:
        os.close(fd)


def op_write(path, off, tag, n):
    fd = os.open(p(path), os.O_WRONLY)
    try:
        write_all(fd, data(int(tag), int(n)), int(off))
    finally:
        os.close(fd)


def op_read(path):
    h = hashlib.sha256()
    fd = os.open(p(path), os.O_RDONLY)
    try:
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def op_scan(path):
    n = 0
    for name in os.listdir(p(path)):
        try:
            os.lstat(os.path.join(p(path), name))
            n += 1
        except FileNotFoundError:
            pass  # removed between readdir and lstat
    return str(n)


OPS = {
    "create": op_create,
    "write": op_write,
    "read": op_read,
    "truncate": lambda path, size: os.truncate(p(path), int(size)),
    "rename": lambda a, b: os.rename(p(a), p(b)),
    "unlink": lambda path: os.unlink(p(path)),
    "link": lambda a, b: os.link(p(a), p(b), follow_symlinks=False),
    "mkdir": lambda path, mode: os.mkdir(p(path), int(mode, 8)),
    "rmdir": lambda path: os.rmdir(p(path)),
    "symlink": lambda target, path: os.symlink(target, p(path)),
    "chmod": lambda path, mode: os.chmod(p(path), int(mode, 8)),
    "scan": op_scan,
    "pid": lambda: str(os.getpid()),
}

for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    try:
        result = OPS[parts[0]](*parts[1:])
        out = "ok\t" + (result or "")
    except OSError as e:
        out = "err\t%d\t%s" % (e.errno, e.strerror)
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
