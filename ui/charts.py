"""Plotly figures for the pages. Pure functions: data in, figure out.

Category and column names are user data: every label, title and hover text goes
through ``ui.literal.chart_text`` so plotly's small HTML subset never interprets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from embedding_core import formatting as fmt
from ui.literal import chart_text

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.analysis.lift import LiftResult

__all__ = [
    "COLOUR_OPTIONS",
    "STABILITY_ORDER",
    "MAX_LABELS",
    "dim_colour",
    "count_ticks",
    "scatter_figure",
    "neighbours_figure",
    "interactions_figure",
    "marker_sizes",
    "history_frame",
    "history_figure",
    "movement_figure",
    "prediction_text",
    "shown_move",
    "sweep_figure",
    "lift_figure",
]

COLOUR_OPTIONS = ("target rate", "count", "cluster")
#: Stability badges (``embedding_core.analysis.stability``) and a last level for
#: categories that not every seed learned; colours of the badges in the same order (the
#: last level's is ``dim_colour``, which follows the theme).
STABILITY_ORDER = ("stable", "unstable", "too rare", "not in every seed")
STABILITY_COLOURS = ("#2ca02c", "#ff7f0e", "#9e9e9e")
MAX_LABELS = 25  # the most frequent categories carry their name on the map
#: The map's scales at night: RdYlBu and Viridis start at a navy or purple that all but
#: vanishes on a dark page, so there they start at a mid blue (same hues above).
RATE_SCALE_DARK = [[0.0, "#4575b4"], [0.25, "#91bfdb"], [0.5, "#ffffbf"], [0.75, "#fc8d59"],
                   [1.0, "#d73027"]]  # fmt: skip
COUNT_SCALE_DARK = [[0.0, "#31688e"], [0.35, "#21918c"], [0.7, "#5ec962"], [1.0, "#fde725"]]


def dim_colour(dark: bool) -> str:
    """The pale grey of what counts least (a neighbour pointing the other way, a category
    barely seen or not in every seed): light on a light page, dark on a dark one, where
    a light grey would be the brightest thing on the chart."""
    return "#4a4a4a" if dark else "#d9d9d9"


def count_ticks(counts: np.ndarray) -> dict[str, list]:
    """Colour-bar ticks for a colour of ``log10(count + 1)``, labelled in counts: 1, 10,
    100... (also 2 and 5 of each decade when the counts span less than three)."""
    lo, hi = np.log10(float(np.min(counts)) + 1.0), np.log10(float(np.max(counts)) + 1.0)
    top = max(int(np.ceil(hi)), 1)
    candidates = [m * 10**e for e in range(top + 1) for m in (1, 2, 5)]
    inside = [v for v in candidates if lo - 1e-9 <= np.log10(v + 1.0) <= hi + 1e-9]
    if len(inside) > 7:
        inside = [v for v in inside if str(v).startswith("1")]
    return {
        "tickvals": [float(np.log10(v + 1.0)) for v in inside],
        "ticktext": [f"{v:,}" for v in inside],
    }


def _safe(values: Sequence[object]) -> list[str]:
    return [chart_text(v) for v in values]


def marker_sizes(counts: np.ndarray, *, smallest: float, largest: float) -> np.ndarray:
    """Marker sizes growing with the square root of the count."""
    root = np.sqrt(np.maximum(np.asarray(counts, dtype=float), 0.0))
    top = root.max() if root.size else 0.0
    if top <= 0:
        return np.full(root.shape, smallest)
    return smallest + (largest - smallest) * root / top


def _discrete_scale(n: int) -> list[list[object]]:
    colours = px.colors.qualitative.Plotly
    scale: list[list[object]] = []
    for i in range(n):
        colour = colours[i % len(colours)]
        scale.append([i / n, colour])
        scale.append([(i + 1) / n, colour])
    return scale


def scatter_figure(
    coords: np.ndarray,
    points: pd.DataFrame,
    *,
    colour_by: str,
    target_label: str,
    clusters: np.ndarray | None = None,
    search: str = "",
    title: str = "",
    stability: Sequence[str] | None = None,
    dark: bool = False,
    target_is_share: bool = False,
) -> go.Figure:
    """A 2D or 3D scatter of category vectors.

    Parameters
    ----------
    coords : ndarray of shape (n, 2) or (n, 3)
    points : DataFrame
        One row per point with ``category``, ``count`` and ``target_mean``.
    colour_by : {"target rate", "count", "cluster"}
    target_label : str
        How the target mean reads ("positive rate", "mean target").
    clusters : ndarray of int, optional
        Cluster label per point (used when ``colour_by == "cluster"``).
    search : str
        Case-insensitive substring: matching points are ringed, the rest dimmed.
    dark : bool
        The app shows the dark theme (the search ring is drawn light then). Text
        takes its colour from the theme.
    target_is_share : bool
        The target mean is a share (binary, or one class of several): shown as a percentage.
    stability : sequence of str, optional
        Badge per point (``STABILITY_ORDER``), used when ``colour_by == "stability"``.

    The ``MAX_LABELS`` most frequent categories are labelled unless a search is active.

    The first trace always holds every point (tests count ``data[0].x``); matches of a
    search are drawn again as a ring overlay in a second trace.
    """
    n, dims = coords.shape
    is_3d = dims == 3
    categories = np.array([fmt.category(c) for c in points["category"]], dtype=object)
    counts = points["count"].to_numpy()
    target = points["target_mean"].to_numpy(dtype=float)
    safe_names = _safe(categories)
    show = fmt.percent if target_is_share else fmt.number
    target_text = [show(t) for t in target]
    customdata = np.column_stack([safe_names, counts, target_text])
    hover = (
        "<b>%{customdata[0]}</b><br>count: %{customdata[1]}<br>"
        + chart_text(target_label)
        + ": %{customdata[2]}<extra></extra>"
    )

    marker: dict[str, object] = {
        "size": marker_sizes(counts, smallest=3 if is_3d else 6, largest=16 if is_3d else 30),
        "line": {"width": 0.5, "color": "rgba(128,128,128,0.6)"},  # reads on both themes
        "sizemode": "diameter",
    }
    if colour_by == "cluster" and clusters is not None:
        k = int(clusters.max()) + 1 if clusters.size else 1
        marker.update(
            color=clusters,
            colorscale=_discrete_scale(k),
            cmin=-0.5,
            cmax=k - 0.5,
            colorbar={"title": "cluster", "tickvals": list(range(k))},
        )
    elif colour_by == "stability" and stability is not None:
        codes = [STABILITY_ORDER.index(b) if b in STABILITY_ORDER else 3 for b in stability]
        n_levels = len(STABILITY_ORDER)
        scale = [
            [edge, colour]
            for i, colour in enumerate((*STABILITY_COLOURS, dim_colour(dark)))
            for edge in (i / n_levels, (i + 1) / n_levels)
        ]
        marker.update(
            color=codes,
            colorscale=scale,
            cmin=-0.5,
            cmax=n_levels - 0.5,
            colorbar={
                "title": "stability",
                "tickvals": list(range(n_levels)),
                "ticktext": list(STABILITY_ORDER),
            },
        )
    elif colour_by == "target rate" and not np.all(np.isnan(target)):
        marker.update(
            color=target,
            colorscale=RATE_SCALE_DARK if dark else "RdYlBu_r",
            colorbar={"title": chart_text(target_label)},
        )
    else:
        marker.update(
            color=np.log10(counts + 1.0),
            colorscale=COUNT_SCALE_DARK if dark else "Viridis",
            colorbar={"title": "count", **count_ticks(counts)},
        )

    needle = search.strip().lower()
    matches = np.array([needle in c.lower() for c in categories]) if needle else None
    if matches is not None:
        if is_3d:
            marker["opacity"] = 0.25
        else:
            marker["opacity"] = np.where(matches, 1.0, 0.15)
    elif not is_3d:
        marker["opacity"] = 0.85

    axes = {"x": coords[:, 0], "y": coords[:, 1]}
    if is_3d:
        axes["z"] = coords[:, 2]
    trace_cls = go.Scatter3d if is_3d else go.Scatter
    labels = None
    if matches is None:  # the biggest points carry their name, so a screenshot reads alone
        top = set(np.argsort(-counts, kind="stable")[: min(n, MAX_LABELS)].tolist())
        labels = [name if i in top else "" for i, name in enumerate(safe_names)]
    fig = go.Figure(
        trace_cls(
            **axes,
            mode="markers+text" if labels else "markers",
            text=labels,
            textposition="top center",
            textfont={"size": 11},  # colour from the active theme
            marker=marker,
            customdata=customdata,
            hovertemplate=hover,
            name="categories",
            showlegend=False,
        )
    )
    if matches is not None and matches.any():
        idx = np.flatnonzero(matches)
        ring_axes = {key: value[idx] for key, value in axes.items()}
        ring_text = [safe_names[i] for i in idx] if len(idx) <= 30 else None
        fig.add_trace(
            trace_cls(
                **ring_axes,
                mode="markers+text" if ring_text else "markers",
                text=ring_text,
                textposition="top center",
                marker={
                    "size": (marker["size"][idx] + 6)  # type: ignore[index]
                    if not is_3d
                    else 10,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 2.5, "color": "#fafafa" if dark else "#262730"},
                    **({"symbol": "circle-open"} if is_3d else {}),
                },
                customdata=customdata[idx],
                hovertemplate=hover,
                name="matches",
                showlegend=False,
            )
        )
    fig.update_layout(
        title=chart_text(title),
        height=640,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        hoverlabel={"namelength": 0},
    )
    if not is_3d:
        fig.update_xaxes(showticklabels=False, title="")
        fig.update_yaxes(showticklabels=False, title="", scaleanchor="x", scaleratio=1)
    return fig


def neighbours_figure(
    table: pd.DataFrame, *, value_column: str, query: str, dark: bool = False
) -> go.Figure:
    """Horizontal bars of neighbour similarity (or distance).

    Rare (unreliable) neighbours are grey; so are neighbours with a negative cosine
    similarity, whose vectors point the other way (pale: ``dim_colour``; ``dark``: the
    app shows the dark theme).
    """
    categories = [fmt.category(c) for c in table["category"]]
    reliable = table["reliable"].astype(bool).to_numpy() if "reliable" in table else None
    colours = np.where(reliable, "#1f77b4", "#9e9e9e") if reliable is not None else "#1f77b4"
    if value_column == "similarity":
        negative = table[value_column].to_numpy(dtype=float) < 0
        colours = np.where(negative, dim_colour(dark), colours)
    fig = go.Figure(
        go.Bar(
            x=table[value_column].to_numpy(dtype=float),
            y=_safe(categories),
            orientation="h",
            marker={"color": colours},
            customdata=np.column_stack(
                [
                    table["count"].to_numpy(),
                    np.where(reliable, "yes", "no (rare)") if reliable is not None else "",
                ]
            ),
            hovertemplate=(
                "<b>%{y}</b><br>"
                + chart_text(value_column)
                + ": %{x:.3f}<br>count: %{customdata[0]}"
                "<br>reliable: %{customdata[1]}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        title=f"Nearest to {chart_text(query)}",
        height=max(260, 28 * len(categories) + 80),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis={"autorange": "reversed", "type": "category", "automargin": True},
        xaxis={"title": chart_text(value_column)},
    )
    return fig


#: Fields up to which the interaction map writes each cell's figure in the cell.
MAX_CELL_TEXT_FIELDS = 10


def interactions_figure(matrix: pd.DataFrame, *, dark: bool = False) -> go.Figure:
    """Field x field heatmap of interaction strength: the stronger, the further from the
    page's background (``dark``: the app shows the dark theme)."""
    labels = _safe(matrix.columns)
    values = matrix.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=labels,
            y=_safe(matrix.index),
            colorscale="Blues_r" if dark else "Blues",
            colorbar={"title": "strength"},
            # the figure in each cell while it can be read; beyond, the hover and the
            # page's pair table give it
            text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.3g}")(values),
            texttemplate="%{text}" if len(labels) <= MAX_CELL_TEXT_FIELDS else "",
            hovertemplate="%{y} x %{x}: %{z:.4f}<extra></extra>",
        )
    )
    side = max(380, 48 * len(labels) + 140)
    fig.update_layout(
        height=side,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed"},
    )
    return fig


