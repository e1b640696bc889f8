"""Claim checks over produced metrics. Reads metrics files only; never imports training code."""
