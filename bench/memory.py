"""Peak-memory probing for the sync benchmark: tracemalloc samples per stored page and the flatness verdict.

``MemoryProbe`` is started right before ``sync_connection`` and fed from its ``progress`` callback: after each
stored page it records the memory still held (``current``) and the peak since the previous page, then resets
the peak, so the figures say *which* page was the most expensive, not only how expensive the run was.
``verdicts`` compares the runs of one provider across N (see ``bench/README.md`` for how to read them).
"""

from __future__ import annotations

import statistics
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

FLAT_RATIO = 1.25  # peak(N_max) / peak(N_min) above this is reported as growth


@dataclass
class MemoryProbe:
    baseline: int = 0
    samples: list[tuple[str, int, int]] = field(default_factory=list)  # (stream, held, peak since last page)
    end_held: int = 0
    last_peak: int = 0

    def start(self) -> None:
        tracemalloc.start()
        self.baseline = tracemalloc.get_traced_memory()[0]

    def page_stored(self, stream: str) -> None:
        held, peak = tracemalloc.get_traced_memory()
        self.samples.append((stream, held - self.baseline, peak - self.baseline))
        tracemalloc.reset_peak()

    def stop(self) -> None:
        held, peak = tracemalloc.get_traced_memory()
        self.end_held, self.last_peak = held - self.baseline, peak - self.baseline
        tracemalloc.stop()

    def summary(self) -> dict[str, Any]:
        pages = [s for s in self.samples if s[0] == "invoices"]
        peaks = [p for _, _, p in pages]
        half = len(peaks) // 2
        in_run = statistics.median(peaks[half:]) - statistics.median(peaks[:half]) if half >= 2 else 0
        return {
            "peak_bytes": max([self.last_peak, *(p for _, _, p in self.samples)]),
            "retained_max_bytes": max((h for _, h, _ in self.samples), default=0),
            # what the largest invoice page keeps alive: held while it is stored minus held after the sync
            "page_held_bytes": max(h for _, h, _ in pages) - self.end_held if pages else 0,
            "end_held_bytes": self.end_held,
            "in_run_growth_bytes": int(in_run),
            "invoice_page_peaks": peaks,
        }


def verdicts(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per provider, smallest N against largest N: does memory grow beyond one page of records?

    ``flat`` (= ``within_one_page``): the peak grew by no more than what the largest invoice page keeps alive at
    the smallest N. ``ratio_over_threshold`` flags a peak ratio above ``FLAT_RATIO``. Diagnostics: ``in_run_growth
    _bytes`` (largest run: median page peak of the second half of the invoice pages minus the first half; it moves
    with page content too) and ``end_held_growth_bytes`` (memory still held after the sync, largest N minus
    smallest N: anything cached per invoice would show here). Two sizes cannot tell a one-page step from a slope;
    bench/README.md gives the mid-size runs that do.
    """
    result: dict[str, dict[str, Any]] = {}
    for provider in dict.fromkeys(e["provider"] for e in entries):
        runs = sorted((e for e in entries if e["provider"] == provider), key=lambda e: e["n"])
        if len(runs) < 2:
            continue
        low, high = runs[0], runs[-1]
        growth = high["peak_bytes"] - low["peak_bytes"]
        page = low["page_held_bytes"]
        in_run = high["in_run_growth_bytes"]
        within = growth <= page
        result[provider] = {
            "n_low": low["n"],
            "n_high": high["n"],
            "peak_low_bytes": low["peak_bytes"],
            "peak_high_bytes": high["peak_bytes"],
            "peak_ratio": round(high["peak_bytes"] / low["peak_bytes"], 2) if low["peak_bytes"] else None,
            "ratio_over_threshold": bool(low["peak_bytes"]) and high["peak_bytes"] / low["peak_bytes"] > FLAT_RATIO,
            "growth_bytes": growth,
            "growth_bytes_per_extra_invoice": round(growth / (high["n"] - low["n"]), 1),
            "one_page_held_bytes": page,
            "within_one_page": within,
            "in_run_growth_bytes": in_run,
            "end_held_growth_bytes": high["end_held_bytes"] - low["end_held_bytes"],
            "flat": within,
        }
    return result
