"""The service judges mail without scikit-learn: every trained model it loads runs compiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from triage.config import Settings

MODELS = Path(Settings().models_dir)
SAMPLE = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.eml"))


@pytest.mark.skipif(not ((MODELS / "chapter" / "model.npz").is_file() and (MODELS / "rules" / "scorer.npz").is_file()
                         and (MODELS / "extract").is_dir() and SAMPLE),
                    reason="needs the shipped models and a sample mail")
def test_judging_a_mail_imports_neither_scikit_learn_nor_scipy_nor_joblib():
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from triage.config import Settings\n"
        "from triage.pipeline.factory import build_pipeline\n"
        f"build_pipeline(Settings()).judge(Path({str(SAMPLE[0])!r}).read_bytes())\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'joblib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
