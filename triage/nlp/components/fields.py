"""The trained field scorer: spaCy's `spancat` with our candidate suggester and a sparse linear model.

The suggester (`triage.field_candidates.v1`) proposes the spans that could be a title, organizer,
location, target group, purpose, content or product (candidates.py: values after cues, sentences,
clauses after lead words, organisation names…). The model (`triage.FieldScorer.v1`) turns each
candidate into hashed features — how it was proposed, the cue of its line, its words and
neighbours, its section, whether it names the sender's domain — and scores every label with a
logistic layer over a `SparseLinear` table. Training (train.py) uses spancat's own update/loss;
the extractor keeps, per label, the best-scoring candidate over all sections of a mail.
"""

from __future__ import annotations

import re
import zlib
from itertools import accumulate, chain as _chain
from bisect import bisect_left, bisect_right
from functools import lru_cache
from collections.abc import Callable, Iterable
from typing import Any

import numpy
from spacy.attrs import IDX, LENGTH, SPACY
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import registry
from thinc.api import Model, SparseLinear, chain, get_current_ops
from thinc.types import Ragged

from triage.nlp.candidates import field_candidates
from triage.nlp.fastre import compile_guarded
from triage.nlp.components.dates import ANCHOR, MENTIONS
from triage.nlp.dates import Mention
from triage.nlp.patterns import load_patterns
from triage.nlp.text import Cue, find_cues
from triage.nlp.components.structure import doc_text

FIELDS_KEY = "fields"
#: The labels the scorer learns, in the order of its output columns.
FIELD_LABELS: tuple[str, ...] = (
    "title", "organizer", "location", "target_group", "purpose", "content", "product", "start", "deadline",
)
#: Labels whose candidates are date mentions (the event's day, the registration deadline).
DATE_LABELS: tuple[str, ...] = ("start", "deadline")
MESSAGE_WORDS = "triage.message_words"
#: The key shared by all sections of one message: their candidates compete in one softmax.
MESSAGE = "triage.message"
SECTION = "triage.section"
SENDER_DOMAIN = "triage.sender_domain"
CUES = "triage.cues"
CANDIDATES = "triage.candidates"
TOKEN_OFFSETS = "triage.token_offsets"
from triage.nlp.components.orgs import ORGS_KEY  # noqa: E402 - re-exported

_ORG_SUFFIX = {"ab", "as", "asa", "a/s", "aps", "ltd", "gmbh", "inc", "oy", "ag", "hf"}
#: Product-like names: CamelCase, a capitalised word with a model number, letter-digit codes.
_PRODUCT = re.compile(
    r"(?<![\w-])(?:[A-ZÅÄÖÆØ][a-zåäöæø]+[A-Z][\w]*|[A-ZÅÄÖÆØ][\w]*(?:[ -](?:[A-Z]{1,4}-?\d[\w-]*|\d{1,4}[A-Z]?|[A-Z][a-z]+))?|[A-Z]{1,4}-?\d{2,5}[A-Z]?)"
    r"(?:[ -](?:[A-Z]{1,4}-?\d[\w-]*|\d{1,4}[A-Z]?|Pro|Plus|Flow|Home|Connect|Fit \d+|S|X|XL|Max|Mini|Lite))?(?![\w-])"
)
_COMMON_CAPITALISED = {
    "hej", "hei", "dear", "hi", "vi", "we", "i", "jag", "jeg", "the", "det", "den", "de", "en", "ett", "et", "med", "för", "for",
    "till", "til", "och", "og", "and", "om", "on", "tid", "plats", "sted", "datum", "dato", "program", "syfte", "formål",
    "målgrupp", "målgruppe", "innehåll", "innhold", "anmälan", "påmelding", "kontakt", "vänliga", "vennlig", "med vänlig",
    "hälsningar", "hilsen", "best", "kind", "regards", "tack", "takk", "thanks", "mvh", "region", "helse", "sykehuset",
}


_DIGIT = re.compile(r"\d")
#: How many words of a candidate go into its bag of words, and whether their affixes do too.
BAG_WORDS = 25
AFFIXES = True
MESSAGE_PRIOR = False


def ctx_start(ctx: "_DocContext", token: int) -> int:
    return ctx.starts[token]


@lru_cache(maxsize=2**16)
def _hash(feature: str) -> int:
    """A stable (process-independent) hash of a feature string; cached, features repeat a lot."""
    return zlib.crc32(feature.encode("utf-8"))


def doc_cues(doc: Doc) -> list[Cue]:
    """The cues of a doc (set by triage_cues, recomputed for a bare doc)."""
    cues = doc.user_data.get(CUES)
    if cues is None:
        cues = find_cues(doc_text(doc))
        doc.user_data[CUES] = cues
    return cues


_SENTENCE_START = re.compile(r"(?:[.!?:]\s|\n)$")
_CODED = re.compile(r"[A-Z].*[A-Z]|\d|[a-z][A-Z]")


def product_spans(text: str) -> list[tuple[int, int, str]]:
    """Capitalised or coded names that may be products, outside the first word of a sentence."""
    out: list[tuple[int, int, str]] = []
    for match in _PRODUCT.finditer(text):
        word = match.group(0)
        if word.split()[0].lower().strip(".,") in _COMMON_CAPITALISED or len(word) < 3:
            continue
        if word.split()[-1] in ("AB", "AS", "ASA", "GmbH", "Ltd", "Inc", "Oy", "HF"):
            continue
        before = text[max(0, match.start() - 2):match.start()]
        kind = "product:start" if (match.start() == 0 or _SENTENCE_START.search(before)) else "product"
        if kind == "product:start" and not _CODED.search(word):
            continue
        out.append((match.start(), match.end(), kind))
    return out


