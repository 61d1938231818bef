"""The trained chapter model as plain arrays: the same probabilities as scikit-learn, at a fraction of the cost.

The model training fits (`classify/model.py`: TF-IDF and signal blocks in a FeatureUnion, a linear
model, calibration) is linear all the way to the calibrator, so predicting needs only each block's
vocabulary and idf, the weight matrix and the calibrator's parameters. `CompiledChapterModel`
holds just those, reads and writes them as one `.npz` (no pickle: loading imports neither
scikit-learn nor joblib), and scores a mail by reading its text once:

- the text is lowercased once and shared by the word and the character blocks;
- character n-grams are made per *distinct* word (a mail repeats its words), and the vocabulary
  indices of a word are remembered across mails in a bounded cache;
- the score is a gather-and-dot over the few hundred columns a mail has, not a sparse-matrix
  product with a (classes × features) matrix copied on every call.

It reproduces scikit-learn's `predict_proba` to ~1e-6 (scikit-learn computes the TF-IDF values in
float32); `tests/test_classify_compiled.py` checks that on real mails. A fitted estimator that is
not of the supported shape (see `compile_estimator`) is simply not compiled: the classifier then
runs the scikit-learn estimator as before.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from triage.classify.features import TEXT_SIGNAL_PREFIXES, MailFeatures

#: Bump when the file layout changes; a file of another format is not read.
FORMAT = 1
#: Distinct words whose character n-gram indices are remembered between mails (bounded memory:
#: about 250 bytes a word). The cache is emptied when full; a mailbox's vocabulary refills it.
WORD_CACHE_SIZE = 20_000


class NotCompilable(ValueError):
    """The fitted estimator has a shape this module does not reproduce (the sklearn one is used)."""


@dataclass
class Block:
    """One FeatureUnion block: which field it reads, how it turns it into terms, and its columns."""

    name: str
    kind: str  # "word", "char_wb" or "signals"
    source: str  # "text" / "subject" for text blocks; "text" / "meta" / "all" for signal blocks
    terms: list[str]
    weights: np.ndarray  # (len(terms), classes): coef.T rows of this block × the union's weight
    idf: np.ndarray | None = None  # (len(terms),) for TF-IDF blocks
    ngram_range: tuple[int, int] = (1, 1)
    sublinear_tf: bool = False
    norm: str | None = None
    token_pattern: str | None = None
    vocabulary: dict[str, int] = field(init=False, repr=False)
    _words: dict[str, np.ndarray] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.vocabulary = {term: i for i, term in enumerate(self.terms)}
        self._tokens = re.compile(self.token_pattern).findall if self.token_pattern else None

    # --- terms of one mail -------------------------------------------------------------------

    def counts(self, lowered: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, term counts) of the vocabulary terms in an already lowercased text."""
        if self.kind == "char_wb":
            return self._char_counts(lowered)
        return self._word_counts(lowered)

    def _word_counts(self, lowered: str) -> tuple[np.ndarray, np.ndarray]:
        tokens = self._tokens(lowered)  # type: ignore[misc]
        low, high = self.ngram_range
        grams: list[str] = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        vocabulary = self.vocabulary
        found = [(vocabulary[g], c) for g, c in Counter(grams).items() if g in vocabulary]
        if not found:
            return _EMPTY_INT, _EMPTY_FLOAT
        columns, counts = zip(*found)
        return np.fromiter(columns, np.intp, len(columns)), np.fromiter(counts, np.float64, len(counts))

    def _word_ngram_columns(self, word: str) -> np.ndarray:
        """The vocabulary columns of one word's padded character n-grams (as scikit-learn's char_wb)."""
        cached = self._words.get(word)
        if cached is not None:
            return cached
        padded = f" {word} "
        length = len(padded)
        vocabulary = self.vocabulary
        columns: list[int] = []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            if length <= n:  # a short word counts once, whole
                if padded in vocabulary:
                    columns.append(vocabulary[padded])
                break
            for i in range(length - n + 1):
                column = vocabulary.get(padded[i:i + n])
                if column is not None:
                    columns.append(column)
        found = np.array(columns, dtype=np.int32)
        if len(self._words) >= WORD_CACHE_SIZE:
            self._words.clear()
        self._words[word] = found
        return found

    def raw_counts(self, lowered: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, counts) as `counts`, except that a column may come more than once (to be summed).

        For callers that sum many texts' terms in one go (the rules' sentence scorer)."""
        if self.kind == "char_wb":
            return self._char_columns(lowered)
        return self._word_counts(lowered)

    def _char_columns(self, lowered: str) -> tuple[np.ndarray, np.ndarray]:
        words = Counter(lowered.split())
        if not words:
            return _EMPTY_INT, _EMPTY_FLOAT
        parts = [self._word_ngram_columns(w) for w in words]
        sizes = np.fromiter(map(len, parts), np.intp, len(parts))
        if not sizes.any():
            return _EMPTY_INT, _EMPTY_FLOAT
        return np.concatenate(parts), np.repeat(np.fromiter(words.values(), np.float64, len(words)), sizes)

    def _char_counts(self, lowered: str) -> tuple[np.ndarray, np.ndarray]:
        columns, repeats = self._char_columns(lowered)
        if not len(columns):
            return _EMPTY_INT, _EMPTY_FLOAT
        if len(columns) * 16 < len(self.terms):  # a short text: sort its few columns, not scan them all
            present, inverse = np.unique(columns, return_inverse=True)
            return present.astype(np.intp), np.bincount(inverse, weights=repeats)
        dense = np.bincount(columns, weights=repeats, minlength=len(self.terms))
        present = np.flatnonzero(dense)
        return present, dense[present]

    def scores(self, lowered: str) -> np.ndarray:
        """This block's contribution to the decision values of one mail, (classes,)."""
        columns, counts = self.counts(lowered)
        if not len(columns):
            return np.zeros(self.weights.shape[1])
        values = (np.log(counts) + 1.0) if self.sublinear_tf else counts
        if self.idf is not None:
            values = values * self.idf[columns]
        if self.norm == "l2":
            norm = math.sqrt(float(values @ values))
            if norm > 0.0:
                values = values / norm
        return values @ self.weights[columns]

    def signal_scores(self, signals: Sequence[str]) -> np.ndarray:
        """A signal block's contribution: each known token counts 1 (a DictVectorizer row)."""
        vocabulary = self.vocabulary
        columns = sorted({vocabulary[s] for s in signals if s in vocabulary and _wanted(s, self.source)})
        if not columns:
            return np.zeros(self.weights.shape[1])
        return self.weights[columns].sum(axis=0, dtype=np.float64)


