"""Command-line tests of what a newcomer reads and installs: the man page
against every --help, the man page's lint, make install/uninstall, and the
bash completion. Run: /usr/bin/python3 tests/cli_docs_test.py ./parimg
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, run  # noqa: E402

ROOT = os.path.dirname(harness.HERE)
MAN = os.path.join(ROOT, "man", "parimg.1")


def commands():
    """The subcommands that 'parimg --help' lists."""
    out = ok(run("--help")).out
    return re.findall(r"^  ([a-z]+)  ", out, re.M)


def man_text():
    with open(MAN) as f:
        return f.read()


def test_help_lists_the_subcommands(d):
    assert commands() == ["gen", "load", "convert", "check", "merge", "bench"], commands()


def test_every_help_option_is_in_the_man_page(d):
    man = man_text().replace("\\-", "-")
    missing = []
    for cmd in commands():
        helptext = ok(run(cmd, "--help")).out
        for opt in sorted(set(re.findall(r"--[a-z][a-z-]*", helptext))):
            if opt not in man:
                missing.append("%s %s" % (cmd, opt))
    assert not missing, "in --help but not in man/parimg.1: %s" % missing


def test_every_subcommand_has_a_man_section(d):
    man = man_text()
    for cmd in commands():
        assert re.search(r'^\.SS "parimg %s ' % cmd, man, re.M), cmd


def test_man_sections(d):
    man = man_text()
    for sec in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "ENVIRONMENT",
                "FILES", "EXAMPLES", "SECURITY"]:
        assert re.search(r'^\.SH "?%s"?$' % sec, man, re.M), sec
    for status in ["0", "1", "2", "3"]:
        assert re.search(r"^\.B %s$" % status, man, re.M), "EXIT STATUS %s" % status
    assert "128" in man


def test_man_lint_clean(d):
    r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", MAN], capture_output=True, text=True)
    assert r.stdout == "" and r.stderr == "", r.stdout + r.stderr
    r = subprocess.run(["groff", "-ww", "-man", "-z", MAN], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_make_install_and_uninstall(d):
    dest = os.path.join(d, "stage")
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=/opt/p", "DESTDIR=" + dest],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    files = ["opt/p/bin/parimg", "opt/p/share/man/man1/parimg.1",
             "opt/p/share/bash-completion/completions/parimg"]
    for f in files:
        assert os.path.isfile(os.path.join(dest, f)), f
    assert os.access(os.path.join(dest, files[0]), os.X_OK)
    r = subprocess.run([os.path.join(dest, files[0]), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("parimg "), r
    r = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "PREFIX=/opt/p", "DESTDIR=" + dest],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for f in files:
        assert not os.path.exists(os.path.join(dest, f)), f


def complete(*words):
    """COMPREPLY of the bash completion for the command line WORDS (the last
    one being completed), with this binary as the program."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              '_parimg; printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script, "bash",
                        os.path.join(ROOT, "completions", "parimg.bash"), harness.BIN] + list(words),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.split("\n") if w)


def test_bash_completion(d):
    assert complete("") == sorted(["bench", "check", "convert", "gen", "load", "merge", "--help",
                                   "--version"])
    assert complete("lo") == ["load"]
    assert complete("convert", "--sh") == ["--shard-bytes", "--shard-size", "--shards", "--shuffle"]
    assert complete("load", "--ma") == ["--manifest", "--mask-pad", "--masks", "--masks-out",
                                        "--max-pixels", "--max-side"]
    assert complete("gen", "--s") == ["--schedule", "--seed", "--shard", "--size"]
    assert complete("bench", "--ph") == ["--phase"]
    assert complete("check", "--l") == ["--label-column", "--labels", "--labels-from", "--list",
                                        "--list-broken"]
    assert complete("bench", "--la") == ["--label-column", "--label-regex", "--labels", "--labels-from",
                                        "--layout"]
    assert complete("bench", "--mas") == ["--mask-pad", "--masks", "--masks-out"]


# ------------------------------------------------ README.md, docs/ and scripts/bench/README.md

DOCS = ["README.md", "docs/guide.md", "docs/performance.md", "scripts/bench/README.md"]


def anchors(path):
    """The #anchors of PATH's headings, as GitHub makes them."""
    with open(path) as f:
        heads = re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", f.read(), flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


def test_readme_quick_start(d):
    """The README's quick start, run as written in an empty directory: its
    shell block with this parimg first on PATH, then its Python block."""
    harness.run_readme_example(d, "quick start")


def test_doc_links_resolve(d):
    """Every relative link of the README, docs/ and scripts/bench/README.md
    names a file that exists, each #anchor a heading of that file, and every
    scripts/ file they name exists (the benchmarks' floors and recipes moved
    once already)."""
    bad = []
    for doc in DOCS:
        path = os.path.join(ROOT, doc)
        with open(path) as f:
            text = f.read()
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            target = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
            if not os.path.exists(target):
                bad.append("%s: %s: no such file" % (doc, link))
            elif anchor and anchor not in anchors(target):
                bad.append("%s: %s: no such heading" % (doc, link))
        for name in re.findall(r"\bscripts/[\w./-]+\.(?:sh|py|c|h|sbatch)\b", text):
            if not os.path.isfile(os.path.join(ROOT, name)):
                bad.append("%s: %s: no such file" % (doc, name))
    assert not bad, "\n".join(bad)


harness.main(globals())