def _token_offsets(doc: Doc) -> tuple[list[int], list[int]]:
    """Start and end character offsets of every token (cached on the doc)."""
    cached = doc.user_data.get(TOKEN_OFFSETS)
    if cached is None:
        if len(doc):
            array = doc.to_array([IDX, LENGTH])
            starts = array[:, 0].tolist()
            ends = (array[:, 0] + array[:, 1]).tolist()
        else:
            starts, ends = [], []
        cached = (starts, ends)
        doc.user_data[TOKEN_OFFSETS] = cached
    return cached


def token_span(doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    """The tokens inside characters start:end, like `char_span(alignment_mode="contract")` without
    making Token objects; a last token that only adds a full stop ("gate 21." is one token in
    Norwegian) is kept, so the value "Youngs gate 21" can still be a candidate."""
    starts, ends = _token_offsets(doc)
    first = bisect_left(starts, start)
    last = bisect_right(ends, end)
    if last < len(starts) and starts[last] < end and ends[last] - end <= 1 and last >= first:
        text = doc_text(doc)
        if text[end:ends[last]] in ("", "."):
            last += 1
    return (first, last) if last > first else None


def doc_candidates(doc: Doc) -> dict[tuple[int, int], set[str]]:
    """The candidate token spans of a doc with the kinds that proposed them (cached on the doc)."""
    cached = doc.user_data.get(CANDIDATES)
    if cached is not None:
        return cached
    source = doc.user_data.get(SECTION, "body")
    text = doc_text(doc)
    extra: list[tuple[int, int, str]] = []
    if ORGS_KEY in doc.spans:
        extra.extend((span.start_char, span.end_char, f"org:{span.label_}") for span in doc.spans[ORGS_KEY])
    if source in ("subject", "body", "forwarded", "attachment"):
        extra.extend(product_spans(text))
    mentions = doc.user_data.get(MENTIONS) or []
    boundaries = [m.start for m in mentions if m.kind in ("date", "time", "relative")]
    if source in ("subject", "body", "forwarded", "attachment"):
        for mention in mentions:
            if mention.kind in ("date", "relative"):
                extra.append((mention.start, mention.end, f"date:{mention.kind}"))
    by_chars = field_candidates(text, source, doc_cues(doc), extra, boundaries)
    by_tokens: dict[tuple[int, int], set[str]] = {}
    for (start, end), kinds in by_chars.items():
        span = token_span(doc, start, end)
        if span is None:
            continue
        by_tokens.setdefault(span, set()).update(kinds)
    doc.user_data[CANDIDATES] = by_tokens
    return by_tokens


@registry.misc("triage.field_candidates.v1")
def build_field_candidates() -> Callable[..., Ragged]:
    """The suggester for `spancat`: the candidates of candidates.py, as token offsets."""

    def suggest(docs: list[Doc], *, ops: Any = None) -> Ragged:
        ops = ops or get_current_ops()
        rows: list[tuple[int, int]] = []
        lengths: list[int] = []
        for doc in docs:
            spans = sorted(doc_candidates(doc))
            rows.extend(spans)
            lengths.append(len(spans))
        data = numpy.asarray(rows, dtype="int32").reshape((-1, 2))
        return Ragged(ops.asarray2i(data), ops.asarray1i(numpy.asarray(lengths, dtype="int32")))

    return suggest


def _bucket(value: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if value <= edge:
            return str(edge)
    return f">{edges[-1]}"


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(class, whole-word regex) of patterns/lexicons.jsonl."""
    return tuple((item["label"], re.compile(item["regex"])) for item in load_patterns("lexicons"))


@lru_cache(maxsize=1)
def _any_lexicon() -> re.Pattern[str]:
    """All lexicon regexes as one alternation: it matches a whole word iff one of them does (they
    have no groups or inline flags), so most words, in no class, take one call instead of one each."""
    return re.compile("|".join(f"(?:{regex.pattern})" for _, regex in _lexicon()))


@lru_cache(maxsize=2**15)
def word_classes(word: str) -> tuple[str, ...]:
    """The lexicon classes of one lower-cased word ("sjuksköterskor" → ("audience",))."""
    if not _any_lexicon().fullmatch(word):
        return ()
    return tuple(sorted({label for label, regex in _lexicon() if regex.fullmatch(word)}))


#: Message-level facts (from all its sections) that shift a field against "none": a company that
#: invites in the first person is the organizer of what it signs; a sponsor, exhibitor or agency
#: that writes for others is not; a newsletter states no event at all.
MESSAGE_FLAGS = "triage.message_flags"
_FLAG_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("invite1p", compile_guarded(
        r"\b(?:vi|we|jeg|jag|I)\s+(?:\w+\s+){0,2}?(?:bjuder|inbjuder|inviterer|invite|arrangerar|arrangerer|anordnar|"
        r"organi[sz]e|host|are hosting|holder|håller|välkomnar|ønsker velkommen|welcome|kommer gärna|kommer gjerne|"
        r"vil gjerne komme|would like to visit|besöker|besøker|visit)\b", re.IGNORECASE)),
    ("organised", compile_guarded(r"\b(?:arrangeras av|arrangeres av|anordnas av|organi[sz]ed by|hosted by|i regi av|"
                             r"arrangör|arrangør|organi[sz]er|värd|vert)\b", re.IGNORECASE)),
    ("sponsor", compile_guarded(r"(?:sponsor|sponse|partner|på vegne av|på uppdrag av|på oppdrag fra|on behalf of|"
                           r"kurskomit|kurskommit|programkomit|planeringsgrupp|planleggingsgrupp|arrangørgrupp|"
                           r"organi[sz]ing committee|utställ|utstill|exhibit|monter|standplass)", re.IGNORECASE)),
    ("newsletter", compile_guarded(r"(?:nyhetsbrev|newsletter|avregistrera|avmeld|unsubscribe|prenumer|abonn)", re.IGNORECASE)),
    # Notices that name a day but no event: deliveries, out-of-office replies, job ads, invoices, HR reminders.
    ("notice", compile_guarded(r"(?:leveransavi|leveranseavi|leveransbesked|delivery (?:notice|note|confirmation)|expected delivery|"
                               r"leveransdag|leveringsdag|orderbekräft|ordrebekreft|order confirmation|följesedel|følgeseddel|"
                               r"frånvaro|fravær|out of office|autosvar|automatiskt svar|automatisk svar|på semester|på ferie|"
                               r"ledig (?:\d+ ?% )?(?:fast |faste |vikariat |midlertidig )?stilling|ledig tjänst|lediga tjänster|søknadsfrist|ansökningstid|vacancy|"
                               r"tidrapport|timeliste|lönespec|faktura(?:nummer|nr)|invoice (?:number|no))", re.IGNORECASE)),
    ("invitation", compile_guarded(r"(?:inbjudan|inbjud|invitasjon|invitation|invitere|invite|välkommen|velkommen|welcome|"
                              r"anmäl|påmeld|register|sign up|program|agenda)", re.IGNORECASE)),
)


def message_flags(texts: list[str]) -> list[str]:
    """The message-level flags of a mail from its sections' texts (the extractor sets them once per mail)."""
    joined = "\n".join(texts)
    # An absent flag is a fact too ("no invitation word anywhere"): it gets its own feature.
    return [name if regex.search(joined) else f"not_{name}" for name, regex in _FLAG_PATTERNS]


@lru_cache(maxsize=2**14)
def _token_info(word: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, ...], bool, bool, bool, bool]:
    """What the features need of one token's text, computed once per distinct word:
    (lower, bag-of-words features, lexicon classes, their hashed keys, digit, upper0, titled, "@")."""
    lower = word.lower()
    if not lower.isalpha():
        feats: tuple[str, ...] = ()
        classes = word_classes(lower) if lower[:1].isalpha() else ()
    else:
        classes = word_classes(lower)
        if len(lower) > 6 and AFFIXES:
            feats = (f"w={lower}", f"s5={lower[-5:]}", f"p5={lower[:5]}")
        else:
            feats = (f"w={lower}",)
    return (lower, feats, classes, tuple(_hash(f) for f in feats), bool(_DIGIT.search(word)), word[:1].isupper(),
            word[:1].isupper() or not word.isalpha(), "@" in word)


class _DocContext:
    """Per-doc facts the features of every candidate need, computed once (no Token objects later)."""

    def __init__(self, doc: Doc) -> None:
        text = doc_text(doc)
        self.text = text
        self.source = doc.user_data.get(SECTION, "body")
        domain = (doc.user_data.get(SENDER_DOMAIN) or "").lower()
        self.domain_stem = _NON_ALNUM.sub("", domain.split(".")[0]) if domain else ""
        starts, ends = _token_offsets(doc)
        self.starts = starts
        self.words = words = [text[s:e] for s, e in zip(starts, ends)]
        n = len(words)
        infos = [_token_info(w) for w in words]
        # One transposition instead of a comprehension per attribute; prefix counts by accumulate.
        columns = list(zip(*infos)) if infos else [()] * 8
        self.lower = lower = list(columns[0])
        self.word_feats: list[tuple[str, ...]] = list(columns[1])
        self.classes: list[tuple[str, ...]] = list(columns[2])
        self.word_keys: list[tuple[int, ...]] = list(columns[3])
        self.digit = list(columns[4])
        self.upper0 = list(columns[5])
        self.titled = list(columns[6])
        self.at = list(columns[7])
        self.space = space = [w.isspace() for w in words]
        #: Non-space token positions, and for each token how many non-space tokens come before it.
        self.solid: list[int] = [i for i in range(n) if not space[i]]
        self.rank = list(accumulate((not sp for sp in space), initial=0))
        self.breaks_after = [("\n" in w) or text[e:e + 1] == "\n" for w, e in zip(words, ends)]
        #: prefix counts over tokens (space tokens count as no digit, no "@", titled, no comma), so
        #: "any digit in the span" is one subtraction instead of a loop per candidate
        self.digit_before = list(accumulate(self.digit, initial=0))
        self.at_before = list(accumulate(self.at, initial=0))
        self.untitled_before = list(accumulate((not t for t in self.titled), initial=0))
        self.comma_before = list(accumulate((w == "," for w in lower), initial=0))
        # A token ending a line moves the next one down by its newlines (a break after it: one line).
        steps = [(w.count("\n") if "\n" in w else 1) if brk else 0 for w, brk in zip(words, self.breaks_after)]
        self.line_of: list[int] = list(accumulate(steps, initial=0))[:n]
        self.line_cue: dict[int, str] = {}
        for cue in doc_cues(doc):
            self.line_cue.setdefault(text.count("\n", 0, cue.start), cue.label)
        self.orgs: dict[tuple[int, int], str] = {}
        if ORGS_KEY in doc.spans:
            for span in doc.spans[ORGS_KEY]:
                self.orgs[(span.start, span.end)] = span.label_
        self.message_words: list[str] = list(doc.user_data.get(MESSAGE_WORDS) or [])
        self.flags: list[str] = list(doc.user_data.get(MESSAGE_FLAGS) or [])
        self.flag_tuple: tuple[str, ...] = tuple(self.flags)
        #: per start token (rank): the words before (span_keys fills them)
        self.before_cache: dict[int, list[int]] = {}
        #: per start token and per end token: the keys and flags of a candidate that depend on that
        #: side alone (span_keys fills them; many candidates share a start or an end)
        self.start_cache: dict[int, tuple[Any, ...]] = {}
        self.end_cache: dict[int, tuple[Any, ...]] = {}
        #: the non-space words lower-cased and stripped to [a-zåäöæø0-9], joined, with the offset of
        #: each word in that string (span_keys builds it when the sender domain is compared)
        self.stripped: tuple[str, list[int]] | None = None
        #: the bag-of-words keys of all non-space words in order, with each word's offset in them,
        #: so a candidate's bag is one slice; the ranks of the words with lexicon classes, and the
        #: classes seen in (rank_start, size) (span_keys fills it)
        solid_keys = [self.word_keys[i] for i in self.solid]
        self.bag_flat: list[int] = list(_chain.from_iterable(solid_keys))
        self.bag_offsets: list[int] = list(accumulate(map(len, solid_keys), initial=0))
        self.class_ranks: list[int] = [r for r, i in enumerate(self.solid) if self.classes[i]]
        self.seen_cache: dict[tuple[int, int], frozenset[str]] = {}
        anchor = doc.user_data.get(ANCHOR)
        self.anchor = anchor.date() if anchor is not None else None
        self.mentions: dict[tuple[int, int], Mention] = {}
        for mention in doc.user_data.get(MENTIONS) or []:
            if mention.kind in ("date", "relative"):
                span = token_span(doc, mention.start, mention.end)
                if span is not None:
                    self.mentions[span] = mention
        dated = [0] * n
        if "dates" in doc.spans:
            for span in doc.spans["dates"]:
                if span.label_ in ("date", "time", "relative"):
                    dated[span.start:span.end] = [1] * (span.end - span.start)
        #: prefix sums of dated tokens, so a candidate's count is one subtraction
        self.dated_before = list(accumulate(dated, initial=0))


def span_features(ctx: _DocContext, start: int, end: int, kinds: set[str]) -> list[str]:
    """The string features of one candidate span (token offsets start:end)."""
    positions = ctx.solid[ctx.rank[start]:ctx.rank[end]]
    lower = ctx.lower
    words = [lower[i] for i in positions]
    src = ctx.source
    n = len(positions)
    length = _bucket(n, (1, 2, 3, 5, 8, 12, 20, 35))
    feats, ordered, heads = _kind_features(kinds, src, length)
    if not words:
        return feats
    first, last = words[0], words[-1]
    feats += [f"f={first}", f"l={last}", f"f|l={first}|{last}"]
    if n > 1:
        feats.append(f"f2={first}_{words[1]}")
    word_feats = ctx.word_feats
    for i in positions[:BAG_WORDS]:
        feats.extend(word_feats[i])
    # Word classes from the lexicons: which classes, which one leads, and how they meet the kinds.
    classes = ctx.classes
    seen: set[str] = set()
    for i in positions[:BAG_WORDS]:
        seen.update(classes[i])
    for label in sorted(seen):
        feats.append(f"lex={label}")
        for head in heads:
            feats.append(f"lex|k0={label}|{head}")
    for label in classes[positions[0]]:
        feats.append(f"lexf={label}")
    rank = ctx.rank[start]
    previous = [lower[i] for i in ctx.solid[max(0, rank - 3):rank]][::-1]
    for index, word in enumerate(previous):
        feats.append(f"p{index + 1}={word}")
        if index == 0:
            for label in classes[ctx.solid[rank - 1]]:
                feats.append(f"plex={label}")
    if len(previous) >= 2:
        feats.append(f"p12={previous[0]}_{previous[1]}")
    after = ctx.rank[end]
    for index, i in enumerate(ctx.solid[after:after + 2]):
        feats.append(f"n{index + 1}={lower[i]}")
    if start == 0 or ctx.breaks_after[start - 1]:
        feats.append("line_start")
    if end == len(ctx.words) or ctx.breaks_after[end - 1] or (end < len(ctx.words) and "\n" in ctx.words[end]):
        feats.append("line_end")
    line = ctx.line_of[start]
    line_bucket = _bucket(line, (0, 1, 2, 4, 8, 16))
    feats += [f"line={line_bucket}", f"src|line={src}|{line_bucket}"]
    cue = ctx.line_cue.get(line)
    if cue:
        feats.append(f"linecue={cue}")
    head = positions[0]
    if ctx.digit[head]:
        feats.append("digit0")
    if any(ctx.digit[i] for i in positions):
        feats.append("digit")
    if ctx.upper0[head]:
        feats.append("upper0")
    if all(ctx.titled[i] for i in positions):
        feats.append("alltitle")
    if last in _ORG_SUFFIX:
        feats.append("orgsuffix")
    if any(ctx.at[i] for i in positions):
        feats.append("email")
    if last in ("?", "!"):
        feats.append("question")
    dated = ctx.dated_before[end] - ctx.dated_before[start]
    if dated:
        feats.append("has_date" if dated < n else "all_date")
    commas = words.count(",")
    feats.append(f"commas={_bucket(commas, (0, 1, 2, 4))}")
    org = ctx.orgs.get((start, end))
    if org:
        feats.append(f"isorg={org}")
    else:
        for (o_start, o_end), label in ctx.orgs.items():
            if start <= o_start and o_end <= end:
                feats.append(f"hasorg={label}")
                break
    for flag in ctx.flags:
        feats.append(f"m={flag}")
        feats.append(f"m|src={flag}|{src}")
        if org or "org" in heads or "np" in heads:
            feats.append(f"m|org={flag}|{org or '-'}|{src}")
    mention = ctx.mentions.get((start, end))
    if mention is not None:
        feats.extend(_date_features(ctx, mention))
    elif MESSAGE_PRIOR:
        # What the mail is about shifts every field against "none" (an RMI letter names no venue).
        feats.extend(f"msg={word}" for word in ctx.message_words)
    if ctx.domain_stem and len(ctx.domain_stem) >= 3:
        joined = re.sub(r"[^a-zåäöæø0-9]", "", "".join(words))
        if ctx.domain_stem in joined or (len(joined) >= 4 and joined[: max(4, len(joined) - 2)] in ctx.domain_stem):
            feats.append("sender_domain")
            for kind in ordered:
                feats.append(f"sender_domain|{kind}")
            for flag in ctx.flags:
                feats.append(f"sender_domain|m={flag}|{src}")
    return feats



_NON_ALNUM = re.compile(r"[^a-zåäöæø0-9]")
_LENGTH_EDGES = (1, 2, 3, 5, 8, 12, 20, 35)
_LINE_EDGES = (0, 1, 2, 4, 8, 16)
_COMMA_EDGES = (0, 1, 2, 4)
_NO_KINDS: frozenset[str] = frozenset()


@lru_cache(maxsize=2**14)
def _kind_keys(kinds: frozenset[str], src: str, length: str) -> tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...]]:
    """The keys of a candidate's source, length and kinds (the head of span_features), with its
    sorted kinds and kind heads; a few hundred distinct (kinds, source, length) cover a corpus."""
    feats, ordered, heads = _kind_features(kinds, src, length)
    return tuple(_hash(f) for f in feats), tuple(ordered), tuple(heads)


