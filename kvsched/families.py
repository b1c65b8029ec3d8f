"""Instance families on which SF (= MC-SF, shortest output first) is far from Sorted-F.

The seed talk's family (:func:`kvsched.generators.sf_lower_bound`: M requests with
``s = sqrt(M) - 1, o = 1`` and ``M^1.5`` with ``s = 1, o = 2``) gives SF / Sorted-F of only
about 1.1 - 1.3 for M = 100 - 1600 under SPEC section 1 (the type-2 requests' own
processing, ~2.5 M^2, dominates the M^2 delay SF causes them), so it does not show
the claimed ``Omega(sqrt(M))``.

:func:`sf_blockers` does. ``k = sqrt(M)`` *blockers* (``s = M - 1, o = 1``) each fill the
whole memory for one round; ``M`` *small* requests (``s = 1, o = 2``) fit ``M / 3`` at a
time. SF runs the blockers first (o = 1 < 2), one per round, so all M small requests wait
k rounds: ``TCT(SF) >= k M = M^1.5``. Sorted-F picks batches of small requests first
(``F = 6 / M`` against ``F = 1`` for a blocker) and finishes them in O(1) rounds on
average-weighted time, so ``TCT(Sorted-F) = O(M)``: the ratio grows like ``sqrt(M)``
(and ``k = sqrt(M)`` blockers maximise ``k M / (M + k^2)`` up to a constant).
"""

from __future__ import annotations

import math

from .instance import Instance


def sf_blockers(M: int, small: int | None = None, blockers: int | None = None) -> Instance:
    """``blockers`` (default ``sqrt(M)``) requests ``(s, o) = (M - 1, 1)`` listed first, then
    ``small`` (default M) requests ``(1, 2)``; all arrive at 0. M must be >= 4."""
    if M < 4:
        raise ValueError(f"M must be >= 4, got {M}")
    k = math.isqrt(M) if blockers is None else blockers
    m = M if small is None else small
    return Instance(M, (M - 1,) * k + (1,) * m, (1,) * k + (2,) * m, name=f"sf-blockers-M{M}")
