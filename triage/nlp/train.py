"""`triage train` for the extraction stage: the field scorer and the arranger categorizer.

Gold spans come from the labels' `event` values (exact substrings of the mail's readable text),
found in the parsed sections; every candidate that reads the same as a gold value is a positive
for that field, every other candidate a negative. Both trained components are shared by the
Swedish, Norwegian and English pipelines (their features are language-neutral strings), so one
model is trained on all three languages and saved once, under models/extract/. Thresholds per
field are chosen on dev; test is never read here.
"""

from __future__ import annotations

import random
import shutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from triage.corpus.labels import LabelledMail
from triage.message.envelope import ParsedMessage
from triage.message.parse import parse_message
from triage.nlp.components.fields import DATE_LABELS, FIELD_LABELS, FIELDS_KEY, doc_candidates
from triage.nlp.extractor import EventExtractor, SectionDoc
from triage.nlp.pipeline import ARRANGER_LABELS, LANGUAGES, build_nlp
from triage.nlp.scoring import score_events, summary
from triage.training.registry import TrainingContext, data_hash, register_trainer, write_model_dir
from triage.nlp.components.structure import doc_text

MODEL_NAME = "extract"
VERSION = "1"
#: Which event field each scorer label is trained from.
FIELD_OF_LABEL = {"title": "title", "organizer": "organizer", "location": "location", "target_group": "target_group",
                  "purpose": "purpose", "content": "content", "product": "products", "start": "start",
                  "deadline": "registration_deadline"}


def gold_values(mail: LabelledMail, label: str) -> list[str]:
    """The gold strings of a scorer label: the event value, or for dates the evidence phrase."""
    field_name = FIELD_OF_LABEL[label]
    if label in DATE_LABELS:
        return list(mail.evidence.get(field_name) or []) if mail.event.get(field_name) else []
    values = mail.event.get(field_name)
    if not values:
        return []
    return [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str) and v.strip()]
EPOCHS = 12
BATCH = 16
LEARN_RATE = 0.002
L2 = 1e-6
ARRANGER_EPOCHS = 5
#: What each label's threshold is tuned for on dev: "overlap" (the value is right) or "detected" (the
#: mail states one at all — what the missing-element rules need for purpose and content).
TUNE_FOR = {"purpose": "detected", "content": "detected"}
THRESHOLD_GRID = (0.005, 0.01, 0.02, 0.03) + tuple(round(0.05 * i, 2) for i in range(1, 19))


@dataclass
class PreparedMail:
    """A labelled mail, parsed and run through the rule components once."""

    mail: LabelledMail
    message: ParsedMessage
    section_docs: list[SectionDoc]


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(" .,:;!?\"'“”").casefold()


def gold_spans(sd: SectionDoc, mail: LabelledMail) -> list[tuple[int, int, str]]:
    """Token spans of this section that are gold values: every candidate reading the same, or the value itself."""
    doc = sd.doc
    candidates = doc_candidates(doc)
    by_key: dict[str, list[tuple[int, int]]] = {}
    for start, end in candidates:
        by_key.setdefault(_key(doc[start:end].text), []).append((start, end))
    spans: list[tuple[int, int, str]] = []
    date_candidates = [(start, end) for (start, end), kinds in candidates.items() if any(k.startswith("date:") for k in kinds)]
    for label in FIELD_OF_LABEL:
        for value in gold_values(mail, label):
            pattern = re.escape(value.strip()).replace(r"\ ", r"\s+")
            if label in DATE_LABELS:
                for hit in re.finditer(pattern, doc_text(doc)):
                    span = doc.char_span(hit.start(), hit.end(), alignment_mode="expand")
                    if span is None:
                        continue
                    spans.extend((s, e, label) for s, e in date_candidates if s < span.end and span.start < e)
                continue
            matched = by_key.get(_key(value), [])
            if matched:
                spans.extend((start, end, label) for start, end in matched)
                continue
            for hit in re.finditer(pattern, doc_text(doc)):
                span = doc.char_span(hit.start(), hit.end(), alignment_mode="contract")
                if span is not None and len(span):
                    spans.append((span.start, span.end, label))
    return sorted(set(spans))