def _kind_features(kinds: Iterable[str], src: str, length: str) -> tuple[list[str], list[str], list[str]]:
    """The features of a candidate's source, length and kinds, its sorted kinds and kind heads.

    Sorted because a set's order depends on the hash seed, and features must not."""
    ordered = sorted(kinds) or ["none"]
    heads = sorted({kind.split(":", 1)[0] for kind in ordered})
    feats = [f"src={src}", f"len={length}", f"src|len={src}|{length}"]
    for kind in ordered:
        parts = kind.split(":")
        feats.append(f"k={kind}")
        if len(parts) > 1:
            feats.append(f"k01={parts[0]}:{parts[1]}")
        feats.append(f"k|src={kind}|{src}")
        feats.append(f"k|len={kind}|{length}")
    for head in heads:
        feats.append(f"k0={head}")
    return feats, ordered, heads


_KEY_TABLES: dict[str, dict[str, int]] = {}
_KEY_TABLE_SIZE = 2**13


def _key(prefix: str, value: str) -> int:
    """The key of the feature `prefix + value`, from one dict per prefix (no string built on a hit;
    a dict lookup costs a fraction of an lru_cache call). A table that grows past its size starts
    afresh, so a long-running worker does not grow with the words it reads."""
    table = _KEY_TABLES.get(prefix)
    if table is None:
        table = _KEY_TABLES[prefix] = {}
    key = table.get(value)
    if key is None:
        if len(table) >= _KEY_TABLE_SIZE:
            table.clear()
        key = table[value] = zlib.crc32((prefix + value).encode("utf-8"))
    return key


