# Runs file operations below ROOT (argv[1]) on command, one command per stdin line, for tests
# that drive a mount with real system calls from another process. Every change is made durable
# (fsync of the file and of the directories whose entries changed) before the reply
# "synced ..." is printed, so the test can treat what it was told as a durability promise.
#
#   pid                       -> "pid N"
#   write PATH SIZE           -> "synced write PATH SHA256"    (create or truncate, random bytes)
#   patch PATH OFFSET LEN     -> "synced patch PATH SHA256"    (overwrite in place, may extend)
#   truncate PATH SIZE        -> "synced truncate PATH SHA256"
#   rename OLD NEW            -> "synced rename OLD NEW"       (replaces NEW if it exists)
#   delete PATH               -> "synced delete PATH"
#   mkdir PATH / rmdir PATH   -> "synced mkdir PATH" / "synced rmdir PATH"
#   rmtree PATH               -> "synced rmtree PATH"
#   junk N                    -> nothing: unsynced churn in junk/ (writes, renames, deletes)
#   manifest DIR...           -> one "M ..." line per entry below each DIR, then "end"
#   exit
# Errors are answered "error CMD: MESSAGE".
import hashlib
import os
import shutil
import stat
import sys

ROOT = sys.argv[1]


def p(rel):
    return os.path.join(ROOT, rel)


def fsync_dir(rel):
    fd = os.open(p(rel) if rel else ROOT, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parent(rel):
    return os.path.dirname(rel)


def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def write(rel, size):
    fd = os.open(p(rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = size
        while left > 0:
            n = os.write(fd, os.urandom(min(left, 1 << 20)))
            left -= n
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(parent(rel))


def patch(rel, offset, length):
    fd = os.open(p(rel), os.O_WRONLY)
    try:
        os.pwrite(fd, os.urandom(length), offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def truncate(rel, size):
    fd = os.open(p(rel), os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def junk(n):
    # Unsynced churn: whatever the kill leaves of it must still be a consistent tree.
    try:
        os.makedirs(p('junk'), exist_ok=True)
        with open(p('junk/j%d' % n), 'wb') as f:
            f.write(os.urandom((n * 7919) % 300000))
        os.rename(p('junk/j%d' % n), p('junk/k%d' % n))
        if n % 3 == 0 and os.path.exists(p('junk/k%d' % (n - 1))):
            os.unlink(p('junk/k%d' % (n - 1)))
        os.makedirs(p('junk/d%d' % (n % 4)), exist_ok=True)
    except OSError:
        pass


def manifest(top):
    # Every entry, lstat'ed (never followed), one line each: "M TYPE NLINK SIZE SUBDIRS SHA PATH"
    # with TYPE d/f/l/o, PATH relative to top ("." for top itself), "-" where a field does not
    # apply. Directories report how many subdirectories they have, so the test can check
    # nlink == 2 + subdirectories.
    def fail(e):
        raise e
    for dirpath, dirnames, filenames in os.walk(top, onerror=fail):
        st = os.lstat(dirpath)
        subdirs = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        rel = os.path.relpath(dirpath, top)
        print('M d %d %d %d - %s' % (st.st_nlink, st.st_size, len(subdirs), rel))
        for name in filenames + [d for d in dirnames if d not in subdirs]:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                kind, digest = 'f', sha(full)
            elif stat.S_ISLNK(st.st_mode):
                kind, digest = 'l', '-'
            else:
                kind, digest = 'o', '-'
            print('M %s %d %d - %s %s' % (kind, st.st_nlink, st.st_size, digest,
                                          os.path.relpath(full, top)))


def main():
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        cmd = a[0]
        try:
            if cmd == 'pid':
                print('pid %d' % os.getpid())
            elif cmd == 'write':
                write(a[1], int(a[2]))
                print('synced write %s %s' % (a[1], sha(p(a[1]))))
            elif cmd == 'patch':
                patch(a[1], int(a[2]), int(a[3]))
                print('synced patch %s %s' % (a[1], sha(p(a[1]))))
            elif cmd == 'truncate':
                truncate(a[1], int(a[2]))
                print('synced truncate %s %s' % (a[1], sha(p(a[1]))))
            elif cmd == 'rename':
                os.rename(p(a[1]), p(a[2]))
                fsync_dir(parent(a[1]))
                fsync_dir(parent(a[2]))
                print('synced rename %s %s' % (a[1], a[2]))
            elif cmd == 'delete':
                os.unlink(p(a[1]))
                fsync_dir(parent(a[1]))
                print('synced delete %s' % a[1])
            elif cmd == 'mkdir':
                os.mkdir(p(a[1]))
                fsync_dir(parent(a[1]))
                print('synced mkdir %s' % a[1])
            elif cmd == 'rmdir':
                os.rmdir(p(a[1]))
                fsync_dir(parent(a[1]))
                print('synced rmdir %s' % a[1])
            elif cmd == 'rmtree':
                shutil.rmtree(p(a[1]))
                fsync_dir(parent(a[1]))
                print('synced rmtree %s' % a[1])
            elif cmd == 'junk':
                junk(int(a[1]))
                continue
            elif cmd == 'manifest':
                for top in a[1:]:
                    manifest(top)
                print('end')
            elif cmd == 'exit':
                return
            else:
                print('error %s: unknown command' % cmd)
        except OSError as e:
            print('error %s: %s' % (cmd, e))
        sys.stdout.flush()


main()