def _reference(doc: Doc, spans: list[tuple[int, int, str]]) -> Doc:
    reference = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
    reference.spans[FIELDS_KEY] = [Span(reference, start, end, label=label) for start, end, label in spans]
    return reference


def prepare(extractor: EventExtractor, mails: list[LabelledMail], root: Path, *, trained: bool = False) -> list[PreparedMail]:
    """Parse every mail and run the pipeline over its sections (without the trained scorer unless asked)."""
    prepared: list[PreparedMail] = []
    for mail in mails:
        message = parse_message(mail.path(root).read_bytes())
        prepared.append(PreparedMail(mail, message, extractor.process(message, trained=trained)))
    return prepared


def field_examples(prepared: list[PreparedMail]) -> list[list[Example]]:
    """Per mail, the Examples of its sections: each rule-annotated doc and its gold field spans."""
    examples: list[list[Example]] = []
    for item in prepared:
        mail_examples = []
        for sd in item.section_docs:
            doc_candidates(sd.doc)
            mail_examples.append(Example(sd.doc, _reference(sd.doc, gold_spans(sd, item.mail))))
        examples.append(mail_examples)
    return examples


def arranger_examples(extractor: EventExtractor, prepared: list[PreparedMail]) -> list[Example]:
    """textcat Examples: the whole mail (signature left out) and its arranger."""
    examples: list[Example] = []
    for item in prepared:
        doc = extractor.arranger_doc(item.message, item.section_docs)
        if doc is None:
            continue
        gold = item.mail.event.get("arranger") or "none"
        cats = {label: float(label == gold) for label in ARRANGER_LABELS}
        reference = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        reference.cats = cats
        examples.append(Example(doc, reference))
    return examples


def evaluate(extractor: EventExtractor, mails: list[LabelledMail], root: Path) -> dict[str, Any]:
    """Per-field scores of the extractor on labelled mails."""
    pairs = []
    for mail in mails:
        message = parse_message(mail.path(root).read_bytes())
        pairs.append((extractor.extract(message).to_json(), mail.event))
    scores = score_events(pairs)
    return {"fields": scores, "summary": summary(scores), "mails": len(mails)}


def _best_per_label(extractor: EventExtractor, prepared: list[PreparedMail]) -> list[dict[str, list[tuple[float, str]]]]:
    """For each dev mail, each label's candidates (score, text), best first, over all sections."""
    out = []
    for item in prepared:
        section_docs = extractor.process(item.message)
        by_label: dict[str, list[tuple[float, str]]] = {}
        for sd in section_docs:
            group = sd.doc.spans.get(FIELDS_KEY)
            if group is None or len(group) == 0:
                continue
            scores = group.attrs.get("scores")
            for index, span in enumerate(group):
                if sd.source == "signature" and span.label_ != "organizer":
                    continue
                by_label.setdefault(span.label_, []).append((float(scores[index]), span.text))
        for values in by_label.values():
            values.sort(key=lambda v: -v[0])
        out.append(by_label)
    return out


def tune_thresholds(extractor: EventExtractor, prepared: list[PreparedMail]) -> dict[str, float]:
    """Per label, the threshold that maximises that field's overlap F1 on these (dev) mails."""
    from triage.nlp.scoring import overlaps

    best_by_mail = _best_per_label(extractor, prepared)
    thresholds: dict[str, float] = {}
    for label in FIELD_OF_LABEL:
        best_f1, best_t = -1.0, 0.5
        for threshold in THRESHOLD_GRID:
            tp = fp = fn = 0
            for item, by_label in zip(prepared, best_by_mail):
                golds = gold_values(item.mail, label)
                preds = [text for score, text in by_label.get(label, []) if score >= threshold]
                if label != "product":
                    preds = preds[:1]
                else:
                    preds = list(dict.fromkeys(p.lower() for p in preds))[:5]
                if TUNE_FOR.get(label) == "detected":
                    matched = preds[:1] if golds else []
                else:
                    matched = [p for p in preds if any(overlaps(p, g) for g in golds)]
                if label != "product" and preds and golds and not matched:
                    fp += 1
                    fn += 1
                    continue
                tp += len(matched)
                fp += len(preds) - len(matched)
                fn += len([g for g in golds if not any(overlaps(p, g) for p in preds)])
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            if f1 > best_f1 + 1e-9:
                best_f1, best_t = f1, threshold
        thresholds[label] = best_t
    return thresholds