@lru_cache(maxsize=2**13)
def _lex_keys(seen: frozenset[str], heads: tuple[str, ...]) -> tuple[int, ...]:
    feats: list[str] = []
    for label in sorted(seen):
        feats.append(f"lex={label}")
        for head in heads:
            feats.append(f"lex|k0={label}|{head}")
    return tuple(_hash(f) for f in feats)


@lru_cache(maxsize=2**12)
def _flag_keys(flags: tuple[str, ...], src: str, org: str | None) -> tuple[int, ...]:
    """The message-flag keys (org None: the candidate is no organisation-like span)."""
    feats: list[str] = []
    for flag in flags:
        feats.append(f"m={flag}")
        feats.append(f"m|src={flag}|{src}")
        if org is not None:
            feats.append(f"m|org={flag}|{org}|{src}")
    return tuple(_hash(f) for f in feats)


_DIGIT0, _DIGIT1, _UPPER0, _ALLTITLE, _ORGSUFFIX, _EMAIL, _QUESTION, _HAS_DATE, _ALL_DATE, _LINE_START, _LINE_END, _SENDER = (
    _hash(f) for f in ("digit0", "digit", "upper0", "alltitle", "orgsuffix", "email", "question", "has_date", "all_date",
                       "line_start", "line_end", "sender_domain"))


