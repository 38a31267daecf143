"""How strongly the factorisation-machine part of DeepFM links each pair of fields.

The FM second-order term adds ``<v_a, v_b>`` to the prediction for every pair of
categories ``a`` (of field A) and ``b`` (of field B) that occur in the same row. The
strength of the A x B link is therefore measured as the expected size of that term
over the training data:

    strength(A, B) = sum_a sum_b p_A(a) p_B(b) |<v_a, v_b>|

(times ``|r_AB|`` for a field-weighted FM, whose term is ``r_AB <v_a, v_b>``)

where ``p_A(a)`` is the share of training rows with category ``a`` (the ``count``
column). The tables only hold per-field counts, so the joint frequency of ``(a, b)``
is taken as the product of the two shares (fields treated as independent). It is
computed with one matrix product per pair of fields, never a loop over categories.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = lambda v: pd.DataFrame({"count": [1, 1], "emb_0": v})
>>> m = field_interactions({"a": t([1.0, -1.0]), "b": t([2.0, 2.0])})
>>> float(m.loc["a", "b"])
2.0
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pandas as pd

from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors

__all__ = ["field_interactions", "top_pairs", "heatmap_fields", "describe_top_pairs"]

_BLOCK = 2_000_000  # entries of the category x category product held at once (8 MB)


def field_interactions(
    tables: dict[str, pd.DataFrame],
    *,
    signed: bool = False,
    pair_weights: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Field x field matrix of FM interaction strengths.

    Parameters
    ----------
    tables : dict of str to pd.DataFrame
        Embedding table per categorical field, as from ``run.tables()``:
        ``count`` and ``emb_0 .. emb_{k-1}`` columns are used. A field whose counts
        are missing or all zero is weighted uniformly over its categories.
    signed : bool, default=False
        ``False``: frequency-weighted mean of ``|<v_a, v_b>|``, the size of the
        interaction whatever its direction (use this to rank pairs). ``True``: the
        frequency-weighted mean of ``<v_a, v_b>`` itself, i.e. the average push the
        pair gives the prediction; positive and negative combinations cancel out.
    pair_weights : pd.DataFrame, optional
        A field-weighted FM's weight per pair (``run.fm_pair_weights()``), labelled by
        field: each pair's term is ``r_AB <v_a, v_b>``, so its strength is scaled by
        ``r_AB`` (by ``|r_AB|`` unsigned). None: every pair weighs 1 (a plain FM).

    Returns
    -------
    pd.DataFrame
        Square, symmetric, indexed and labelled by field name in the order of
        ``tables``, diagonal NaN (a field does not interact with itself in an FM).

    Raises
    ------
    DataError
        If a table has no embedding columns, or the fields have different embedding
        sizes.
    """
    fields = list(tables)
    vecs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for field in fields:
        x = vectors(tables[field], dtype=np.float64, field=field)
        vecs.append(x)
        weights.append(_weights(tables[field]))
    dims = {v.shape[1] for v in vecs}
    if len(dims) > 1:
        raise DataError(
            "The embedding tables have different vector sizes "
            f"({', '.join(str(d) for d in sorted(dims))}); pass tables from one trained run."
        )

    m = len(fields)
    out = np.full((m, m), np.nan)
    if not signed:  # float32 halves memory traffic; sums stay accurate to ~1e-6 relative
        vecs = [v.astype(np.float32) for v in vecs]
    if signed:
        means = [
            w @ x if len(w) else np.zeros(x.shape[1]) for w, x in zip(weights, vecs, strict=True)
        ]
    with _single_threaded_blas():
        for i in range(m):
            for j in range(i + 1, m):
                if not len(vecs[i]) or not len(vecs[j]):
                    continue
                if signed:
                    value = float(means[i] @ means[j])
                else:
                    value = _mean_abs_product(vecs[i], weights[i], vecs[j], weights[j])
                if pair_weights is not None:
                    r = float(pair_weights.loc[fields[i], fields[j]])
                    value *= r if signed else abs(r)
                out[i, j] = out[j, i] = value
    return pd.DataFrame(out, index=pd.Index(fields), columns=pd.Index(fields))


