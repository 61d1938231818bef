"""Event extraction: spaCy pipelines per language with registered components and trained models."""