def _before_keys(ctx: _DocContext, rank_start: int) -> list[int]:
    """The keys of the (up to three) words before a start: p1, p2, p3, the class of p1, p1_p2."""
    lower, classes, solid = ctx.lower, ctx.classes, ctx.solid
    previous = [lower[i] for i in solid[max(0, rank_start - 3):rank_start]][::-1]
    keys: list[int] = []
    for index, word in enumerate(previous):
        keys.append(_key(f"p{index + 1}=", word))
        if index == 0:
            for label in classes[solid[rank_start - 1]]:
                keys.append(_key("plex=", label))
    if len(previous) >= 2:
        keys.append(_key("p12=", f"{previous[0]}_{previous[1]}"))
    return keys


_LENGTH_BUCKETS: dict[int, str] = {}
_COMMA_KEYS: dict[int, int] = {}


def _start_facts(ctx: _DocContext, start: int, rank_start: int) -> tuple[Any, ...]:
    """What span_keys needs of a candidate's start token alone: (first word, its key, the key of the
    first two words or None, the lexf and before keys, the line keys with digit0, upper0, line start)."""
    solid, lower = ctx.solid, ctx.lower
    head = solid[rank_start]
    first = lower[head]
    f2 = _key("f2=", f"{first}_{lower[solid[rank_start + 1]]}") if rank_start + 1 < len(solid) else None
    after = [_key("lexf=", label) for label in ctx.classes[head]]
    before = ctx.before_cache.get(rank_start)
    if before is None:
        before = ctx.before_cache[rank_start] = _before_keys(ctx, rank_start)
    after.extend(before)
    line = ctx.line_of[start]
    line_bucket = _bucket(line, _LINE_EDGES)
    line_keys = [_key("line=", line_bucket), _key("src|line=", f"{ctx.source}|{line_bucket}")]
    cue = ctx.line_cue.get(line)
    if cue:
        line_keys.append(_key("linecue=", cue))
    if ctx.digit[head]:
        line_keys.append(_DIGIT0)
    line_start = start == 0 or ctx.breaks_after[start - 1]
    return first, _key("f=", first), f2, after, line_keys, bool(ctx.upper0[head]), bool(line_start)


def _end_facts(ctx: _DocContext, end: int, rank_end: int) -> tuple[Any, ...]:
    """What span_keys needs of a candidate's end token alone: (last word, its key, the keys of the
    next two words, line end, org suffix, question)."""
    solid, lower, words = ctx.solid, ctx.lower, ctx.words
    last = lower[solid[rank_end - 1]]
    after = [_key(f"n{index + 1}=", lower[i]) for index, i in enumerate(solid[rank_end:rank_end + 2])]
    line_end = end == len(words) or ctx.breaks_after[end - 1] or (end < len(words) and "\n" in words[end])
    return last, _key("l=", last), after, bool(line_end), last in _ORG_SUFFIX, last in ("?", "!")


