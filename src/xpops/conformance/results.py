"""What checking one (op, backend) cell gives: a :class:`Status`, counts and failures.

Kept free of array libraries and hypothesis, so the process that runs the matrix, the
reports and the pytest plugin read results without importing what the checks need.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["Status", "Failure", "OpResult"]


class Status(enum.StrEnum):
    """How a cell ended. The values are the words the reports and JSON files use."""

    PASS = "pass"
    FAIL = "fail"
    NOT_INSTALLED = "not installed"  # the backend, or the native's library, is absent
    NOT_PROVIDED = "not provided"  # an ``--impl`` module defines no function for the op
    # the op does not run on this backend by design: it cannot stay lazy on Dask
    # (capabilities.lazy=False) and raises NotImplementedError there
    NOT_ON_BACKEND = "not supported"
    # the implementation under test offers none of the options the cases used: every
    # case raised Unsupported (a native counterpart's adapter said so)
    OPTIONS_UNSUPPORTED = "unsupported"
    ERROR = "error"  # the cell could not finish: its worker crashed or ran out of time
    NOT_RUN = "not run"  # the run was interrupted before the cell

    @property
    def checked(self) -> bool:
        """Whether the cell's checks ran to a verdict (its counts mean something)."""
        return self in (Status.PASS, Status.FAIL)


@dataclass
class Failure:
    check: str  # "values", "dtype", "invalid", "property: ...", "jit", "grad", "error", ...
    dtype: str
    message: str
    reproducer: str = ""


@dataclass
class OpResult:
    op: str
    backend: str
    status: Status  # a plain string of a Status value is accepted and converted
    cases: int = 0
    max_abs_err: float = 0.0
    worst_tolerance_ratio: float = 0.0  # max |got - want| / (atol + rtol |want|); <= 1 passes
    checks: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""  # why the cell is not installed, not on the backend, an error...
    impl: str = "xpops"  # whose code ran: xpops, or a native counterpart's name
    # cases skipped because the implementation raised Unsupported: reason -> count
    unsupported: dict[str, int] = field(default_factory=dict)
    executables: int = 0  # programs JAX compiled for this cell, freed after it
    seconds: float = 0.0  # wall time of the cell's checks
    # the dtypes each array parameter was checked in ("uint8", "float16", ...), and how
    # often each other form ran ("target as NumPy", "x strided", ...)
    inputs: dict[str, list[str]] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # a misspelt status fails here, not in a report
