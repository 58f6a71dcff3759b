#!/usr/bin/python3
"""Slurm for real: scripts/examples/slurm_array.sbatch submitted, as a user would
("bash scripts/examples/slurm_array.sbatch submit"), to a throwaway cluster of one
node that scripts/slurm_local.sh starts (munged, slurmctld and slurmd from
Debian's packages, with a key, config, ports, state and logs of their own).
The oracles are a single-machine gen and load of the same images: the merged
array must hold exactly their bytes. A load task that fails must get the
merge job cancelled, not left pending. Stopping the cluster must leave no
daemon or slurmstepd running.

The cluster needs root (slurmd starts each job as its user), and no systemd
or cgroups. Where it cannot start, every test here fails with the reason.

The tests share one cluster, started by the first and stopped by the last:
the harness runs them in name order, hence the numbers.

Run: /usr/bin/python3 tests/cli_slurm_test.py ./parimg [test_name...]
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import file_bytes, ok, run  # noqa: E402

ROOT = os.path.dirname(harness.HERE)
LOCAL = os.path.join(ROOT, "scripts", "slurm_local.sh")
SBATCH = os.path.join(ROOT, "scripts", "examples", "slurm_array.sbatch")
DAEMONS = ("munged", "slurmctld", "slurmd")
DONE = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
        "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
NPROC = len(os.sched_getaffinity(0))      # nproc: the node's CPUs
TIMEOUT = 60        # seconds for a pipeline of a few tiny jobs

_cluster = {}       # dir, env, pids once started; error if it could not start


# ---------------------------------------------------------------- helpers

def log_tails(n=15):
    """The end of each daemon's log, to explain a failure."""
    out = []
    logs = os.path.join(_cluster.get("dir", "/nonexistent"), "log")
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else ():
        with open(os.path.join(logs, name), errors="replace") as f:
            out.append("== %s\n%s" % (name, "".join(f.readlines()[-n:])))
    return "\n".join(out)


def cluster():
    """The running cluster (started on first use): its environment for
    Slurm's commands, with no SLURM_* or SBATCH_* variable of the caller's."""
    if "error" in _cluster:
        raise AssertionError(_cluster["error"])
    if "env" in _cluster:
        return _cluster
    base = tempfile.mkdtemp(prefix="parimg-slurm-")
    os.chmod(base, 0o755)       # munged: every directory above its socket
    _cluster["dir"] = d = os.path.join(base, "cluster")
    atexit.register(stop_at_exit, base)
    for sig in (signal.SIGTERM, signal.SIGHUP):     # exit, so that atexit runs
        signal.signal(sig, lambda *_: sys.exit(1))
    t0 = time.monotonic()
    try:
        p = subprocess.run(["sh", LOCAL, "start", d], capture_output=True, text=True,
                           timeout=120)
        why = "exit %d: %s" % (p.returncode, p.stderr.strip()) if p.returncode else None
    except subprocess.TimeoutExpired:
        why = "still starting after 120 s"
    if why:
        _cluster["error"] = ("the cluster did not start (%s)\n%s\n(this test needs what "
                             "scripts/slurm_local.sh does)" % (why, log_tails()))
        raise AssertionError(_cluster["error"])
    print("     cluster idle after %.2fs" % (time.monotonic() - t0), flush=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SBATCH_", "SQUEUE_", "SINFO_"))}
    env["SLURM_CONF"] = os.path.join(d, "slurm.conf")
    _cluster["env"] = env
    _cluster["pids"] = {}
    for name in DAEMONS:
        with open(os.path.join(d, "run", name + ".pid")) as f:
            _cluster["pids"][name] = int(f.read())
    return _cluster


def stop_at_exit(base):
    """Whatever a test left running, stopped; the cluster's files removed."""
    if os.path.isdir(os.path.join(base, "cluster", "run")):
        subprocess.run(["sh", LOCAL, "stop", os.path.join(base, "cluster")], timeout=120)
    shutil.rmtree(base, ignore_errors=True)


def slurm(*args):
    """A Slurm client command against the cluster; its stdout."""
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=30,
                       env=cluster()["env"])
    assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr)
    return p.stdout


def submit(d, **settings):
    """bash slurm_array.sbatch submit, from D with SETTINGS in the
    environment; the job ids of gen, load and merge."""
    env = dict(cluster()["env"], PARIMG=harness.BIN, WORK=os.path.join(d, "work"),
               **{k: str(v) for k, v in settings.items()})
    p = subprocess.run(["bash", SBATCH, "submit"], cwd=d, capture_output=True, text=True,
                       timeout=60, env=env)
    assert p.returncode == 0, "submit: exit %d: %s %s" % (p.returncode, p.stdout, p.stderr)
    m = re.search(r"submitted gen (\d+), load (\d+), merge (\d+)", p.stdout)
    assert m, "submit printed no job ids: %r" % p.stdout
    return m.groups()