def _seen_classes(ctx: _DocContext, rank_start: int, size: int) -> frozenset[str]:
    """The lexicon classes of the first `size` non-space words from rank_start."""
    class_ranks, solid, classes = ctx.class_ranks, ctx.solid, ctx.classes
    seen: set[str] = set()
    stop = rank_start + size
    for index in range(bisect_left(class_ranks, rank_start), len(class_ranks)):
        rank = class_ranks[index]
        if rank >= stop:
            break
        seen.update(classes[solid[rank]])
    return frozenset(seen)


def span_keys(ctx: _DocContext, start: int, end: int, kinds: set[str] | frozenset[str]) -> list[int]:
    """The hashed features of one candidate: exactly `map(_hash, span_features(...))`, in the same
    order, but built from per-word, per-start, per-end and per-kind caches and prefix counts,
    without formatting the strings again for every candidate (most of the scorer's time went there)."""
    rank_start, rank_end = ctx.rank[start], ctx.rank[end]
    n = rank_end - rank_start
    src = ctx.source
    length = _LENGTH_BUCKETS.get(n)
    if length is None:
        length = _LENGTH_BUCKETS[n] = _bucket(n, _LENGTH_EDGES)
    head_keys, ordered, heads = _kind_keys(frozenset(kinds), src, length)
    keys = list(head_keys)
    if not n:
        return keys
    at_start = ctx.start_cache.get(start)
    if at_start is None:
        at_start = ctx.start_cache[start] = _start_facts(ctx, start, rank_start)
    first, first_key, f2_key, start_keys, line_keys, upper0, line_start = at_start
    at_end = ctx.end_cache.get(end)
    if at_end is None:
        at_end = ctx.end_cache[end] = _end_facts(ctx, end, rank_end)
    last, last_key, next_keys, line_end, org_suffix, question = at_end
    keys += [first_key, last_key, _key("f|l=", f"{first}|{last}")]
    if n > 1:
        keys.append(f2_key)
    # The bag of words is a slice of the doc's; candidates that start at the same token (a value and
    # its cut, soft and comma variants) share the classes seen and the words before them.
    size = n if n < BAG_WORDS else BAG_WORDS
    offsets = ctx.bag_offsets
    keys += ctx.bag_flat[offsets[rank_start]:offsets[rank_start + size]]
    seen = ctx.seen_cache.get((rank_start, size))
    if seen is None:
        seen = ctx.seen_cache[(rank_start, size)] = _seen_classes(ctx, rank_start, size)
    if seen:
        keys += _lex_keys(seen, heads)
    keys += start_keys
    keys += next_keys
    if line_start:
        keys.append(_LINE_START)
    if line_end:
        keys.append(_LINE_END)
    keys += line_keys
    if ctx.digit_before[end] - ctx.digit_before[start]:
        keys.append(_DIGIT1)
    if upper0:
        keys.append(_UPPER0)
    if ctx.untitled_before[end] == ctx.untitled_before[start]:
        keys.append(_ALLTITLE)
    if org_suffix:
        keys.append(_ORGSUFFIX)
    if ctx.at_before[end] - ctx.at_before[start]:
        keys.append(_EMAIL)
    if question:
        keys.append(_QUESTION)
    dated = ctx.dated_before[end] - ctx.dated_before[start]
    if dated:
        keys.append(_HAS_DATE if dated < n else _ALL_DATE)
    commas = ctx.comma_before[end] - ctx.comma_before[start]
    comma_key = _COMMA_KEYS.get(commas)
    if comma_key is None:
        comma_key = _COMMA_KEYS[commas] = _hash(f"commas={_bucket(commas, _COMMA_EDGES)}")
    keys.append(comma_key)
    org = ctx.orgs.get((start, end))
    if org:
        keys.append(_key("isorg=", org))
    else:
        for (o_start, o_end), label in ctx.orgs.items():
            if start <= o_start and o_end <= end:
                keys.append(_key("hasorg=", label))
                break
    flags = ctx.flag_tuple
    if flags:
        org_like = org or "org" in heads or "np" in heads
        keys.extend(_flag_keys(flags, src, (org or "-") if org_like else None))
    mention = ctx.mentions.get((start, end))
    if mention is not None:
        keys.extend(map(_hash, _date_features(ctx, mention)))
    elif MESSAGE_PRIOR:
        keys.extend(_key("msg=", word) for word in ctx.message_words)
    if ctx.domain_stem and len(ctx.domain_stem) >= 3:
        stripped = ctx.stripped
        if stripped is None:
            # _NON_ALNUM removes single characters, so stripping the joined words is joining the
            # stripped words: one string per doc, and a candidate's is a slice of it.
            parts = [_NON_ALNUM.sub("", ctx.lower[i]) for i in ctx.solid]
            stripped = ctx.stripped = ("".join(parts), list(accumulate(map(len, parts), initial=0)))
        joined = stripped[0][stripped[1][rank_start]:stripped[1][rank_end]]
        if ctx.domain_stem in joined or (len(joined) >= 4 and joined[: max(4, len(joined) - 2)] in ctx.domain_stem):
            keys.append(_SENDER)
            for kind in ordered:
                keys.append(_key("sender_domain|", kind))
            for flag in ctx.flags:
                keys.append(_key("sender_domain|m=", f"{flag}|{src}"))
    return keys

