"""Train the rules' sentence scorer (`triage train`, trainer "rules"): models/rules/ (the fitted
scikit-learn objects in scorer.joblib, the same model compiled to arrays in scorer.npz, which the
service loads).

Every sentence-sized unit of every train mail is an example. A unit is positive for a violation
code when the mail carries that code and the unit holds (or is held by) one of the label's
`violation_evidence` quotes; every other unit of the train split is a negative. Features are
TF-IDF character n-grams (robust to Swedish and Norwegian compounds and to typos) plus word
uni/bigrams; one class-weighted logistic regression per code.

The scorer is consulted only when a rule's patterns found nothing, so its threshold per code is
chosen for that role: on dev plus out-of-fold predictions on train, over the mails of the
chapters the code's rules apply to, as the lowest threshold that adds no false finding there,
bounded to [0.6, 0.95]. Test is never read.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.feature_extraction.text import TfidfVectorizer

from triage.corpus.labels import LabelledMail
from triage.message.parse import parse_message
from triage.rules.lexicons import load_lexicons
from triage.rules.loading import load_rulebooks
from triage.rules.scorer import MODEL_NAME, SentenceScorer, model_dir
from triage.rules.text import message_units, normalise
from triage.training.registry import TrainingContext, data_hash, register_trainer, write_model_dir
from triage.vocabulary import VIOLATION_CODES

VERSION = "1"
MIN_THRESHOLD = 0.6
MAX_THRESHOLD = 0.95
_WORD = re.compile(r"\w+")


def mail_units(mail: LabelledMail, root: Path) -> list[str]:
    """The texts of a mail's units as the checks see them (the signature left out)."""
    message = parse_message(mail.path(root).read_bytes())
    return [u.text for u in message_units(message) if u.source != "signature"]


def _matches(unit: str, quote: str) -> bool:
    """Whether a unit carries a quote (or is one line of a longer quote)."""
    u, q = normalise(unit), normalise(quote)
    if not u or not q:
        return False
    if q in u or (len(u) >= 15 and u in q):
        return True
    q_words = set(_WORD.findall(q))
    return len(q_words) >= 4 and len(q_words & set(_WORD.findall(u))) / len(q_words) >= 0.8


def unit_labels(mail: LabelledMail, units: list[str]) -> list[set[str]]:
    """For each unit, the violation codes whose evidence it carries."""
    labels: list[set[str]] = [set() for _ in units]
    for code, quotes in mail.violation_evidence.items():
        if code not in mail.violations:
            continue
        for quote in quotes:
            for index, unit in enumerate(units):
                if _matches(unit, quote):
                    labels[index].add(code)
    return labels


def make_vectorizer() -> FeatureUnion:
    """TF-IDF over character 3–5-grams and word uni/bigrams."""
    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True,
                                  max_features=40000, lowercase=True)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                  max_features=20000, lowercase=True, token_pattern=r"(?u)\b\w+\b")),
    ])


def fit_scorer(texts: list[str], labels: list[set[str]], seed: int) -> SentenceScorer:
    """Vectorizer and one logistic regression per code with at least two positive units."""
    vectorizer = make_vectorizer()
    matrix = vectorizer.fit_transform(texts)
    codes, coefs, intercepts = [], [], []
    for code in VIOLATION_CODES:
        y = np.array([code in lab for lab in labels], dtype=int)
        if y.sum() < 2:
            continue
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
        model.fit(matrix, y)
        codes.append(code)
        coefs.append(model.coef_[0])
        intercepts.append(model.intercept_[0])
    return SentenceScorer.from_fitted(
        vectorizer, tuple(codes), np.vstack(coefs).astype(np.float32), np.array(intercepts, dtype=np.float32),
        {c: MIN_THRESHOLD for c in codes}, VERSION,
    )


def _chapters_for(code: str) -> dict[str, set[str]]:
    """Per jurisdiction, the chapters in which some rule for this violation code is checked."""
    out: dict[str, set[str]] = defaultdict(set)
    for book in load_rulebooks(lexicons=load_lexicons()).values():
        for rule in book.rules:
            if rule.code == code and rule.kind == "violation":
                out[book.jurisdiction].update(rule.chapters)
    return out


