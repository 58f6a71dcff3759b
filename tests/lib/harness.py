"""Shared helpers for parimg's command-line tests.

Each test file defines functions named test_*, takes the binary's path as its
first argument, and ends with harness.main(globals()). Every test gets a fresh
temporary directory; the run ends with the plain closing line
"cli: N passed, N failed" and exits non-zero when anything failed.

Below the runner, the helpers that more than one test file uses: directory
listings, live processes, stderr lines, and PNG bytes and images (numpy and
Pillow are imported only by the helpers that need them, so test files that
use neither do not depend on them).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

BIN = None          # absolute path of the parimg under test
LIB = os.path.dirname(os.path.abspath(__file__))	# tests/lib: helpers, shims
HERE = os.path.dirname(LIB)	# tests/: the test files, data/
PNGSUITE = os.path.join(HERE, "data", "pngsuite")


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "exit %d\nstdout: %r\nstderr: %r" % (self.code, self.out[:2000], self.err[:2000])


def run(*args, cwd=None, stdin=None, timeout=120, env=None):
    """Run parimg with ARGS; return a Result (code, out, err as text)."""
    proc = subprocess.run([BIN] + [str(a) for a in args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env)
    return Result(proc)


def ok(r, code=0):
    """Assert the exit status, showing the run when it differs."""
    assert r.code == code, "expected exit %d, got %r" % (code, r)
    return r


def names(r, path, reason=""):
    """Assert a "parimg: PATH: REASON..." line on stderr."""
    pat = r"^parimg: %s: .*(?:%s)" % (re.escape(path), reason)
    assert re.search(pat, r.err, re.M), "no line matching %r in stderr:\n%r" % (pat, r)


_sanitized = None


def sanitized():
    """Whether the binary under test is built with ASan (its shadow memory
    rules out RLIMIT_AS, and parimg leaves RLIMIT_DATA alone under it)."""
    global _sanitized
    if _sanitized is None:
        with open(BIN, "rb") as f:
            _sanitized = b"__asan_init" in f.read()
    return _sanitized


def listing(d):
    """Every entry of D, hidden ones included."""
    return sorted(os.listdir(d))


def file_bytes(d):
    """{name: bytes} of every entry of D, hidden ones included."""
    out = {}
    for n in listing(d):
        with open(os.path.join(d, n), "rb") as f:
            out[n] = f.read()
    return out


def procs_mentioning(text):
    """Pids of live processes (not zombies: their command line is empty)
    whose command line contains TEXT, this test process aside."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def png_chunk(kind, body):
    """A PNG chunk: length, KIND (4 bytes), BODY and its CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def save_image(path, arr, mode=None, **kw):
    """Write ARR with Pillow (MODE and KW as Image.fromarray and save take
    them), creating PATH's directory; return PATH."""
    from PIL import Image
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    Image.fromarray(arr, mode).save(path, **kw)
    return path


def load(d, *args):
    """parimg load -f of ARGS (run in D) into D/out.npy; the result."""
    return run("load", "-q", "-f", "-o", os.path.join(d, "out.npy"), *args, cwd=d)


def loaded(d):
    """The array load() wrote."""
    import numpy as np
    return np.load(os.path.join(d, "out.npy"))


def rows_of(manifest):
    """The lines of a --manifest file."""
    with open(manifest) as f:
        return f.read().splitlines()


def load_labels(d, root, *args, code=0):
    """load ROOT with ARGS, --labels and --manifest into D; (x, y, manifest
    rows) as arrays and lines, or the Result when CODE is not 0."""
    import numpy as np
    x, y, m = (os.path.join(d, n) for n in ("x.npy", "y.npy", "m.txt"))
    r = ok(run("load", "-q", "-f", "-o", x, "--labels", y, "--manifest", m, *args, root), code)
    if code:
        return r
    return np.load(x), np.load(y), rows_of(m)

def pil(path):
    """Pillow's decode, as an array, in the file's own mode."""
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im)



