"""Recorded outcomes of real models on real questions: the tidy table, its schema, splits,
the matrix view eval reads, and the data card.

    from fugu.outcomes import load_split
    test = load_split("artifacts/fetch/routing", "test")   # Outcomes: texts, categories, scores, costs
"""

from fugu.outcomes.build import PreparedOutcomes, prepare_outcomes
from fugu.outcomes.convert import ConversionError, InputFormat, convert_file, convert_frame
from fugu.outcomes.listing import ChecksumError, ListedFile, ListingError, read_listing
from fugu.outcomes.matrix import IncompleteOutcomesError, Outcomes, load_split, outcomes_from_table
from fugu.outcomes.splits import SPLITS, SplitError, assign_splits, check_disjoint, read_splits, split_ids
from fugu.outcomes.table import (
    COLUMNS,
    OutcomeTableError,
    empty_outcome_table,
    read_outcome_table,
    validate_outcome_table,
)

__all__ = [
    "COLUMNS", "SPLITS", "ChecksumError", "ConversionError", "IncompleteOutcomesError", "InputFormat",
    "ListedFile", "ListingError", "OutcomeTableError", "Outcomes", "PreparedOutcomes", "SplitError",
    "assign_splits", "check_disjoint", "convert_file", "convert_frame", "empty_outcome_table",
    "load_split", "outcomes_from_table", "prepare_outcomes", "read_listing", "read_outcome_table",
    "read_splits", "split_ids", "validate_outcome_table",
]