def choose_thresholds(mail_scores: list[tuple[LabelledMail, dict[str, float]]], codes: tuple[str, ...]) -> dict[str, float]:
    """Per code: the lowest threshold at which no mail without the code (in the code's chapters) is hit."""
    thresholds: dict[str, float] = {}
    for code in codes:
        chapters = _chapters_for(code)
        negatives = [
            scores.get(code, 0.0) for mail, scores in mail_scores
            if mail.chapter in chapters.get(mail.jurisdiction, set()) and code not in mail.violations
        ]
        worst = max(negatives, default=0.0)
        thresholds[code] = float(min(MAX_THRESHOLD, max(MIN_THRESHOLD, round(worst + 0.02, 3))))
    return thresholds


@register_trainer(MODEL_NAME)
def train_rules(ctx: TrainingContext) -> dict[str, Any]:
    """Fit the scorer on train, pick thresholds on dev and train (out of fold), write models/rules/."""
    ctx.progress("rules: reading train and dev units")
    train_units = [(mail, mail_units(mail, ctx.corpus_root)) for mail in ctx.train]
    dev_units = [(mail, mail_units(mail, ctx.corpus_root)) for mail in ctx.dev]
    texts: list[str] = []
    labels: list[set[str]] = []
    groups: list[int] = []
    for number, (mail, units) in enumerate(train_units):
        texts.extend(units)
        labels.extend(unit_labels(mail, units))
        groups.extend([number] * len(units))

    ctx.progress("rules: out-of-fold scores on train")
    mail_scores: list[tuple[LabelledMail, dict[str, float]]] = []
    folds = GroupKFold(n_splits=5)
    index = np.arange(len(texts))
    for fold_train, fold_test in folds.split(index, groups=groups):
        scorer = fit_scorer([texts[i] for i in fold_train], [labels[i] for i in fold_train], ctx.seed)
        probs = scorer.probabilities([texts[i] for i in fold_test])
        by_mail: dict[int, np.ndarray] = {}
        for row, i in enumerate(fold_test):
            g = groups[i]
            by_mail[g] = np.maximum(by_mail.get(g, np.zeros(len(scorer.codes))), probs[row])
        for g, best in by_mail.items():
            mail_scores.append((train_units[g][0], dict(zip(scorer.codes, best.tolist()))))

    ctx.progress("rules: fitting the scorer on all of train")
    scorer = fit_scorer(texts, labels, ctx.seed)
    for mail, units in dev_units:
        probs = scorer.probabilities(units) if units else np.zeros((0, len(scorer.codes)))
        best = probs.max(axis=0) if len(units) else np.zeros(len(scorer.codes))
        mail_scores.append((mail, dict(zip(scorer.codes, best.tolist()))))
    scorer.thresholds = choose_thresholds(mail_scores, scorer.codes)

    metrics = _unit_metrics(scorer, dev_units)
    metrics["thresholds"] = scorer.thresholds
    metrics["positive_units"] = {code: int(sum(code in lab for lab in labels)) for code in scorer.codes}
    directory = model_dir(ctx.models_dir)
    training_hash = data_hash(ctx.train, ctx.corpus_root)
    scorer.save(directory, training_hash=training_hash)
    write_model_dir(
        directory, name=MODEL_NAME, version=VERSION, training_hash=training_hash,
        metrics=metrics,
        extra={"kind": "sentence scorer for rule evidence", "features": "tfidf char_wb 3-5 + word 1-2",
               "classifier": "logistic regression per violation code", "codes": list(scorer.codes),
               "seed": ctx.seed, "trained_on": "train", "thresholds_from": "dev + train out-of-fold"},
    )
    ctx.progress(f"rules: wrote {directory}")
    return metrics


def _unit_metrics(scorer: SentenceScorer, dev_units: list[tuple[LabelledMail, list[str]]]) -> dict[str, Any]:
    """Mail-level precision/recall of the scorer alone on dev, per code (for the model card)."""
    out: dict[str, Any] = {}
    best = [scorer.probabilities(units).max(axis=0) if units else None for _, units in dev_units]
    for code in scorer.codes:
        column = scorer.codes.index(code)
        tp = fp = fn = 0
        for (mail, units), top in zip(dev_units, best):
            fired = top is not None and float(top[column]) >= scorer.thresholds[code]
            gold = code in mail.violations
            tp += fired and gold
            fp += fired and not gold
            fn += gold and not fired
        out[code] = {"dev_tp": tp, "dev_fp": fp, "dev_fn": fn}
    return {"dev_scorer_alone": out}