def history_frame(epochs: list[dict[str, Any]]) -> pd.DataFrame:
    """Finite figures per epoch; columns with nothing to draw are left out.

    An empty, all-NaN or infinite series makes the browser's chart library log
    "Infinite extent" warnings for every redraw, so none is ever handed to a chart.
    """
    frame = pd.DataFrame(epochs)
    if frame.empty:
        return frame
    frame = frame.set_index("epoch") if "epoch" in frame.columns else frame
    frame = frame.apply(pd.to_numeric, errors="coerce").replace([np.inf, -np.inf], np.nan)
    return frame.dropna(axis=1, how="all")


def history_figure(frame: pd.DataFrame, columns: Sequence[str]) -> go.Figure:
    """Lines per epoch of some columns of ``history_frame`` (a plotly chart: the Vega charts
    of ``st.line_chart`` logged "Infinite extent" warnings while redrawing)."""
    rows = frame[list(columns)].dropna(how="all")
    fig = go.Figure(
        [
            go.Scatter(
                x=rows.index.to_numpy(),
                y=rows[c].to_numpy(dtype=float),
                mode="lines+markers",
                name=chart_text(c),
                connectgaps=True,
            )
            for c in columns
        ]
    )
    return _history_layout(fig)


def empty_history_figure(note: str) -> go.Figure:
    """``history_figure``'s frame with no lines yet, ``note`` in the middle."""
    fig = go.Figure()
    fig.add_annotation(
        text=chart_text(note), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_yaxes(showticklabels=False)
    return _history_layout(fig)


def _history_layout(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        height=220,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h"},
        xaxis={"title": "epoch", "dtick": 1},
    )
    return fig


def movement_figure(
    categories: Sequence[object],
    before: np.ndarray,
    after: np.ndarray,
    counts: np.ndarray,
    *,
    labels: tuple[str, str] = ("run A", "run B"),
) -> go.Figure:
    """Categories of two aligned runs on one 2D projection, a line from each category's
    place in run A to its place in run B (open markers: A; filled: B). The
    ``MAX_LABELS`` most frequent carry their name at their place in B."""
    names = _safe([fmt.category(c) for c in categories])
    counts = np.asarray(counts, dtype=float)
    sizes = marker_sizes(counts, smallest=5, largest=22)
    top = set(np.argsort(-counts, kind="stable")[:MAX_LABELS].tolist())
    shown = [name if i in top else "" for i, name in enumerate(names)]
    xs: list[float | None] = []
    ys: list[float | None] = []
    for (x0, y0), (x1, y1) in zip(before, after, strict=True):
        xs += [float(x0), float(x1), None]
        ys += [float(y0), float(y1), None]
    hover = "<b>%{text}</b><br>%{meta}<extra></extra>"
    fig = go.Figure(
        [
            go.Scatter(
                x=after[:, 0],
                y=after[:, 1],
                mode="markers+text",
                name=chart_text(labels[1]),
                text=shown,
                textposition="top center",
                textfont={"size": 11},  # colour from the active theme
                customdata=names,
                meta=chart_text(labels[1]),
                legendrank=2,  # the legend reads A, then B, then the lines
                marker={"size": sizes, "color": "#1f77b4"},
                hovertemplate="<b>%{customdata}</b><br>%{meta}<extra></extra>",
            ),
            go.Scatter(
                x=before[:, 0],
                y=before[:, 1],
                mode="markers",
                name=chart_text(labels[0]),
                text=names,
                meta=chart_text(labels[0]),
                legendrank=1,
                # the outline's colour is set: Streamlit's theme draws it in the background's
                marker={
                    "size": sizes,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 1.5, "color": "#1f77b4"},
                },
                hovertemplate=hover,
            ),
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="moved",
                legendrank=3,
                line={"width": 1, "color": "rgba(120,120,120,0.6)"},
                hoverinfo="skip",
            ),
        ]
    )
    fig.update_layout(
        height=560,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h"},
        xaxis={"title": "PC 1"},
        yaxis={"title": "PC 2", "scaleanchor": "x"},
    )
    return fig


