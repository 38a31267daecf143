"""A one-file HTML report of a run, for people who will not install anything.

``build_report(run)`` gives a self-contained HTML page (inline CSS and SVG, no script,
no external fonts, images or links: it opens from an e-mail attachment with no
network): a warning first when the model barely beats guessing or is too good to
trust (``analysis.signal``, as on the Train page), the run's metrics, a PCA map of
every field's most frequent categories, the nearest neighbours of the most frequent
categories, the strongest pairs of interacting fields (DeepFM runs) and the lift
results when given. Every name from the data is escaped. Nothing is wider than the
page: it reads at 1280 px and printed to A4.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core import formatting as fmt
from embedding_core.model.metrics import HIGHER_IS_BETTER, metric_help, metric_label
from embedding_core.text import capitalised

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = [
    "build_report",
    "about_run",
    "MAP_POINTS",
    "NEIGHBOUR_SOURCES",
    "NEIGHBOURS",
    "TOP_PAIRS",
]

#: Most frequent categories drawn per field map.
MAP_POINTS = 300
#: Categories per field whose neighbours are listed, and neighbours listed for each.
NEIGHBOUR_SOURCES = 5
NEIGHBOURS = 5
#: Pairs of fields listed in the interaction section, strongest first.
TOP_PAIRS = 10
_LABELLED = 12
_W, _H, _PAD = 520, 360, 24

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1080px;color:#1f2933;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #d9e2ec;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;max-width:100%}td,th{border:1px solid #d9e2ec;
padding:3px 8px;text-align:left;font-size:.9em;overflow-wrap:break-word}th{background:#f0f4f8}
.num{text-align:right;white-space:nowrap}
.note{color:#52606d;font-size:.9em}
.warning{border:2px solid #d9822b;border-left-width:8px;background:#fff8ec;padding:.6em 1em;
margin:1em 0;font-size:1.05em}.warning strong{color:#a84b00}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.maps{display:flex;flex-wrap:wrap;gap:0 1em}.field{width:522px;max-width:100%}
svg{background:#fbfcfe;border:1px solid #d9e2ec;max-width:100%;height:auto}
.barcell{width:8em}.bar{display:block;height:.8em;background:#5a67d8}
@page{size:A4;margin:15mm 12mm}
@media print{body{margin:0;max-width:none;padding:0}.field,tr,.warning{break-inside:avoid}
h2,h3{break-after:avoid}}
"""


def build_report(
    run: TrainedRun,
    *,
    lift: dict[str, Any] | None = None,
    title: str | None = None,
    about: str | None = None,
) -> str:
    """The HTML report of ``run`` as one string.

    Parameters
    ----------
    run : TrainedRun
        Only its tables, metrics, roles and config are read (no model needed).
    lift : dict, optional
        A lift result in the JSON contract (``LiftResult.to_json_dict()`` or the
        ``lift`` command's file), shown when given.
    title : str, optional
        Heading; default "Category embeddings: <target>".
    about : str, optional
        A line under the heading saying which run this is (its name, data, date); the
        date the report was written follows it.

    Returns
    -------
    str
        A complete HTML document.
    """
    tables = {f: run.embeddings(f) for f in run.fields}
    heading = title or f"Category embeddings: {run.roles.target}"
    measure = _measure(run)
    colour = "Colour: blue low, red high. " if measure else ""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
        f"<p class='note'>{_e(about + '. ' if about else '')}"
        f"Report written {date.today().isoformat()}.</p>",
        _cautions(run),
        _summary(run, tables),
        "<h2>Maps of the categories</h2>",
        "<p class='note'>Each field's vectors projected to two dimensions by PCA (the "
        f"{MAP_POINTS} most frequent categories); nearby points are categories the model "
        f"treats alike; the axes have no unit. A bigger point: more rows. {colour}In a browser, "
        "hover a point for its name and figures.</p>",
        "<div class='maps'>",
        *[_field_map(field, table, measure) for field, table in tables.items()],
        "</div>",
        "<h2>Nearest neighbours</h2>",
        f"<p class='note'>For the {NEIGHBOUR_SOURCES} most frequent categories of each field, "
        f"the {NEIGHBOURS} closest by cosine similarity, in brackets: 1 = the model treats them "
        "the same, 0 = unrelated, below 0 = opposite. Categories seen in fewer than 30 rows "
        "are marked unreliable.</p>",
        *[_neighbours(field, table) for field, table in tables.items()],
        "<h2>Field interactions</h2>",
        _interactions(run, tables),
    ]
    if lift:
        parts += ["<h2>Lift: do the embeddings help plain models?</h2>", _lift(lift)]
    parts.append("</body></html>")
    return "\n".join(parts)


