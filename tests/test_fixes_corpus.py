"""A bounded sample of bench/fix_corpus.py: on the first folders of the serverless-patterns
corpus, `archreview fix --diff` makes patches that git applies, and a re-scan of the patched
copy no longer has the findings they target, with no other finding changed (safe fixes of the
regular persona's findings; then every fix of every persona's)."""

from __future__ import annotations

import importlib.util
import sys

from reviewer.core.types import Persona

from .conftest import ROOT, require_shared

SAMPLE = 40  # folders (in name order); the whole corpus is the bench's job


def test_corpus_sample_patches_apply_and_rescan_clean() -> None:
    corpus = require_shared("corpora", "serverless-patterns")
    spec = importlib.util.spec_from_file_location("fix_corpus", ROOT / "bench" / "fix_corpus.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["fix_corpus"] = bench
    spec.loader.exec_module(bench)
    for options in ({}, {"unsafe": True, "persona": Persona.AUDITOR}):
        counts = bench.run(corpus, limit=SAMPLE, **options)
        assert counts.folders == SAMPLE
        assert counts.patches > 0 and counts.fixes > 0
        assert counts.failures == []
        assert counts.applied == counts.patches
        assert counts.clean == counts.fixes