_DEADLINE_LEAD = re.compile(
    r"(?:senast|innan|före|innen|seinast|by|before|no later than|deadline|frist|sista|anmäl\w*|påmeld\w*|registr\w*|"
    r"register|svar\w*|osa|rsvp|apply|ansök\w*|søk\w*|sign up|reply|respond|besked|beskjed|si fra|säg till)\b[^\n]{0,50}$",
    re.IGNORECASE,
)
_PAST_LEAD = re.compile(
    r"(?:sedan|siden|since|efter|etter|after|från och med|fra og med|godkänt|godkjent|approved|mottatt|mottaget|received|"
    r"levererades|installerades|skickade|sendte|sent|daterad|datert|dated|fakturadatum|förfallodatum|forfallsdato|due|"
    r"gäller från|gjelder fra|valid from|from|fr\.o\.m\.?|t\.o\.m\.?|levereras|leveres|delivery|leverans)\b[^\n]{0,30}$",
    re.IGNORECASE,
)

#: Words before a date that make it a delivery day, a leave, a job's first day or a pay day.
_NOTICE_LEAD = re.compile(
    r"(?:leverans\w*|leverans|levering\w*|delivery|delivered|skickas|sendes|shipped|ferie|semester|ledig|frånvarande|borte|"
    r"away|out of office|stilling|tjänst|position|tiltredelse|tillträde|start date|lön\w*|lønn|utbetal\w*|betalas|"
    r"attester\w*|faktur\w*|invoice|förfall\w*|forfall\w*)\b[^\n]{0,40}$",
    re.IGNORECASE,
)


def _date_features(ctx: _DocContext, mention: Mention) -> list[str]:
    """What a date mention's context says about its role: the event's day, a deadline, or neither."""
    text = ctx.text
    line_start = text.rfind("\n", 0, mention.start) + 1
    before = text[line_start:mention.start]
    feats = [f"dk={mention.kind}", "dk_time" if mention.has_time else "dk_notime"]
    if mention.first != mention.last:
        feats.append("dk_range")
    if mention.has_year:
        feats.append("dk_year")
    if mention.weekday_conflict:
        feats.append("dk_weekday_conflict")
    if _DEADLINE_LEAD.search(before):
        feats.append("dk_deadline_lead")
    if _PAST_LEAD.search(before):
        feats.append("dk_past_lead")
    if _NOTICE_LEAD.search(before):
        feats.append("dk_notice_lead")
    if not before.strip():
        feats.append("dk_line_start")
        previous_line = text[text.rfind("\n", 0, max(0, line_start - 1)) + 1:max(0, line_start - 1)].strip().lower()
        if previous_line.endswith(":") or len(previous_line) < 25:
            feats.append(f"dk_prevline={previous_line[:20]}")
    if ctx.anchor is not None and mention.first is not None:
        days = (mention.first - ctx.anchor).days
        feats.append(f"dk_days={_bucket(days, (-30, -2, 0, 3, 14, 60, 180, 365))}")
    for word in ctx.message_words:
        feats.append(f"dk_msg={word}")
    return feats


def _messages_with_coming_dates(docs: list[Doc]) -> set[Any]:
    """The messages (MESSAGE keys) of a batch that name a day on or after the mail's date: an event
    to organise, place or fill; a delivery notice or a newsletter usually names none."""
    keys: set[Any] = set()
    for doc in docs:
        anchor = doc.user_data.get(ANCHOR)
        day = anchor.date() if anchor is not None else None
        for mention in doc.user_data.get(MENTIONS) or []:
            if mention.kind in ("date", "relative", "week") and (day is None or (mention.first is not None and mention.first >= day)):
                keys.add(doc.user_data.get(MESSAGE, id(doc)))
                break
    return keys


def _features_forward(model: Model, inputs: tuple[list[Doc], Ragged], is_train: bool) -> tuple[Any, Callable]:
    docs, spans = inputs
    keys: list[int] = []
    lengths: list[int] = []
    data = model.ops.to_numpy(spans.dataXd) if len(spans.dataXd) else numpy.zeros((0, 2), dtype="int32")
    offset = 0
    dated = _messages_with_coming_dates(docs)
    for doc, count in zip(docs, model.ops.to_numpy(spans.lengths)):
        candidates = doc.user_data.get(CANDIDATES) or {}
        ctx = _DocContext(doc)
        ctx.flags.append("coming_date" if doc.user_data.get(MESSAGE, id(doc)) in dated else "no_coming_date")
        ctx.flag_tuple = tuple(ctx.flags)
        for row in data[offset:offset + int(count)]:
            start, end = int(row[0]), int(row[1])
            span = span_keys(ctx, start, end, candidates.get((start, end), _NO_KINDS))
            keys.extend(span)
            lengths.append(len(span))
        offset += int(count)
    out = (
        numpy.asarray(keys, dtype="uint64"),
        numpy.ones(len(keys), dtype="float32"),
        numpy.asarray(lengths, dtype="int32"),
    )

    def backprop(d_out: Any) -> list[Any]:
        return []

    return out, backprop


@registry.architectures("triage.FieldScorer.v2")
def build_field_scorer(nO: int = len(FIELD_LABELS), length: int = 2**17) -> Model:
    """Hashed candidate features → SparseLinear: one logit per field label for every candidate."""
    featurize: Model = Model("triage_span_features", _features_forward)
    return chain(featurize, SparseLinear(nO=nO, length=length))


DEFAULT_MODEL = {"@architectures": "triage.FieldScorer.v2", "nO": len(FIELD_LABELS), "length": 2**17}


@Language.factory(
    "triage_field_scorer",
    assigns=["doc.spans"],
    default_config={"model": DEFAULT_MODEL, "suggester": {"@misc": "triage.field_candidates.v1"},
                    "spans_key": FIELDS_KEY, "threshold": 0.01},
)
def make_field_scorer(nlp: Language, name: str, model: Model, suggester: Callable[..., Ragged], spans_key: str,
                      threshold: float) -> "FieldScorer":
    return FieldScorer(nlp.vocab, model, suggester, name, spans_key=spans_key, threshold=threshold)