def wait_jobs(ids):
    """Poll squeue until every job (and array task) of IDS has ended;
    {id: (state, reason, cpus)}."""
    end = time.monotonic() + TIMEOUT
    while True:
        out = slurm("squeue", "-h", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T|%r|%c")
        jobs = {}
        for line in out.splitlines():
            i, state, reason, cpus = line.split("|")
            jobs[i] = (state, reason, int(cpus))
        if jobs and all(s in DONE for s, _, _ in jobs.values()):
            return jobs
        if time.monotonic() > end:
            raise AssertionError("jobs not done after %d s:\n%s\n%s" % (TIMEOUT, out, log_tails()))
        time.sleep(0.1)


def listening(ports):
    """The local addresses (hex, as /proc/net/tcp* shows them) of the
    sockets listening on PORTS."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, port = local.split(":")
                if state == "0A" and int(port, 16) in ports:
                    found.append((addr, int(port, 16)))
    return found


def conf_ports():
    with open(cluster()["env"]["SLURM_CONF"]) as f:
        conf = f.read()
    return {int(p) for p in re.findall(r"^Slurm(?:ctld|d)Port=(\d+)$", conf, re.M)}


def cwd_in(path):
    """Pids of processes whose working directory is PATH."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink("/proc/%s/cwd" % p) == path:
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def running(pid, name):
    """Whether PID is still a live NAME process (not a zombie, not reused)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return name.encode() in f.read()
    except OSError:
        return False


# ---------------------------------------------------------------- tests

def test_1_cluster_listens_on_loopback_only(d):
    c = cluster()
    for name, pid in c["pids"].items():
        assert running(pid, name), "%s (%d) not running" % (name, pid)
    ports = conf_ports()
    assert len(ports) == 2, ports
    found = listening(ports)
    assert sorted(p for _, p in found) == sorted(ports), found
    assert all(addr == "0100007F" for addr, _ in found), found    # 127.0.0.1
    assert slurm("sinfo", "-h", "-o", "%T %c").split() == ["idle", str(NPROC)]


def test_2_array_pipeline_matches_one_load(d):
    # Default CPUs per task: 4, or the node's CPUs if it has fewer.
    t0 = time.monotonic()
    gen, load, merge = submit(d, COUNT=60, SIZE="24x16", CHANNELS=3, TASKS=4)
    jobs = wait_jobs([gen, load, merge])
    print("     pipeline done in %.2fs" % (time.monotonic() - t0), flush=True)
    assert sorted(jobs) == sorted(["%s_%d" % (j, k) for j in (gen, load) for k in range(4)]
                                  + [merge]), jobs
    assert all(s == "COMPLETED" for s, _, _ in jobs.values()), jobs
    cpus = min(4, NPROC)
    assert all(c == cpus for _, _, c in jobs.values()), (cpus, jobs)
    work = os.path.join(d, "work")
    ok(run("gen", "-q", "-n", 60, "-s", "24x16", "-c", 3, "-o", os.path.join(d, "one")))
    assert file_bytes(os.path.join(work, "data")) == file_bytes(os.path.join(d, "one"))
    one = os.path.join(d, "one.npy")
    ok(run("load", "-q", "-o", one, "--manifest", one + ".txt", os.path.join(work, "data")))
    with open(one, "rb") as a, open(os.path.join(work, "dataset.npy"), "rb") as b:
        assert a.read() == b.read(), "dataset.npy differs from one load"
    with open(one + ".txt") as a, open(os.path.join(work, "dataset.txt")) as b:
        assert a.read() == b.read(), "dataset.txt differs from one load's manifest"


def test_3_failed_task_cancels_merge(d):
    # A corrupt file sorted last: only the last load shard fails.
    os.makedirs(os.path.join(d, "work", "data"))
    with open(os.path.join(d, "work", "data", "z_bad.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    gen, load, merge = submit(d, COUNT=40, SIZE="16x16", TASKS=4, CPUS=1)
    jobs = wait_jobs([gen, load, merge])
    assert all(c == 1 for _, _, c in jobs.values()), jobs
    assert all(jobs["%s_%d" % (gen, k)][0] == "COMPLETED" for k in range(4)), jobs
    assert [jobs["%s_%d" % (load, k)][0] for k in range(4)] == ["COMPLETED"] * 3 + ["FAILED"], jobs
    assert jobs[merge][:2] == ("CANCELLED", "DependencyNeverSatisfied"), jobs
    with open(os.path.join(d, "parimg-%s_3.out" % load)) as f:
        assert re.search(r"^parimg: .*/z_bad\.png: ", f.read(), re.M)
    assert not os.path.exists(os.path.join(d, "work", "dataset.npy"))


def test_4_stop_leaves_nothing_running(d):
    c = cluster()
    run_dir = os.path.join(c["dir"], "run")
    ports = conf_ports()
    # A job still running when the cluster stops: cancelled, its step ended.
    mark = "parimg-slurm-test-%d" % os.getpid()
    job = slurm("sbatch", "--parsable", "-o", "/dev/null", "--wrap",
                "exec sh -c 'sleep 300 & wait' %s" % mark).strip()
    end = time.monotonic() + TIMEOUT
    while not harness.procs_mentioning(mark):
        assert time.monotonic() < end, "job %s never ran:\n%s" % (
            job, slurm("squeue", "-t", "all", "-j", job))
        time.sleep(0.1)
    t0 = time.monotonic()
    p = subprocess.run(["sh", LOCAL, "stop", c["dir"]], capture_output=True, text=True,
                       timeout=120)
    print("     stopped in %.2fs" % (time.monotonic() - t0), flush=True)
    assert p.returncode == 0, "stop: exit %d: %s" % (p.returncode, p.stderr)
    assert p.stderr == "", p.stderr     # SIGTERM was enough, nothing was left
    for name, pid in c["pids"].items():
        assert not running(pid, name), "%s (%d) still running" % (name, pid)
    # Daemons, slurmscriptd and slurmstepd all run in run/.
    assert cwd_in(run_dir) == []
    assert harness.procs_mentioning(mark) == []
    assert listening(ports) == []
    _cluster["error"] = "the cluster was stopped"


harness.main(globals())
