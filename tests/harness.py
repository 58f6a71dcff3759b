"""Shared helpers for parimg's command-line tests.

Each test file defines functions named test_*, takes the binary's path as its
first argument, and ends with harness.main(globals()). Every test gets a fresh
temporary directory; the run ends with the plain closing line
"cli: N passed, N failed" and exits non-zero when anything failed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BIN = None          # absolute path of the parimg under test
HERE = os.path.dirname(os.path.abspath(__file__))
PNGSUITE = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "testdata", "pngsuite"))


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