class FieldScorer(TrainablePipe):
    """Ranks a doc's candidates for each field label against "none of them".

    For each label the candidates' logits and a fixed null logit (0) go through one softmax over all
    sections of a message (docs sharing doc.user_data["triage.message"], passed together), so a
    score is the probability that this candidate, rather than another one or none, is the field's
    value in this mail. Training minimises the cross-entropy of that choice (listwise), which
    suits picking one value per field far better than scoring each candidate on its own.
    Spans scoring at least `threshold` go to doc.spans[spans_key] (label = field), with
    `attrs["scores"]`.
    """

    def __init__(self, vocab: Any, model: Model, suggester: Callable[..., Ragged], name: str = "triage_fields", *,
                 spans_key: str = FIELDS_KEY, threshold: float = 0.01) -> None:
        self.vocab = vocab
        self.model = model
        self.suggester = suggester
        self.name = name
        self.cfg = {"labels": list(FIELD_LABELS), "spans_key": spans_key, "threshold": threshold}

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    def _logits(self, docs: list[Doc], indices: Ragged, *, train: bool = False) -> tuple[Any, Callable | None]:
        if int(indices.lengths.sum()) == 0:
            return self.model.ops.alloc2f(0, len(self.labels)), None
        if train:
            return self.model.begin_update((docs, indices))
        return self.model.predict((docs, indices)), None

    @staticmethod
    def _groups(docs: list[Doc], indices: Ragged, ops: Any) -> list[tuple[int, int, list[int]]]:
        """Row ranges that compete in one softmax: all sections of one message (same MESSAGE key),
        consecutive in the batch; a doc without the key is its own message."""
        groups: list[tuple[int, int, list[int]]] = []
        offset = 0
        previous: Any = object()
        for position, (doc, count) in enumerate(zip(docs, ops.to_numpy(indices.lengths))):
            key = doc.user_data.get(MESSAGE)
            count = int(count)
            if key is not None and key == previous and groups:
                start, _, members = groups[-1]
                groups[-1] = (start, offset + count, members + [position])
            else:
                groups.append((offset, offset + count, [position]))
            previous = key if key is not None else object()
            offset += count
        return groups

    def _softmax(self, docs: list[Doc], indices: Ragged, logits: Any) -> numpy.ndarray:
        """Per message and label: softmax over the message's candidates and the null option."""
        logits = self.model.ops.to_numpy(logits)
        probs = numpy.zeros_like(logits)
        for start, end, _ in self._groups(docs, indices, self.model.ops):
            if end > start:
                block = logits[start:end]
                top = numpy.maximum(block.max(axis=0), 0.0)
                exp = numpy.exp(block - top)
                null = numpy.exp(-top)
                probs[start:end] = exp / (exp.sum(axis=0) + null)
        return probs

    def predict(self, docs: list[Doc]) -> tuple[Ragged, numpy.ndarray]:
        indices = self.suggester(docs, ops=self.model.ops)
        logits, _ = self._logits(docs, indices)
        return indices, self._softmax(docs, indices, logits)

    def set_annotations(self, docs: list[Doc], predictions: tuple[Ragged, numpy.ndarray]) -> None:
        indices, probs = predictions
        data = self.model.ops.to_numpy(indices.dataXd)
        offset = 0
        threshold = float(self.cfg["threshold"])
        for doc, count in zip(docs, self.model.ops.to_numpy(indices.lengths)):
            count = int(count)
            spans: list[Any] = []
            scores: list[float] = []
            for row in range(offset, offset + count):
                start, end = int(data[row, 0]), int(data[row, 1])
                for column, label in enumerate(self.labels):
                    if probs[row, column] >= threshold:
                        spans.append(Span(doc, start, end, label=label))
                        scores.append(float(probs[row, column]))
            group = SpanGroup(doc, name=self.cfg["spans_key"], spans=spans)
            group.attrs["scores"] = numpy.asarray(scores, dtype="float32")
            doc.spans[self.cfg["spans_key"]] = group
            offset += count

    def get_loss(self, examples: list[Any], predictions: tuple[Ragged, Any]) -> tuple[float, Any]:
        """Cross-entropy of choosing, per message and label, the gold candidate(s) or none."""
        indices, logits = predictions
        docs = [eg.predicted for eg in examples]
        probs = self._softmax(docs, indices, logits)
        target = numpy.zeros_like(probs)
        data = self.model.ops.to_numpy(indices.dataXd)
        lengths = self.model.ops.to_numpy(indices.lengths)
        offsets = numpy.concatenate([[0], numpy.cumsum(lengths)]).astype(int)
        label_index = {label: i for i, label in enumerate(self.labels)}
        loss = 0.0
        for start, end, members in self._groups(docs, indices, self.model.ops):
            gold: dict[int, list[int]] = {}
            for position in members:
                eg = examples[position]
                first, last = offsets[position], offsets[position + 1]
                rows = {(int(data[r, 0]), int(data[r, 1])): r for r in range(first, last)}
                for span in eg.get_aligned_spans_y2x(eg.reference.spans.get(self.cfg["spans_key"], []), allow_overlap=True):
                    row = rows.get((span.start, span.end))
                    if row is not None and span.label_ in label_index:
                        gold.setdefault(label_index[span.label_], []).append(row)
            if end == start:
                continue
            for column in range(len(self.labels)):
                positives = sorted(set(gold.get(column, [])))
                if positives:
                    target[positives, column] = 1.0 / len(positives)
                    loss -= float(numpy.log(max(probs[positives, column].sum(), 1e-9)))
                else:
                    null = 1.0 - float(probs[start:end, column].sum())
                    loss -= float(numpy.log(max(null, 1e-9)))
        return loss, self.model.ops.asarray2f(probs - target)

    def update(self, examples: list[Any], *, drop: float = 0.0, sgd: Any = None, losses: dict[str, float] | None = None) -> dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        docs = [eg.predicted for eg in examples]
        indices = self.suggester(docs, ops=self.model.ops)
        if int(indices.lengths.sum()) == 0:
            return losses
        logits, backprop = self._logits(docs, indices, train=True)
        loss, gradient = self.get_loss(examples, (indices, logits))
        backprop(gradient)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def initialize(self, get_examples: Callable[[], Any], *, nlp: Language | None = None) -> None:
        self.model.initialize()
