"""A seeded sample corpus with ground truth, and the processor configs that fit it.

>>> from extend_frames.emulator.samples import generate_samples, INVOICE_EXTRACTOR_CONFIG
>>> samples = generate_samples("corpus/", count=50, seed=1)  # doctest: +SKIP

Needs the ``emulator`` extra (fpdf2 writes the PDFs; pyarrow writes the ground truth).
"""

from __future__ import annotations

from ._samples._configs import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
    classifier_config,
    invoice_extractor_config,
    splitter_config,
)
from ._samples._corpus import BROKEN_PASSWORD, SampleDocument, SampleSet, generate_samples

__all__ = [
    "BROKEN_PASSWORD",
    "CLASSIFIER_CONFIG",
    "INVOICE_EXTRACTOR_CONFIG",
    "SPLITTER_CONFIG",
    "SampleDocument",
    "SampleSet",
    "classifier_config",
    "generate_samples",
    "invoice_extractor_config",
    "splitter_config",
]
