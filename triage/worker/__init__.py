"""The worker: the act stage (`runner`), its schedule (`scheduler`), the jobs and the after-store hooks."""