def train_components(extractor: EventExtractor, train: list[PreparedMail], progress: Any, seed: int) -> None:
    """Fit the field scorer and the arranger on the prepared training mails."""
    fix_random_seed(seed)
    nlp = extractor.pipelines[LANGUAGES[0]]
    fields = nlp.get_pipe("triage_fields")
    arranger = nlp.get_pipe("arranger")
    examples = field_examples(train)
    arranged = arranger_examples(extractor, train)
    fields.initialize(lambda: [eg for mail in examples for eg in mail], nlp=nlp)
    arranger.initialize(lambda: arranged, nlp=nlp, labels=list(ARRANGER_LABELS))
    from thinc.api import Adam

    optimizer = Adam(LEARN_RATE, L2=L2, use_averages=True)
    rng = random.Random(seed)
    for epoch in range(EPOCHS):
        rng.shuffle(examples)
        rng.shuffle(arranged)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=BATCH):  # whole mails: their sections share one softmax
            fields.update([eg for mail in batch for eg in mail], sgd=optimizer, losses=losses)
        if epoch < ARRANGER_EPOCHS:  # the bag-of-words categorizer overfits 460 mails quickly
            for batch in minibatch(arranged, size=BATCH):
                arranger.update(batch, sgd=optimizer, losses=losses)
        progress(f"extract: epoch {epoch + 1}/{EPOCHS} loss fields={losses.get('triage_fields', 0):.1f} "
                 f"arranger={losses.get('arranger', 0):.2f}")
    # Keep the averaged weights (smoother than the last step's).
    for pipe in (fields, arranger):
        with pipe.model.use_params(optimizer.averages):
            weights = pipe.model.to_bytes()
        pipe.model.from_bytes(weights)


def share_trained(extractor: EventExtractor) -> None:
    """Give every language's pipeline the weights trained on the first one."""
    source = extractor.pipelines[LANGUAGES[0]]
    for lang, nlp in extractor.pipelines.items():
        if nlp is source:
            continue
        for name in ("triage_fields", "arranger"):
            nlp.get_pipe(name).from_bytes(source.get_pipe(name).to_bytes())


@register_trainer(MODEL_NAME)
def train_extract(ctx: TrainingContext) -> dict[str, Any]:
    """Train models/extract/: the field scorer and the arranger, with thresholds tuned on dev."""
    pipelines = {lang: build_nlp(lang) for lang in LANGUAGES}
    extractor = EventExtractor(pipelines)
    ctx.progress(f"extract: preparing {len(ctx.train)} train and {len(ctx.dev)} dev mails")
    train = prepare(extractor, ctx.train, ctx.corpus_root)
    dev = prepare(extractor, ctx.dev, ctx.corpus_root)
    train_components(extractor, train, ctx.progress, ctx.seed)
    share_trained(extractor)
    thresholds = tune_thresholds(extractor, dev)
    extractor.thresholds.update(thresholds)
    ctx.progress(f"extract: thresholds {thresholds}")
    dev_scores = evaluate(extractor, ctx.dev, ctx.corpus_root)
    directory = ctx.models_dir / MODEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    source = extractor.pipelines[LANGUAGES[0]]
    for name in ("triage_fields", "arranger"):
        shutil.rmtree(directory / name, ignore_errors=True)  # no stale files from an older layout
        source.get_pipe(name).to_disk(directory / name, exclude=["vocab"])
    metrics = {"dev": dev_scores, "train_mails": len(ctx.train), "dev_mails": len(ctx.dev)}
    write_model_dir(
        directory, name=MODEL_NAME, version=VERSION, training_hash=data_hash(ctx.train + ctx.dev, ctx.corpus_root),
        metrics=metrics,
        extra={"thresholds": thresholds, "arranger_threshold": extractor.arranger_threshold,
               "languages": list(LANGUAGES), "components": ["triage_fields", "arranger"],
               "field_labels": list(FIELD_LABELS), "arranger_labels": list(ARRANGER_LABELS),
               "epochs": EPOCHS, "learn_rate": LEARN_RATE, "seed": ctx.seed},
    )
    return metrics