def about_run(name: str, dataset: str, created: float) -> str:
    """Which run a report shows, for its reader (``build_report``'s ``about``).

    Examples
    --------
    >>> about_run("Q3", "claims.csv", 0)
    "Run 'Q3' trained on claims.csv"
    """
    when = datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M") if created else ""
    said = [f"Run '{name}'" if name else "A run"]
    said += [f"trained on {dataset}" if dataset else "trained", f"on {when}" if when else ""]
    return " ".join(s for s in said if s)


# --------------------------------------------------------------------------- sections


def _cautions(run: TrainedRun) -> str:
    """The Train page's warning when the model learned too little, or suspiciously much,
    for its vectors to mean something; then the notes on the data made in training."""
    from embedding_core.analysis.signal import too_good, weak_signal

    parts = []
    warning = weak_signal(run.metrics, run.task) or too_good(run.metrics, run.task)
    if warning:
        parts.append(
            "<div class='warning' role='note'><strong>Read with care.</strong> "
            f"{_code_spans(warning)}</div>"
        )
    if run.warnings:
        notes = "".join(f"<li>{_e(w)}</li>" for w in run.warnings)
        parts.append(f"<p class='note'>Notes from training:</p><ul class='note'>{notes}</ul>")
    return "".join(parts)


def _summary(run: TrainedRun, tables: dict[str, pd.DataFrame]) -> str:
    m = run.metrics
    model = "entity-embedding network" if run.config.model == "entity" else "DeepFM"
    rows = [
        ("task", f"{run.task} (target {run.roles.target})"),
        ("model", model),
        ("rows", f"{m.get('n_train', 0) + m.get('n_valid', 0):,}"),
        ("numeric inputs", ", ".join(run.roles.numeric) or "none"),
    ]
    if m.get("init_embeddings"):
        frozen = "frozen" if m.get("frozen_fields") else "fine-tuned"
        rows.append(("started from", f"{m['init_embeddings']} ({frozen})"))
    names = [k.removeprefix("valid_") for k in m if k.startswith("valid_")]
    figures = [
        (
            capitalised(metric_label(n)),
            fmt.metric(n, m[f"valid_{n}"]),
            fmt.metric(n, m.get(f"baseline_{n}")),
            "higher" if HIGHER_IS_BETTER.get(n, True) else "lower",
        )
        for n in names
    ]
    meanings = "".join(f"<li>{_e(metric_help(n))}</li>" for n in names if metric_help(n))
    fields = [
        (f, len(t) - int(t["is_unknown"].sum() + t["is_missing"].sum()), _width(t))
        for f, t in tables.items()
    ]
    facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return (
        f"<table>{facts}</table>"
        + "<h2>Validation figures</h2>"
        + "<p class='note'>Measured on rows held out from training; the trivial baseline "
        "ignores every input (it predicts the training share or mean).</p>"
        + _table(["measure", "model", "trivial baseline", "better when"], figures)
        + (f"<ul class='note'>{meanings}</ul>" if meanings else "")
        + "<h2>Fields</h2>"
        + _table(["field", "categories", "vector size (numbers)"], fields)
    )


def _measure(run: TrainedRun) -> tuple[str, Callable[[float], str]] | None:
    """What a category's ``target_mean`` is, in words, and how to show it; None when it
    has none (multiclass)."""
    if run.task == "binary":
        return f"share of rows with {run.roles.target} = {run.positive_label}", fmt.percent
    if run.task == "regression":
        return f"mean {run.roles.target}", fmt.number
    return None


