"""A repository-level fuzzer: hostile checkouts built from a seed, scanned, and checked.

The scanned repository is untrusted (SECURITY.md). This package builds whole checkouts the way
an attacker writing a pull request could — symbolic links into and out of the root, into the
cache folder, loops, FIFOs, unreadable files, huge and deep files of every kind archreview
reads, values of the wrong type, hostile names — scans them, and checks every scan:

- a result: exit 0/1/2 with its documented meaning, never a Python traceback, never exit 3;
- within a hang limit (the scan is killed after it) and the memory budget;
- no change outside the checkout: the surroundings (a victim folder beside the checkout, the
  home and cache folders the scan is pointed at) are hashed before and after, and no file the
  checkout held before the scan is changed or removed;
- no GitHub Actions workflow command in its output.

Modules:

- ``content``: one generator of hostile content per kind of file archreview reads
  (``CONTENT``: templates, go.mod, package.json, samconfig.toml, .gitmodules, .gitignore,
  .archreview.yml, agent definitions, baselines, OpenAPI files ...);
- ``trees``: a random checkout from a seed (``generate(seed, size)``), made of *pieces*
  (``PIECES``: a file of a kind at a plausible or hostile path, links, FIFOs, unreadable
  files, cache and ADR attacks), and ``materialize`` to write it under a workspace;
- ``harness``: the workspace (checkout, victim, home, out), snapshots, the runs (the engine
  and every renderer in a forked child; the command line as a subprocess) and the checks;
- ``corpus``: the seed corpus, the cases of issue 15 as named trees;
- ``deny``: simulates unreadable files for a process running as root.

To extend the fuzzer to a new input a later issue makes archreview read: write its content
generator with ``@content.kind("name", places=(...))`` and, when the input needs more than one
file or a command-line option, a piece with ``@trees.piece("name", weight)``; add the issue's
cases to ``corpus`` and a named test to ``tests/test_hostile_repo.py``. Every tree is rebuilt
from its seed alone: ``bench/fuzz_repo.py --seed S`` replays one.
"""
