"""Audit evidence: the run document, the hash-chained ledger of runs."""
