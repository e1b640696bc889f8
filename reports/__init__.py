"""The evidence-graded audit report: claims + metrics + verdicts → one self-contained HTML file."""