def top_pairs(matrix: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """The pairs of fields ranked by interaction strength, strongest first.

    Parameters
    ----------
    matrix : pd.DataFrame
        Output of :func:`field_interactions`; absolute values are ranked, pairs without
        a value are left out.
    n : int, optional
        Keep the first ``n`` pairs; None keeps all.

    Returns
    -------
    pd.DataFrame
        ``field_a``, ``field_b`` (in the matrix's order), ``strength``, ``share`` (of the
        sum over all pairs; NaN when it is zero) and ``vs_typical`` (strength over the
        median pair's; NaN when that is zero). Ties keep the matrix's order.

    Examples
    --------
    >>> m = pd.DataFrame([[np.nan, 1, 3], [1, np.nan, 2], [3, 2, np.nan]], index=list("abc"),
    ...                  columns=list("abc"))
    >>> top_pairs(m, 1)[["field_a", "field_b", "share", "vs_typical"]].to_dict("records")
    [{'field_a': 'a', 'field_b': 'c', 'share': 0.5, 'vs_typical': 1.5}]
    """
    fields = [str(f) for f in matrix.index]
    values = np.abs(matrix.to_numpy(dtype=np.float64))
    iu, ju = np.triu_indices(len(fields), k=1)
    strength = values[iu, ju]
    ok = np.isfinite(strength)
    iu, ju, strength = iu[ok], ju[ok], strength[ok]
    total = float(strength.sum())
    typical = float(np.median(strength)) if len(strength) else 0.0
    order = np.lexsort((ju, iu, -strength))[:n]
    return pd.DataFrame(
        {
            "field_a": [fields[i] for i in iu[order]],
            "field_b": [fields[j] for j in ju[order]],
            "strength": strength[order],
            "share": strength[order] / total if total > 0 else np.nan,
            "vs_typical": strength[order] / typical if typical > 0 else np.nan,
        }
    )


def heatmap_fields(matrix: pd.DataFrame, n: int) -> list[str]:
    """At most ``n`` fields to draw in a field x field map, in the matrix's order: all of
    them if they fit, else those in the strongest pairs (``top_pairs``) until ``n``."""
    fields = [str(f) for f in matrix.index]
    if len(fields) <= n:
        return fields
    chosen: set[str] = set()
    for a, b in top_pairs(matrix)[["field_a", "field_b"]].itertuples(index=False):
        for f in (a, b):
            if len(chosen) < n:
                chosen.add(f)
        if len(chosen) >= n:
            break
    return [f for f in fields if f in chosen]


def describe_top_pairs(matrix: pd.DataFrame, n: int = 3) -> list[str]:
    """Plain-language sentences about the most strongly interacting pairs of fields.

    Written for a business audience: no formulas, strengths given relative to a
    typical pair of fields and as a share of all interaction. Field names are put in
    Markdown code spans (backticks inside names are replaced by quotes), so the
    sentences can be shown with ``st.markdown`` safely.

    Parameters
    ----------
    matrix : pd.DataFrame
        Output of :func:`field_interactions` (pairs are ranked by absolute value).
    n : int, default=3
        Number of pairs to describe.

    Returns
    -------
    list of str
        One sentence per pair, strongest first; a single explanatory sentence when
        there is no pair to rank.

    Examples
    --------
    >>> m = pd.DataFrame([[np.nan, 2.0], [2.0, np.nan]], index=["a", "b"], columns=["a", "b"])
    >>> describe_top_pairs(m)[0].startswith("`a` and `b` are the only pair")
    True
    """
    pairs = top_pairs(matrix)
    if pairs.empty:
        return ["There is only one categorical field, so there are no pairs of fields to compare."]
    if not pairs["strength"].sum() > 0:
        return ["None of the fields interact: the model combines them purely additively."]
    if len(pairs) == 1:
        a, b = _code(pairs["field_a"][0]), _code(pairs["field_b"][0])
        return [
            f"{a} and {b} are the only pair of fields, so there is nothing to rank them "
            f"against; their interaction strength is {pairs['strength'][0]:.3g}."
        ]

    sentences = []
    for rank, pair in enumerate(pairs.head(max(n, 0)).itertuples()):
        a, b = _code(pair.field_a), _code(pair.field_b)
        ratio = (
            f"{pair.vs_typical:.1f} times a typical pair" if np.isfinite(pair.vs_typical) else ""
        )
        pct = f"{pair.share:.0%}" if pair.share >= 0.1 else f"{pair.share:.1%}"
        detail = ", ".join(s for s in (ratio, f"{pct} of all interaction") if s)
        if rank == 0:
            sentences.append(
                f"{a} and {b} interact most strongly ({detail}): the model's prediction "
                f"depends on which values of these two fields occur together, not just on "
                f"each one alone."
            )
        elif rank == 1:
            sentences.append(f"Next come {a} and {b} ({detail}).")
        else:
            sentences.append(f"Then {a} and {b} ({detail}).")
    return sentences


# --------------------------------------------------------------------------- helpers


def _single_threaded_blas() -> AbstractContextManager[object]:
    """Many small (n x k) @ (k x n) products run fastest on one BLAS thread: with the
    default threads, on 2 busy cores, 36 fields of 800 categories took 8-14 s instead
    of 0.5 s (threads spin waiting for each other)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _mean_abs_product(a: np.ndarray, wa: np.ndarray, b: np.ndarray, wb: np.ndarray) -> float:
    """``wa @ |a @ b.T| @ wb`` in row blocks of ``a``, so memory stays bounded."""
    step = max(1, _BLOCK // max(len(b), 1))
    total = 0.0
    wa32, wb32 = wa.astype(np.float32), wb.astype(np.float32)
    for start in range(0, len(a), step):
        block = a[start : start + step] @ b.T
        np.abs(block, out=block)
        total += float((wa32[start : start + step] @ block) @ wb32)
    return total


def _code(name: str) -> str:
    return "`" + name.replace("`", "'").replace("\n", " ") + "`"


def _weights(table: pd.DataFrame) -> np.ndarray:
    """Share of training rows per category; uniform when counts are unusable."""
    n = len(table)
    if n == 0:
        return np.zeros(0)
    if "count" in table.columns:
        c = pd.to_numeric(table["count"], errors="coerce").fillna(0).to_numpy(np.float64)
        c = np.clip(c, 0.0, None)
        if c.sum() > 0:
            return c / c.sum()
    return np.full(n, 1.0 / n)