def prediction_text(value: float, task: str) -> str:
    """A prediction as shown on the pages: a number (regression) or a percentage."""
    return fmt.number(value) if task == "regression" else fmt.percent(value)


def shown_move(after: float, before: float, task: str) -> float:
    """The move between two predictions as ``prediction_text`` shows them: probabilities
    to the tenth of a point of their percentages, so a change adds up to what is read
    (4.9% -> 10.3% is +5.4 points, not the unrounded +5.3)."""
    if task == "regression":
        return after - before
    return round(after, 3) - round(before, 3)


def sweep_figure(
    table: pd.DataFrame, label: str, current: float, task: str, *, dark: bool = False
) -> go.Figure:
    """What-if sweep: one horizontal bar per category (hatched grey: barely seen;
    ``dim_colour``)."""
    ordered = table.iloc[::-1]  # plotly draws the first bar at the bottom
    names = [chart_text(fmt.category(c)) for c in ordered["category"]]
    label = chart_text(label)
    colours = np.where(ordered["reliable"], "#1f77b4", dim_colour(dark))
    hover = [
        f"{n}<br>{label}: {prediction_text(p, task)}<br>seen {c:,} times"
        + ("" if r else " (barely seen)")
        for n, p, c, r in zip(
            names, ordered["prediction"], ordered["count"], ordered["reliable"], strict=True
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=ordered["prediction"],
            y=names,
            orientation="h",
            marker_color=colours,
            marker_pattern_shape=np.where(ordered["reliable"], "", "/"),
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.add_vline(x=current, line_dash="dash", line_color="grey")
    # the row's own prediction (the dashed line) inside the axis even past every bar
    values = np.append(ordered["prediction"].to_numpy(dtype=np.float64), current)
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = max((high - low) * 0.05, 1e-9)
    fig.update_layout(
        xaxis_title=label,
        xaxis_range=[low - (pad if low < 0 else 0.0), high + pad],
        xaxis_tickformat=fmt.plotly_format("number" if task == "regression" else "probability"),
        yaxis={"automargin": True, "type": "category"},
        height=max(260, 24 * len(table) + 96),
        margin={"t": 36, "b": 10},  # room for Plotly's toolbar above the top bar
    )
    return fig


def lift_figure(result: LiftResult) -> go.Figure:
    """Grouped bars (model x encoding) with error bars; DeepFM's own score as a line."""
    from embedding_core.analysis.lift import ENCODING_LABELS, model_label, network_name

    frame = result.to_frame()
    cells = frame[~frame["is_reference"]]
    fig = go.Figure()
    for enc in [e for e in ENCODING_LABELS if e in set(cells["encoding"])]:
        part = cells[cells["encoding"] == enc]
        fig.add_bar(
            name=ENCODING_LABELS[enc],
            x=[model_label(m, result.task) for m in part["model"]],
            y=part["mean"],
            error_y={"type": "data", "array": part["std"].fillna(0.0), "visible": True},
            customdata=part[["std", "fit_seconds"]].to_numpy(),
            hovertemplate="%{x}<br>%{fullData.name}<br>"
            + result.metric_label
            + " %{y:.4f} ± %{customdata[0]:.4f}<br>fit %{customdata[1]:.1f} s<extra></extra>",
        )
    low = (cells["mean"] - cells["std"].fillna(0)).min()
    high = (cells["mean"] + cells["std"].fillna(0)).max()
    ref = frame[frame["is_reference"]]
    if not ref.empty:
        value = float(ref["mean"].iloc[0])
        low, high = min(low, value), max(high, value)
        line = {"dash": "dash", "color": "grey"}
        fig.add_hline(y=value, line=line)
        # named in the legend, not on the plot, where a label crossed the error bars
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="lines",
            line=line,
            name=f"{network_name(result.config)} itself {value:.4f}",
        )
    pad = max((high - low) * 0.15, 1e-3)
    fig.update_layout(
        barmode="group",
        yaxis_title=result.metric_label,
        yaxis_range=[low - pad, high + pad],
        legend_title_text="Encoding",
        margin={"t": 30, "b": 10},
        height=420,
    )
    return fig
