import ctypes, errno, fcntl, os, select, stat, struct, sys, traceback
D = os.fsencode(sys.argv[1]); W = os.fsencode(sys.argv[2]).rstrip(b'/') or b'/'
SKIP = set(os.fsencode(a) for a in sys.argv[3:])
libc = ctypes.CDLL(None, use_errno=True)
MASK = 0x2 | 0x4 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000000 | 0x2000000
ISDIR, OVERFLOW, IGNORED, SELF = 0x40000000, 0x4000, 0x8000, 0x400 | 0x800
NEWDIR = 0x100 | 0x80
LIMIT = 200000
class Broken(Exception):
    pass
wds, dirty, log, st = {}, set(), [], {'gen': b'', 'broken': False, 'ifd': -1}
def new_gen():
    st['gen'] = b'%d.%s' % (os.getpid(), os.urandom(4).hex().encode())
    del log[:]
    dirty.clear()
def join(a, b):
    return a + b'/' + b if a else b
def full(r):
    return W + b'/' + r if r else W
def watch(rel):
    stack = [rel]
    while stack:
        r = stack.pop()
        wd = libc.inotify_add_watch(st['ifd'], full(r), MASK)
        if wd < 0:
            e = ctypes.get_errno()
            if e in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise Broken(os.strerror(e))
        wds[wd] = r
        try:
            with os.scandir(full(r)) as it:
                for ent in it:
                    if ent.name not in SKIP and ent.is_dir(follow_symlinks=False):
                        stack.append(join(r, ent.name))
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as e:
            raise Broken(str(e))
def handle(buf):
    i = 0
    while i + 16 <= len(buf):
        wd, mask, _c, n = struct.unpack_from('iIII', buf, i)
        name = buf[i + 16:i + 16 + n].rstrip(b'\0')
        i += 16 + n
        if mask & OVERFLOW:
            new_gen()
            watch(b'')
            continue
        if mask & IGNORED:
            wds.pop(wd, None)
            continue
        rel = wds.get(wd)
        if rel is None:
            continue
        if not name:
            if rel == b'' and mask & SELF:
                raise Broken('workspace moved or deleted')
            continue
        p = join(rel, name)
        dirty.add(p)
        if len(dirty) > LIMIT:
            new_gen()
        if mask & ISDIR and mask & NEWDIR and name not in SKIP:
            watch(p)
def drain():
    while not st['broken']:
        try:
            buf = os.read(st['ifd'], 65536)
        except BlockingIOError:
            return
        try:
            handle(buf)
        except Broken:
            st['broken'] = True
            os.close(st['ifd'])
def reply(path, data):
    if not path.startswith(D + b'/ack.'):
        return
    try:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        while data:
            if not select.select([], [fd], [], 5)[1]:
                break
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                pass
    except OSError:
        pass
    finally:
        os.close(fd)
TEXT_MAX = 32768
def info(tok, cid):
    # lstat and grep -I's verdict for the caller's paths. grep reads at least 32 KiB before deciding, and calls a
    # file binary when that holds a NUL: a file that fits is decided here, a longer one without NUL is left to grep.
    if not cid.isalnum():
        return
    sizes, text, unknown = [], [], []
    try:
        with open(D + b'/q.' + cid, 'rb') as f:
            names = [p for p in f.read().split(b'\0') if p]
    except OSError:
        names = None
    for p in names or []:
        f = full(p)
        try:
            s = os.lstat(f)
        except OSError:
            continue
        m = s.st_mode
        kind = b'symbolic link' if stat.S_ISLNK(m) else b'regular file' if stat.S_ISREG(m) else b'other'
        # The permissions as stat %A prints them, so that changes() sees a file made executable.
        sizes.append(b'%d\t%s %s\t%s' % (s.st_size, kind, stat.filemode(m).encode(), p))
        if not stat.S_ISREG(m) or s.st_size == 0:
            continue
        try:
            with open(f, 'rb') as fh:
                head = fh.read(TEXT_MAX + 1)
        except OSError:
            unknown.append(p)
            continue
        if b'\0' in head[:TEXT_MAX]:
            continue
        if len(head) <= TEXT_MAX:
            text.append(p)
        else:
            unknown.append(p)
    if names is None:
        reply(D + b'/ack.' + cid, b'%s -1 0 0\n' % tok)
        return
    with open(D + b'/r.' + cid, 'wb') as f:
        f.write(b''.join(x + b'\0' for x in sizes + text + unknown))
    reply(D + b'/ack.' + cid, b'%s %d %d %d\n' % (tok, len(sizes), len(text), len(unknown)))
def serve(line):
    parts = line.split(b' ')
    if len(parts) == 3 and parts[0] == b'S':
        return info(parts[1], parts[2])
    if len(parts) != 5:
        return
    tok, ack, want, off, lim = parts[0], parts[1], parts[2], int(parts[3]), int(parts[4])
    drain()
    log.extend(sorted(dirty))
    dirty.clear()
    if len(log) > LIMIT:
        new_gen()
    gen = b'-' if st['broken'] else st['gen']
    if want != gen or off > len(log) or len(log) - off > lim:
        reply(ack, b'%s %s %d -1\n' % (tok, gen, len(log)))
    else:
        sl = log[off:]
        reply(ack, b'%s %s %d %d\n' % (tok, gen, len(log), len(sl)) + b''.join(p + b'\0' for p in sl))
def main():
    r, w = os.pipe()
    if os.fork():
        os.close(w)
        sys.exit(0 if os.read(r, 100).startswith(b'ok') else 1)
    os.close(r)
    os.setsid()
    nul = os.open('/dev/null', os.O_RDWR)
    for f in (0, 1, 2):
        os.dup2(nul, f)
    lock = os.open(D + b'/lock', os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.write(w, b'ok running')
        return
    try:
        st['ifd'] = libc.inotify_init1(0o4000 | 0o2000000)
        if st['ifd'] < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1: ' + os.strerror(ctypes.get_errno()))
        new_gen()
        try:
            watch(b'')
        except Broken:
            st['broken'] = True
            os.close(st['ifd'])
        req = D + b'/req'
        if os.path.lexists(req):
            os.unlink(req)
        os.mkfifo(req, 0o600)
        qfd = os.open(req, os.O_RDWR | os.O_NONBLOCK)
        with open(D + b'/pid.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.rename(D + b'/pid.tmp', D + b'/pid')
        os.write(w, b'ok')
        os.close(w)
        buf = b''
        while True:
            fds = [qfd] if st['broken'] else [qfd, st['ifd']]
            ready = select.select(fds, [], [])[0]
            if st['ifd'] in ready and not st['broken']:
                drain()
            if qfd in ready:
                try:
                    buf += os.read(qfd, 65536)
                except BlockingIOError:
                    pass
                *lines, buf = buf.split(b'\n')
                for line in lines:
                    serve(line)
    except Exception:
        # A watcher that failed once is not restarted: changes() scans the whole tree from now on.
        with open(D + b'/broken', 'w') as f:
            f.write(traceback.format_exc())
        if os.path.lexists(D + b'/pid'):
            os.unlink(D + b'/pid')
        try:
            os.write(w, b'fail')
        except OSError:
            pass
main()