_EMPTY_INT = np.zeros(0, dtype=np.intp)
_EMPTY_FLOAT = np.zeros(0, dtype=np.float64)


def _wanted(token: str, kind: str) -> bool:
    """The same split of the signals as `model.SignalsOf`."""
    if kind == "all":
        return True
    return token.startswith(TEXT_SIGNAL_PREFIXES) == (kind == "text")


def tfidf_block(name: str, vector: Any, coef: np.ndarray, source: str, *, weight: float = 1.0) -> Block:
    """A Block from a fitted TfidfVectorizer whose columns are the first ones of `coef` (rows: classes).

    Only the options `Block` reproduces are accepted (word or char_wb analyzer, lowercasing, the
    default preprocessing, l2 or no norm); anything else raises NotCompilable.
    """
    analyzer = vector.analyzer
    if (analyzer not in ("word", "char_wb") or not vector.lowercase or vector.strip_accents
            or vector.preprocessor or vector.tokenizer or vector.stop_words is not None or vector.binary
            or vector.norm not in ("l2", None) or vector.input != "content"):
        raise NotCompilable(f"block {name}: TF-IDF options not reproduced")
    vocabulary = vector.vocabulary_
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    if coef.shape[1] < len(terms):
        raise NotCompilable(f"block {name}: {len(terms)} terms, {coef.shape[1]} weight columns left")
    idf = np.asarray(vector.idf_, dtype=np.float64) if vector.use_idf else None
    return Block(
        name=name, kind=analyzer, source=source, terms=terms,
        weights=np.ascontiguousarray(np.asarray(coef[:, :len(terms)], dtype=np.float64).T * weight,
                                     dtype=np.float32),
        idf=idf, ngram_range=tuple(vector.ngram_range), sublinear_tf=bool(vector.sublinear_tf),
        norm=vector.norm, token_pattern=vector.token_pattern if analyzer == "word" else None,
    )