def _field_map(
    field: str, table: pd.DataFrame, measure: tuple[str, Callable[[float], str]] | None
) -> str:
    from embedding_core.analysis.neighbours import RELIABLE_MIN_COUNT
    from embedding_core.analysis.projection import project
    from embedding_core.model.embeddings import vectors

    top = table.sort_values("count", ascending=False, kind="mergesort").head(MAP_POINTS)
    xy = project(vectors(top), "pca", 2) if len(top) > 1 else np.zeros((len(top), 2))
    span = np.ptp(xy, axis=0)
    span[span == 0] = 1.0
    unit = (xy - xy.min(axis=0)) / span
    px = _PAD + unit[:, 0] * (_W - 2 * _PAD)
    py = _H - _PAD - unit[:, 1] * (_H - 2 * _PAD)
    rate = pd.to_numeric(top["target_mean"], errors="coerce").to_numpy(dtype=float)
    counts = top["count"].to_numpy(dtype=float)
    steady = np.isfinite(rate) & (counts >= RELIABLE_MIN_COUNT)  # a 1-row category: 0 or 100%
    scale = rate[steady] if steady.any() else rate[np.isfinite(rate)]
    lo, hi = (float(scale.min()), float(scale.max())) if len(scale) else (0.0, 1.0)
    radius = 2.5 + 5.5 * np.sqrt(counts / max(float(counts.max()), 1.0))
    shapes = []
    names = [fmt.category(c) for c in top["category"]]  # reserved rows in words
    for i, (name, count) in enumerate(zip(names, counts, strict=True)):
        colour = _colour((rate[i] - lo) / (hi - lo) if hi > lo and math.isfinite(rate[i]) else -1)
        tip = f"{name}: {int(count):,} row{'' if count == 1 else 's'}"
        if measure and math.isfinite(rate[i]):
            tip += f", {measure[0]} {measure[1](rate[i])}"
        shapes.append(
            f"<circle cx='{px[i]:.1f}' cy='{py[i]:.1f}' r='{radius[i]:.1f}' fill='{colour}' "
            f"fill-opacity='0.75'><title>{_e(tip)}</title></circle>"
        )
        if i < _LABELLED:  # right of the point, or left of it in the right half
            left = px[i] > _W / 2
            x = px[i] - radius[i] - 2 if left else px[i] + radius[i] + 2
            anchor = " text-anchor='end'" if left else ""
            shapes.append(
                f"<text x='{x:.1f}' y='{py[i] + 3:.1f}' font-size='10'{anchor}>"
                f"{_e(_short(name))}</text>"
            )
    among = f" among categories of {RELIABLE_MIN_COUNT}+ rows" if steady.any() else ""
    key = (
        f"<p class='note'>{_e(capitalised(measure[0]))}: {_e(measure[1](lo))} (blue) to "
        f"{_e(measure[1](hi))} (red){among}.</p>"
        if measure and hi > lo
        else ""
    )
    return (
        f"<div class='field'><h3>{_e(field)}</h3>{key}"
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_W}' height='{_H}' "
        f"viewBox='0 0 {_W} {_H}' role='img'>{''.join(shapes)}</svg></div>"
    )


def _neighbours(field: str, table: pd.DataFrame) -> str:
    from embedding_core.analysis.neighbours import nearest_neighbours

    real = table[~(table["is_unknown"] | table["is_missing"])]
    sources = real.sort_values("count", ascending=False, kind="mergesort").head(NEIGHBOUR_SOURCES)
    rows = []
    for name in sources["category"].astype(str):
        near = nearest_neighbours(table, name, k=NEIGHBOURS, include_reserved=False, field=field)
        listed = ", ".join(
            f"{fmt.category(n)} ({s + 0.0:.2f})".replace("(-0.00)", "(0.00)")
            + ("" if ok else " [unreliable]")
            for n, s, ok in zip(near["category"], near["similarity"], near["reliable"], strict=True)
        )
        rows.append((fmt.category(name), listed))
    if not rows:
        return f"<h3>{_e(field)}</h3><p class='note'>No categories to compare.</p>"
    return f"<h3>{_e(field)}</h3>" + _table(["category", "closest (cosine)"], rows)


def _interactions(run: TrainedRun, tables: dict[str, pd.DataFrame]) -> str:
    if run.config.model == "entity":
        return (
            "<p>This run is an entity-embedding network: it has no FM term, so there are no "
            "pairwise field interactions to show (its fields meet only inside the MLP).</p>"
        )
    if len(tables) < 2:
        return "<p>Only one categorical field: no pairs to compare.</p>"
    from embedding_core.analysis.interactions import (
        describe_top_pairs,
        field_interactions,
        top_pairs,
    )

    matrix = field_interactions(tables, pair_weights=run.fm_pair_weights())
    reading = describe_top_pairs(matrix, n=1)[0]
    return f"<p>{_code_spans(reading)}</p>{_pair_table(top_pairs(matrix))}"


