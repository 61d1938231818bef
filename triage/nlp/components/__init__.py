"""The registered spaCy components of the extraction pipeline; importing this package registers them.

Rule components (patterns from triage/nlp/patterns/*.jsonl, each match keeping its pattern id):
`triage_sentences`, `triage_cues`, `triage_dates`, `triage_costs`, `triage_contacts`, `triage_online`,
`triage_orgs`. Trained: the field scorer (`spancat` with the `triage.field_candidates.v1` suggester and
the `triage.FieldScorer.v1` model) and the `arranger` text categorizer.
"""

from triage.nlp.components import costs, dates, fields, mentions, orgs, structure  # noqa: F401 - registration

__all__ = ["costs", "dates", "fields", "mentions", "orgs", "structure"]
