"""The trained sentence scorer: how much a sentence reads like the evidence of each violation.

Trained by `triage train` (trainer "rules", triage/rules/train.py) from the corpus's
`violation_evidence` quotes against the other sentences of the train split: TF-IDF over character
n-grams and one logistic regression per violation code, with a threshold per code tuned on dev.
Its evidence is the sentence it scored; its probability becomes the finding's confidence.

It runs compiled, as the chapter model does (`classify/compiled.py`): each TF-IDF block is a
`Block` (vocabulary, idf, its rows of the transposed weight matrix), so a sentence costs look-ups
and a gather-and-dot, and scikit-learn is not imported. Training writes both `scorer.joblib`
(the fitted scikit-learn objects) and `scorer.npz` (the arrays, no pickle); the loader reads the
`.npz` when it belongs to the model the card names and otherwise compiles the joblib file in
memory. A message's sentences are scored once for all its rules: `probabilities` and `score`
take a memo (text → probabilities of every code) that the checker keeps per message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from triage.classify.compiled import Block, NotCompilable, read_blocks, tfidf_block, write_blocks
from triage.rules.text import Unit
from triage.training.registry import read_model_card

log = logging.getLogger(__name__)

MODEL_NAME = "rules"
MODEL_FILE = "scorer.joblib"
COMPILED_FILE = "scorer.npz"
#: Bump when the layout of scorer.npz changes; a file of another format is not read.
FORMAT = 1
#: Below this a finding is reported but marked for review (kept in step with the decider's default).
DEFAULT_THRESHOLD = 0.5

#: Probabilities of every code for one text, by text: what a message's rules share.
Memo = MutableMapping[str, np.ndarray]


def model_dir(models_dir: str | Path) -> Path:
    """Where the scorer lives under the models folder: models/rules/."""
    return Path(models_dir) / MODEL_NAME


@dataclass
class SentenceScorer:
    """Per-code probabilities for sentences; `score` keeps those above the code's threshold."""

    codes: tuple[str, ...]
    blocks: list[Block]  # TF-IDF blocks; each block's weights are (its terms, codes)
    intercept: np.ndarray  # (codes,)
    thresholds: dict[str, float]
    version: str = "unknown"
    #: The scikit-learn vectorizer and (codes, features) weights it was compiled from, when fitted
    #: or loaded from joblib in this process: only `save` needs them.
    fitted: tuple[Any, np.ndarray] | None = field(default=None, repr=False)
    _column: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.intercept = np.asarray(self.intercept, dtype=np.float64)
        self._column = {code: i for i, code in enumerate(self.codes)}

    @classmethod
    def from_fitted(cls, vectorizer: Any, codes: Sequence[str], coef: np.ndarray, intercept: np.ndarray,
                    thresholds: dict[str, float], version: str = "unknown") -> SentenceScorer:
        """Compile a fitted FeatureUnion of TfidfVectorizers and its (codes, features) weights."""
        coef = np.asarray(coef)
        blocks: list[Block] = []
        offset = 0
        if vectorizer.transformer_weights:
            raise NotCompilable("weighted FeatureUnion blocks are not reproduced")
        for name, part in vectorizer.transformer_list:
            if part == "drop" or part is None:
                continue
            block = tfidf_block(name, part, coef[:, offset:], "text")
            blocks.append(block)
            offset += len(block.terms)
        if offset != coef.shape[1]:
            raise NotCompilable(f"blocks have {offset} columns, the weights {coef.shape[1]}")
        return cls(codes=tuple(codes), blocks=blocks, intercept=np.asarray(intercept), thresholds=dict(thresholds),
                   version=version, fitted=(vectorizer, coef))

    # --- scoring -----------------------------------------------------------------------------

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(codes)) decision values: the TF-IDF rows times the weights, plus the intercepts.

        Each block's terms are found text by text; counting, the TF-IDF arithmetic and the gather
        of weight rows are then done once for all the texts' terms together.
        """
        out = np.tile(self.intercept, (len(texts), 1))
        if not texts:
            return out
        lowered = [text.lower() for text in texts]
        for block in self.blocks:
            found = [block.raw_counts(text) for text in lowered]
            lengths = np.fromiter((len(columns) for columns, _ in found), np.int64, len(found))
            if not lengths.any():
                continue
            # one sort for all the texts: (row, column) keys, a repeated term's counts summed
            size = len(block.terms)
            rows = np.repeat(np.arange(len(found), dtype=np.int64), lengths)
            keys, inverse = np.unique(rows * size + np.concatenate([columns for columns, _ in found]),
                                      return_inverse=True)
            counts = [number for _, number in found]
            values = np.bincount(inverse.ravel(), weights=np.concatenate(counts))
            row_of, column = np.divmod(keys, size)
            if block.sublinear_tf:
                values = np.log(values) + 1.0
            if block.idf is not None:
                values = values * block.idf[column]
            if block.norm == "l2":
                norms = np.sqrt(np.bincount(row_of, weights=values * values, minlength=len(texts)))
                values = values / norms[row_of]
            contributions = block.weights[column] * values[:, None]
            # keys are sorted, so each text's terms are one segment: sum each segment
            starts = np.flatnonzero(np.r_[True, row_of[1:] != row_of[:-1]])
            out[row_of[starts]] += np.add.reduceat(contributions, starts, axis=0)
        return out

    def probabilities(self, texts: Sequence[str], memo: Memo | None = None) -> np.ndarray:
        """(len(texts), len(codes)) probabilities; texts already in `memo` are not scored again."""
        if not texts:
            return np.zeros((0, len(self.codes)))
        if memo is None:
            return _sigmoid(self.logits(texts))
        missing = [text for text in dict.fromkeys(texts) if text not in memo]
        if missing:
            memo.update(zip(missing, _sigmoid(self.logits(missing))))
        return np.array([memo[text] for text in texts])

    def score(self, code: str, units: Sequence[Unit], memo: Memo | None = None) -> list[tuple[Unit, float]]:
        """The units whose probability for `code` reaches the code's threshold, best first."""
        column = self._column.get(code)
        if column is None or not units:
            return []
        probs = self.probabilities([u.text for u in units], memo)[:, column]
        threshold = self.thresholds.get(code, DEFAULT_THRESHOLD)
        kept = [(unit, float(p)) for unit, p in zip(units, probs) if p >= threshold]
        return sorted(kept, key=lambda pair: -pair[1])

    # --- files -------------------------------------------------------------------------------

    def save(self, directory: Path, *, training_hash: str = "") -> None:
        """Write `scorer.npz` (the compiled arrays) and, when fitted here, `scorer.joblib`."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.fitted is not None:
            import joblib

            vectorizer, coef = self.fitted
            joblib.dump(
                {"vectorizer": vectorizer, "codes": list(self.codes), "coef": coef.astype(np.float32),
                 "intercept": self.intercept.astype(np.float32), "thresholds": self.thresholds},
                directory / MODEL_FILE, compress=3,
            )
        meta: dict[str, Any] = {"format": FORMAT, "version": self.version, "training_hash": training_hash,
                                "codes": list(self.codes), "thresholds": self.thresholds}
        arrays: dict[str, np.ndarray] = {"intercept": self.intercept}
        meta["blocks"] = write_blocks(self.blocks, arrays)
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        with (directory / COMPILED_FILE).open("wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, directory: Path) -> SentenceScorer | None:
        """The scorer saved in `directory`, or None when none has been trained.

        `scorer.npz` is read when its version and training data are the card's (model.json);
        otherwise `scorer.joblib` is unpickled (importing scikit-learn) and compiled in memory.
        """
        card = read_model_card(directory)
        version = str(card.get("version", "unknown"))
        compiled = directory / COMPILED_FILE
        if compiled.is_file():
            try:
                scorer, meta = cls._load_compiled(compiled)
            except (NotCompilable, OSError, ValueError, KeyError) as exc:
                log.warning("cannot read %s (%s); loading %s instead", compiled, exc, MODEL_FILE)
            else:
                same_version = version in (scorer.version, "unknown")
                card_hash, saved_hash = card.get("training_data_sha256"), meta.get("training_hash")
                if same_version and (not card_hash or not saved_hash or card_hash == saved_hash):
                    return scorer
                log.warning("%s does not belong to the model model.json names; loading %s instead",
                            compiled, MODEL_FILE)
        path = directory / MODEL_FILE
        if not path.is_file():
            return None
        import joblib

        data = joblib.load(path)
        return cls.from_fitted(data["vectorizer"], data["codes"], np.asarray(data["coef"]),
                               np.asarray(data["intercept"]), dict(data["thresholds"]), version)

    @classmethod
    def _load_compiled(cls, path: Path) -> tuple[SentenceScorer, dict[str, Any]]:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise NotCompilable(f"{path} has format {meta.get('format')}, this code reads {FORMAT}")
            blocks = read_blocks(meta["blocks"], data)
            scorer = cls(codes=tuple(meta["codes"]), blocks=blocks, intercept=data["intercept"],
                         thresholds={str(k): float(v) for k, v in meta["thresholds"].items()},
                         version=str(meta["version"]))
        return scorer, meta


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    """The logistic function, as the scorer has always applied it to the decision values."""
    return 1.0 / (1.0 + np.exp(-logits))