def _pair_table(pairs: pd.DataFrame) -> str:
    """The ``TOP_PAIRS`` strongest pairs of fields, one a row with a bar (never a field x
    field grid, which outgrows the page past a few fields); "" when none interact."""
    shown = pairs.head(TOP_PAIRS)
    strongest = float(shown["strength"].max()) if len(shown) else 0.0
    if not strongest > 0:
        return ""
    rows = "".join(
        f"<tr><td>{_e(p.field_a)}</td><td>{_e(p.field_b)}</td>"
        f"<td class='num'>{_times(p.vs_typical)}</td><td class='num'>{_share(p.share)}</td>"
        f"<td class='barcell'><span class='bar' style='width:{100 * p.strength / strongest:.0f}%'>"
        "</span></td></tr>"
        for p in shown.itertuples()
    )
    which = "Every pair"
    if len(pairs) > len(shown):
        which = f"The {len(shown)} strongest of {len(pairs)} pairs"
    return (
        f"<p class='note'>{which}. Strength: how much the two fields' combination moves a "
        "prediction, as a multiple of the median pair's (1.0\u00d7 = typical); share: of the "
        "total over all pairs. (Technically: the frequency-weighted mean |&lt;v_a, v_b&gt;| "
        "of the FM term.)</p><table><tr><th>field</th><th>with field</th><th>strength</th>"
        f"<th>share</th><th></th></tr>{rows}</table>"
    )


def _lift(lift: dict[str, Any]) -> str:
    from embedding_core.analysis.lift import ENCODING_LABELS, model_label

    metric = metric_label(str(lift.get("metric", ""))) or "score"
    task = lift.get("task")

    def model(name: Any) -> str:
        return model_label(str(name), task)

    def encoding(name: Any) -> str:
        return ENCODING_LABELS.get(str(name), str(name))

    results = [
        (model(r.get("model")), encoding(r.get("encoding")), _num(r.get("mean"), 4),
         _num(r.get("std"), 4))
        for r in lift.get("results", [])
    ]  # fmt: skip
    lifts = [
        (model(r.get("model")), encoding(r.get("best_baseline")), _num(r.get("lift"), 4, "+"),
         _num(r.get("std"), 4))
        for r in lift.get("lift", [])
    ]  # fmt: skip
    verdicts = "".join(f"<li>{_e(str(v))}</li>" for v in lift.get("verdicts", []))
    folds = lift.get("folds")
    mode = f"{folds}-fold cross-validation" if folds else "one holdout split"
    return (
        f"<p class='note'>Measured by {_e(metric)} on {_e(mode)}. Lift = the embeddings' "
        "score minus the best other encoding's, for the same model (positive: the "
        "embeddings do better); +- is one standard deviation.</p>"
        + _table(["model", "best other encoding", f"lift ({metric})", "+-"], lifts)
        + (f"<ul>{verdicts}</ul>" if verdicts else "")
        + _table(["model", "encoding", metric, "+-"], results)
    )


# --------------------------------------------------------------------------- helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(header: list[str], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{_e(c)}</td>" if isinstance(c, int | float) else f"<td>{_e(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _num(value: Any, decimals: int | None = None, sign: str = "") -> str:
    """A figure for people: thousands separators for counts; ``decimals`` fixed places
    (``sign="+"``: always signed) else 4 significant digits; "n/a" when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:{sign}.{decimals}f}" if decimals is not None else f"{value:.4g}"
    return str(value)


def _times(ratio: float) -> str:
    """A ratio to a typical value: ``3.0x``; "n/a" when missing."""
    return f"{ratio:.1f}\u00d7" if math.isfinite(ratio) else "n/a"


def _share(share: float) -> str:
    """A share as in ``describe_top_pairs``: ``12%``, under 10% ``1.3%``."""
    return fmt.percent(share, 0 if share >= 0.1 else 1)


def _code_spans(sentence: str) -> str:
    """A sentence with Markdown code spans (field names in backticks) as escaped HTML,
    the names in <code>."""
    parts = sentence.split("`")
    return "".join(f"<code>{_e(p)}</code>" if i % 2 else _e(p) for i, p in enumerate(parts))


def _width(table: pd.DataFrame) -> int:
    from embedding_core.model.embeddings import embedding_columns

    return len(embedding_columns(table))


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "..."


def _colour(t: float) -> str:
    """Blue (0) to red (1); grey when there is no target rate (t < 0)."""
    if t < 0:
        return "#7b8794"
    t = min(1.0, max(0.0, t))
    r, g, b = int(40 + 200 * t), int(90 + 40 * (1 - abs(2 * t - 1))), int(220 - 180 * t)
    return f"#{r:02x}{g:02x}{b:02x}"
