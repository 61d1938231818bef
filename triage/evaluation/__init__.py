"""Measuring triage against labelled mail: metrics from (gold, predicted) pairs, and the runner."""