def write_blocks(blocks: Sequence[Block], arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Put each block's arrays into `arrays` (terms_i, weights_i, idf_i) and return their specs for the metadata."""
    specs = []
    for i, block in enumerate(blocks):
        if any("\n" in term for term in block.terms):
            raise NotCompilable(f"block {block.name} has a term with a newline")
        specs.append({"name": block.name, "kind": block.kind, "source": block.source,
                      "ngram_range": list(block.ngram_range), "sublinear_tf": block.sublinear_tf,
                      "norm": block.norm, "token_pattern": block.token_pattern, "idf": block.idf is not None})
        arrays[f"terms_{i}"] = np.frombuffer("\n".join(block.terms).encode("utf-8"), dtype=np.uint8)
        arrays[f"weights_{i}"] = block.weights
        if block.idf is not None:
            arrays[f"idf_{i}"] = block.idf
    return specs


def read_blocks(specs: Sequence[dict[str, Any]], data: Any) -> list[Block]:
    """The blocks `write_blocks` wrote, from an opened .npz."""
    blocks = []
    for i, spec in enumerate(specs):
        raw = data[f"terms_{i}"].tobytes().decode("utf-8")
        blocks.append(Block(
            name=spec["name"], kind=spec["kind"], source=spec["source"],
            terms=raw.split("\n") if raw else [],
            weights=np.ascontiguousarray(data[f"weights_{i}"]),
            idf=data[f"idf_{i}"] if spec["idf"] else None,
            ngram_range=tuple(spec["ngram_range"]), sublinear_tf=spec["sublinear_tf"],
            norm=spec["norm"], token_pattern=spec["token_pattern"],
        ))
    return blocks


class CompiledChapterModel:
    """A linear chapter model with temperature or sigmoid calibration, as arrays."""

    def __init__(self, *, classes: Sequence[str], blocks: Sequence[Block], intercept: np.ndarray,
                 calibration: str, calibration_params: np.ndarray) -> None:
        self.classes_ = np.asarray(list(classes))
        self.blocks = list(blocks)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.calibration = calibration
        self.calibration_params = np.asarray(calibration_params, dtype=np.float64)

    # --- predicting --------------------------------------------------------------------------

    def decision_function(self, features: Sequence[MailFeatures]) -> np.ndarray:
        """The linear model's decision values, (mails, classes)."""
        out = np.empty((len(features), len(self.classes_)))
        for row, mail in enumerate(features):
            lowered: dict[str, str] = {}
            total = self.intercept.copy()
            for block in self.blocks:
                if block.kind == "signals":
                    total += block.signal_scores(mail.signals)
                    continue
                text = lowered.get(block.source)
                if text is None:
                    text = lowered[block.source] = getattr(mail, block.source).lower()
                total += block.scores(text)
            out[row] = total
        return out

    def predict_proba(self, features: Sequence[MailFeatures]) -> np.ndarray:
        """Calibrated probabilities, (mails, classes), as CalibratedClassifierCV.predict_proba."""
        decision = self.decision_function(features)
        if self.calibration == "temperature":
            logits = decision
            if np.all((decision >= 0) & (decision <= 1)) and np.allclose(decision.sum(axis=1), 1.0):
                logits = np.log(decision + 1e-12)  # what scikit-learn does with probability-like input
            scaled = self.calibration_params[0] * logits
            scaled -= scaled.max(axis=1, keepdims=True)
            np.exp(scaled, out=scaled)
            proba = scaled / scaled.sum(axis=1, keepdims=True)
        else:  # one-vs-rest sigmoid: params rows (a, b); p = 1 / (1 + exp(a·d + b)), then normalised
            a, b = self.calibration_params[:, 0], self.calibration_params[:, 1]
            proba = 1.0 / (1.0 + np.exp(a * decision + b))
            denominator = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, denominator, out=np.full_like(proba, 1 / len(self.classes_)),
                              where=denominator != 0)
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    # --- files -------------------------------------------------------------------------------

    def save(self, path: Path, *, version: str) -> Path:
        """Write one .npz (no pickled objects): metadata as JSON, vocabularies as text, arrays."""
        meta: dict[str, Any] = {"format": FORMAT, "version": version, "classes": [str(c) for c in self.classes_],
                                "calibration": self.calibration, "blocks": []}
        arrays: dict[str, np.ndarray] = {"intercept": self.intercept, "calibration_params": self.calibration_params}
        meta["blocks"] = write_blocks(self.blocks, arrays)
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: Path) -> tuple[CompiledChapterModel, str]:
        """The model in `path` and the version it was saved with."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise NotCompilable(f"{path} has format {meta.get('format')}, this code reads {FORMAT}")
            blocks = read_blocks(meta["blocks"], data)
            model = cls(classes=meta["classes"], blocks=blocks, intercept=data["intercept"],
                        calibration=meta["calibration"], calibration_params=data["calibration_params"])
        return model, str(meta["version"])


def compile_estimator(estimator: Any) -> CompiledChapterModel:
    """Arrays from a fitted `CalibratedClassifierCV(ensemble=False)` over `model.features_union()`.

    Supported: one calibrated classifier; a Pipeline of a FeatureUnion (TF-IDF word / char_wb blocks
    over TextOf, DictVectorizer blocks over SignalsOf) and a linear model with `coef_`; temperature
    or sigmoid calibration. Anything else raises NotCompilable.
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer

    from triage.classify.model import SignalsOf, TextOf

    calibrated = getattr(estimator, "calibrated_classifiers_", None)
    if not calibrated or len(calibrated) != 1:
        raise NotCompilable("not a CalibratedClassifierCV with one calibrated classifier")
    inner = calibrated[0]
    pipeline = inner.estimator
    steps = dict(getattr(pipeline, "named_steps", {}))
    union, model = steps.get("features"), steps.get("model")
    if union is None or model is None or not hasattr(model, "coef_") or len(steps) != 2:
        raise NotCompilable("not a features + linear model pipeline")
    coef = np.asarray(model.coef_, dtype=np.float64)
    classes = [str(c) for c in estimator.classes_]
    # With ensemble=False the base model is fitted on the label-encoded classes (0, 1, ...).
    inner_classes = [str(c) for c in model.classes_]
    if (coef.shape[0] != len(classes) or len(classes) < 3 or [str(c) for c in inner.classes] != classes
            or inner_classes not in (classes, [str(i) for i in range(len(classes))])):
        raise NotCompilable("binary or reordered classes")
    weights_of = union.transformer_weights or {}
    blocks: list[Block] = []
    offset = 0
    for name, part in union.transformer_list:
        if part == "drop" or part is None:
            continue
        select, vector = part.steps[0][1], part.steps[-1][1]
        weight = float(weights_of.get(name, 1.0))
        if len(part.steps) != 2:
            raise NotCompilable(f"block {name} is not select + vectoriser")
        if isinstance(vector, TfidfVectorizer) and isinstance(select, TextOf):
            block = tfidf_block(name, vector, coef[:, offset:], select.field, weight=weight)
            blocks.append(block)
            terms = block.terms
        elif isinstance(vector, DictVectorizer) and isinstance(select, SignalsOf):
            terms = list(vector.feature_names_)
            blocks.append(Block(
                name=name, kind="signals", source=select.kind, terms=terms,
                weights=np.ascontiguousarray(coef[:, offset:offset + len(terms)].T * weight, dtype=np.float32),
            ))
        else:
            raise NotCompilable(f"block {name}: {type(vector).__name__} over {type(select).__name__}")
        offset += len(terms)
    if offset != coef.shape[1]:
        raise NotCompilable(f"blocks have {offset} columns, the model {coef.shape[1]}")
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if inner.method == "temperature":
        params = np.array([float(inner.calibrators[0].beta_)])
    elif inner.method == "sigmoid":
        if len(inner.calibrators) != len(classes):
            raise NotCompilable("sigmoid calibration without one calibrator per class")
        params = np.array([[float(c.a_), float(c.b_)] for c in inner.calibrators])
    else:
        raise NotCompilable(f"calibration {inner.method!r} not reproduced")
    return CompiledChapterModel(classes=classes, blocks=blocks, intercept=intercept, calibration=inner.method,
                                calibration_params=params)