def readme_block(marker, lang):
    """The fenced LANG block after '<!-- MARKER -->' in README.md or one of
    docs/*.md: exactly one of them must hold it."""
    root = os.path.dirname(HERE)
    found = []
    docs = sorted(n for n in os.listdir(os.path.join(root, "docs")) if n.endswith(".md"))
    for path in ["README.md"] + ["docs/" + n for n in docs]:
        with open(os.path.join(root, path)) as f:
            text = f.read()
        m = re.search(r"<!-- %s -->\s*```%s\n(.*?)```" % (re.escape(marker), lang), text, re.S)
        if m:
            found.append((path, m.group(1)))
    assert len(found) == 1, "README.md and docs/*.md: %d %s blocks marked %s (%s)" % (
        len(found), lang, marker, ", ".join(p for p, _ in found))
    return found[0][1]


_shims = {}


def shim(name, d):
    """tests/lib/NAME.c built as an LD_PRELOAD library, once per run, beside
    the test folder D (the run's folder outlives each test's); its path."""
    if name not in _shims:
        so = os.path.join(os.path.dirname(d), name + ".so")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", so, os.path.join(LIB, name + ".c"),
                        "-ldl"], check=True, timeout=60)
        _shims[name] = so
    return _shims[name]


def preload_env(name, d):
    """The environment with tests/lib/NAME.c preloaded (shim), ASan told to
    let the shim come first and leave SIGSEGV to it."""
    env = dict(os.environ, LD_PRELOAD=shim(name, d))
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0:handle_segv=0"
    return env


def pack_archive(root, archive):
    """ROOT's files into ARCHIVE (zip, tar or tar.gz by its name), their
    paths relative to ROOT, in sorted order; ARCHIVE."""
    import tarfile
    import zipfile
    files = sorted(os.path.relpath(os.path.join(p, f), root)
                   for p, _, fs in os.walk(root) for f in fs)
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                z.write(os.path.join(root, f), f)
    else:
        with tarfile.open(archive, "w:gz" if archive.endswith(".gz") else "w") as t:
            for f in files:
                t.add(os.path.join(root, f), f)
    return archive


def cover(w, h, tw, th):
    """The man page's cover geometry: scaled size, crop's (left, top)."""
    if tw * h >= th * w:
        nw, nh = tw, tw * h // w
    else:
        nw, nh = th * w // h, th
    return (nw, nh), (int(round((nw - tw) / 2.0)), int(round((nh - th) / 2.0)))


def contain(w, h, tw, th):
    """The man page's letterbox: scaled size and where it goes."""
    if tw * h <= th * w:
        nw, nh = tw, max(1, tw * h // w)
    else:
        nw, nh = max(1, th * w // h), th
    return (nw, nh), ((tw - nw) // 2, (th - nh) // 2)

def run_readme_example(d, name):
    """Run the docs' example NAME (in README.md or docs/*.md) as written, in
    D: its shell block ('<!-- NAME: shell -->') with the parimg under test
    first on PATH, then its Python block, whose output must be its
    '# prints: ...' comment."""
    bindir = os.path.join(d, "bin")
    os.makedirs(bindir)
    os.symlink(BIN, os.path.join(bindir, "parimg"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    sh = readme_block(name + ": shell", "sh")
    p = subprocess.run(["sh", "-ec", sh], cwd=d, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p
    py = readme_block(name + ": python", "python")
    p = subprocess.run([sys.executable, "-c", py], cwd=d, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p
    want = re.search(r"# prints: (.*)", py).group(1)
    assert p.stdout.strip() == want, (p.stdout, want)


def main(tests):
    global BIN
    if len(sys.argv) < 2:
        sys.exit("usage: %s PARIMG [TEST...]" % sys.argv[0])
    BIN = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    names = sorted(n for n in tests if n.startswith("test_") and callable(tests[n]))
    if only:
        names = [n for n in names if n in only]
    passed = failed = 0
    base = tempfile.mkdtemp(prefix="parimg-cli-")
    for name in names:
        d = os.path.join(base, name)
        os.makedirs(d)
        t0 = time.monotonic()
        try:
            tests[name](d)
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
        else:
            passed += 1
            print("ok   %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
        shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    print("%s: %d passed, %d failed" % (os.path.basename(sys.argv[0]).split(".")[0], passed, failed))
    sys.exit(1 if failed or not names else 0)
