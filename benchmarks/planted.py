"""Do the vectors mean something? Neighbour precision@5 on data with planted structure.

Synthetic binary data where each field's categories fall into hidden groups; categories of
one group act exactly alike on the target (same main effect, same interactions). Groups of
some field pairs interact. Category frequencies are Zipf-like (s=1.1) and independent of
the group, and one field has 1,000 categories.

For each field and contender, neighbour precision@5 is the share of a category's 5 nearest
neighbours (cosine similarity of the learned embedding vectors) that come from its own
group, averaged over categories seen >= 30 times in the training rows; neighbours are
searched among those same categories. ``chance`` is what random neighbours would score and
``ceiling`` the best possible score (small groups cannot fill 5 neighbours).

``reference`` is an oracle-free statistic of the training rows, not a model: each
category's profile is its target rate within each group of every *other* field (and
overall), shrunk toward the field-wide rate by its count (``(sum y + m * prior) / (n + m)``,
``m = REFERENCE_SHRINK``), on the logit scale; neighbours by cosine of the centred profiles.
It never sees the scored field's own groups (it does use the other fields' groups, which a
model has to learn), so it shows how much neighbour precision the data's own counts allow
at each category frequency. ``--reference-only`` skips the models.

Contenders: ours with default settings (or the variants given with ``--ours-config``) and
DeepCTR's DeepFM with its reference settings, on the same rows. Test AUC is reported next
to the oracle AUC (the true logit).

Usage::

    .venv/bin/python benchmarks/planted.py --out benchmarks/results/planted.json
    .venv/bin/python benchmarks/planted.py --ours-config '{}' --ours-config '{"l2_embedding": 1e-5}'
    # means over training seeds 0-2 (one data seed per run: --seed 0, 1, 2)
    .venv/bin/python benchmarks/planted.py --no-deepctr --training-seeds 3 --seed 1 \
        --ours-config '{}' --ours-config '{"row_bias_correction": true}'
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import (
    OURS_PYTHON,
    PEER_PYTHON,
    Dataset,
    emit,
    fixed_split,
    format_table,
    machine_info,
    neighbour_precision,
    run_contender,
    write_split,
)

# (field name, number of categories, number of hidden groups)
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("A", 1000, 8),
    ("B", 300, 6),
    ("C", 120, 5),
    ("D", 60, 4),
    ("E", 24, 3),
)
# Field pairs whose groups interact.
INTERACTIONS: tuple[tuple[str, str], ...] = (("A", "B"), ("C", "D"), ("A", "E"), ("B", "D"))
ZIPF_S = 1.1
MIN_COUNT = 30
K_NEIGHBOURS = 5
REFERENCE_SHRINK = 10.0  # best mean p@5 of m in {2, 5, 10, 20, 50, 100}: 0.86-0.87, flat
# training-count bands for the per-frequency breakdown of the reference
COUNT_BANDS: tuple[tuple[int, int], ...] = ((30, 100), (100, 1000), (1000, 10**9))


@dataclass
class Planted:
    dataset: Dataset
    groups: dict[str, dict[str, int]]  # field -> category label -> hidden group
    true_logit: np.ndarray


def make_planted(
    n_rows: int = 150_000,
    seed: int = 0,
    main_sd: float = 0.6,
    inter_sd: float = 0.8,
) -> Planted:
    """Generate the planted-structure data set (see module docstring)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    groups: dict[str, dict[str, int]] = {}
    row_groups: dict[str, np.ndarray] = {}
    main: dict[str, np.ndarray] = {}
    for name, n_cat, n_groups in FIELDS:
        group_of = rng.permutation(np.arange(n_cat) % n_groups)  # every group non-empty
        rank = rng.permutation(n_cat) + 1  # frequency rank, independent of the group
        weights = 1.0 / rank.astype("float64") ** ZIPF_S
        codes = rng.choice(n_cat, size=n_rows, p=weights / weights.sum())
        labels = np.array([f"{name}{i:04d}" for i in range(n_cat)])
        cols[name] = labels[codes]
        groups[name] = {str(lab): int(g) for lab, g in zip(labels, group_of, strict=True)}
        row_groups[name] = group_of[codes]
        main[name] = rng.normal(0.0, main_sd, size=n_groups)
    logit = np.zeros(n_rows)
    for name, _, _ in FIELDS:
        logit += main[name][row_groups[name]]
    sizes = {name: g for name, _, g in FIELDS}
    for a, b in INTERACTIONS:
        w = rng.normal(0.0, inter_sd, size=(sizes[a], sizes[b]))
        logit += w[row_groups[a], row_groups[b]]
    logit += -1.0 - np.mean(logit)  # positive rate around 0.3
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    frame = pd.DataFrame(cols)
    frame["y"] = y
    ds = Dataset("planted", frame, [f[0] for f in FIELDS], [], "y", {"fields": FIELDS})
    return Planted(ds, groups, logit)


def score_embeddings(
    path: Path, planted: Planted, train_counts: dict[str, pd.Series]
) -> dict[str, dict[str, Any]]:
    """Neighbour precision per field for one contender's dumped embedding matrices."""
    out: dict[str, dict[str, Any]] = {}
    with np.load(path, allow_pickle=False) as z:
        fields = [str(f) for f in z["fields"]]
        for i, field in enumerate(fields):
            labels = z[f"labels_{i}"].astype(str)
            vectors = z[f"vectors_{i}"]
            counts = train_counts[field]
            group_map = planted.groups[field]
            keep = [
                j
                for j, lab in enumerate(labels)
                if lab in group_map and counts.get(lab, 0) >= MIN_COUNT
            ]
            g = np.array([group_map[labels[j]] for j in keep])
            n = np.array([counts[labels[j]] for j in keep])
            out[field] = by_count(neighbour_precision(vectors[keep], g, k=K_NEIGHBOURS), n)
    return out


def by_count(result: dict[str, Any], counts: np.ndarray) -> dict[str, Any]:
    """``neighbour_precision``'s result with its per-row hits summarised per count band."""
    hits = result.pop("per_row")
    bands = {}
    for lo, hi in COUNT_BANDS:
        inside = (counts >= lo) & (counts < hi)
        if inside.any():
            name = f"{lo}-{hi}" if hi < 10**9 else f">={lo}"
            bands[name] = {"precision": float(hits[inside].mean()), "n": int(inside.sum())}
    return {**result, "by_count": bands}


def reference_profiles(
    train: pd.DataFrame, planted: Planted, field: str, shrink: float = REFERENCE_SHRINK
) -> tuple[list[str], np.ndarray]:
    """Oracle-free profiles of ``field``'s categories (see module docstring).

    Returns the category labels and a ``(n_categories, 1 + sum of other fields' groups)``
    matrix: per column, the shrunk target rate on the logit scale, centred over categories.
    """
    y = train["y"].to_numpy(dtype="float64")
    labels = train[field].to_numpy()
    cats, inverse = np.unique(labels, return_inverse=True)
    n_cat = len(cats)

    def shrunk_logit(index: np.ndarray, n_cols: int) -> np.ndarray:
        cells = inverse * n_cols + index
        total = np.bincount(cells, weights=y, minlength=n_cat * n_cols).reshape(n_cat, n_cols)
        count = np.bincount(cells, minlength=n_cat * n_cols).reshape(n_cat, n_cols)
        prior = total.sum(axis=0) / np.maximum(count.sum(axis=0), 1)  # the column's rate
        rate = (total + shrink * prior) / (count + shrink)
        rate = np.clip(rate, 1e-4, 1 - 1e-4)
        logit = np.log(rate / (1 - rate))
        return logit - logit.mean(axis=0)

    blocks = [shrunk_logit(np.zeros(len(train), dtype=np.int64), 1)]
    for other, _, n_groups in FIELDS:
        if other == field:
            continue
        groups = planted.groups[other]
        index = np.array([groups[v] for v in train[other].to_numpy()], dtype=np.int64)
        blocks.append(shrunk_logit(index, n_groups))
    return [str(c) for c in cats], np.hstack(blocks)


def reference_precision(
    train: pd.DataFrame, planted: Planted, train_counts: dict[str, pd.Series]
) -> dict[str, dict[str, Any]]:
    """Neighbour precision@5 of the reference per field, overall and per count band."""
    out: dict[str, dict[str, Any]] = {}
    for field, _, _ in FIELDS:
        labels, profiles = reference_profiles(train, planted, field)
        counts = train_counts[field]
        keep = [j for j, lab in enumerate(labels) if counts.get(lab, 0) >= MIN_COUNT]
        g = np.array([planted.groups[field][labels[j]] for j in keep])
        n = np.array([counts[labels[j]] for j in keep])
        out[field] = by_count(neighbour_precision(profiles[keep], g, k=K_NEIGHBOURS), n)
    return out


def chance(groups: np.ndarray) -> float:
    """Expected precision of random neighbours: (own-group members - 1) / (n - 1), averaged."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return float(np.mean((counts[inverse] - 1) / (len(groups) - 1)))


def ceiling(groups: np.ndarray, k: int = K_NEIGHBOURS) -> float:
    """Best achievable precision@k: a group of m members offers only m - 1 true neighbours."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return float(np.mean(np.minimum(counts[inverse] - 1, k) / k))


def seed_means(
    configs: list[dict[str, Any]],
    n_seeds: int,
    precision: dict[str, dict[str, Any]],
    contenders: dict[str, Any],
) -> list[dict[str, Any]]:
    """One summary row per ``--ours-config``: means over its ``n_seeds`` training seeds
    (contenders ``ours``, ``ours[1]``... in config-major order)."""
    rows = []
    for i, config in enumerate(configs):
        names = [f"ours[{j}]" if j else "ours" for j in range(i * n_seeds, (i + 1) * n_seeds)]
        names = [n for n in names if n in precision]
        if not names:
            continue
        row: dict[str, Any] = {"contender": f"mean of {len(names)} seeds: {json.dumps(config)}"}
        row["test AUC"] = float(np.mean([contenders[n]["test_auc"] for n in names]))
        row["mean p@5"] = float(
            np.mean([np.mean([v["precision"] for v in precision[n].values()]) for n in names])
        )
        for field, _, _ in FIELDS:
            row[f"{field} p@5"] = float(np.mean([precision[n][field]["precision"] for n in names]))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000, help="rows before the 80/20 split")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument(
        "--ours-config",
        action="append",
        default=None,
        help="JSON TrainConfig overrides; repeat to compare variants (default: '{}')",
    )
    parser.add_argument(
        "--peer-settings", default="{}", help="JSON overrides of DeepCTR's reference settings"
    )
    parser.add_argument(
        "--reference-only", action="store_true", help="only the oracle-free reference"
    )
    parser.add_argument(
        "--training-seeds",
        type=int,
        default=1,
        help="train each --ours-config with seeds 0..N-1 and add the per-config means "
        "(single runs vary a lot: field B over 0.75-0.86 for one engine)",
    )
    parser.add_argument("--no-deepctr", action="store_true", help="skip DeepCTR")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep contender logs here")
    parser.add_argument("--out", default=None, help="write the JSON result here")
    args = parser.parse_args()

    from sklearn.metrics import roc_auc_score

    planted = make_planted(args.rows, args.seed)
    ds = planted.dataset
    base_configs = [json.loads(c) for c in (args.ours_config or ["{}"])]
    seeds = range(max(1, args.training_seeds))
    ours_configs = [
        {**c, "seed": t} if args.training_seeds > 1 else c for c in base_configs for t in seeds
    ]
    jobs: list[tuple[str, Path, str, dict[str, Any], bool]] = [
        ("ours" if i == 0 else f"ours[{i}]", OURS_PYTHON, "ours_deepfm.py", cfg, False)
        for i, cfg in enumerate(ours_configs)
    ]
    if not args.no_deepctr:
        peer = json.loads(args.peer_settings)
        jobs.append(("deepctr", PEER_PYTHON, "peer_deepctr.py", peer, True))
    if args.reference_only:
        jobs = []

    _, test_idx = fixed_split(ds.frame["y"].to_numpy())
    oracle_auc = float(
        roc_auc_score(ds.frame["y"].to_numpy()[test_idx], planted.true_logit[test_idx])
    )
    contenders: dict[str, Any] = {}
    precision: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_planted_") as tmp:
        workdir = Path(tmp)
        train, _ = write_split(ds, workdir)
        train_counts = {f: train[f].value_counts() for f in ds.cat_cols}
        precision["reference"] = reference_precision(train, planted, train_counts)
        for name, python, script, settings, legacy in jobs:
            print(f"[planted] {name}", file=sys.stderr)
            dump = workdir / f"emb_{len(contenders)}.npz"
            log = args.log_dir / f"planted_{name}.log" if args.log_dir else None
            cmd_args = [
                "--workdir",
                str(workdir),
                "--settings",
                json.dumps(settings),
                "--dump-embeddings",
                str(dump),
            ]
            res = run_contender(python, script, cmd_args, legacy_keras=legacy, log_path=log)
            contenders[name] = res
            if "error" in res:
                print(f"[planted]   FAILED: {res['error']}", file=sys.stderr)
                continue
            precision[name] = score_embeddings(dump, planted, train_counts)

    fields_out = []
    for name, n_cat, n_groups in FIELDS:
        counts = train_counts[name]
        eligible = [lab for lab in planted.groups[name] if counts.get(lab, 0) >= MIN_COUNT]
        g = np.array([planted.groups[name][lab] for lab in eligible])
        row: dict[str, Any] = {
            "field": name,
            "categories": n_cat,
            "groups": n_groups,
            "scored": len(eligible),
            "chance": chance(g) if len(g) > K_NEIGHBOURS else None,
            "ceiling": ceiling(g) if len(g) > K_NEIGHBOURS else None,
        }
        for contender, per_field in precision.items():
            row[f"{contender} p@5"] = per_field[name]["precision"]
        for contender, per_field in precision.items():
            row[f"{contender} p@5 by count"] = per_field[name]["by_count"]
        fields_out.append(row)
    summary_rows = [
        {
            "contender": name,
            "test AUC": res.get("test_auc"),
            "test logloss": res.get("test_logloss"),
            "epochs": res.get("epochs_run"),
            "mean p@5": float(np.mean([v["precision"] for v in precision[name].values()]))
            if name in precision
            else None,
        }
        for name, res in contenders.items()
    ]
    summary_rows.append(
        {
            "contender": "reference (oracle-free)",
            "mean p@5": float(np.mean([v["precision"] for v in precision["reference"].values()])),
        }
    )
    summary_rows.append({"contender": "oracle (true logit)", "test AUC": oracle_auc})

    if args.training_seeds > 1:
        summary_rows += seed_means(base_configs, args.training_seeds, precision, contenders)

    report = {
        "benchmark": "planted",
        "machine": machine_info(),
        "rows": args.rows,
        "data_seed": args.seed,
        "fields": [list(f) for f in FIELDS],
        "interactions": [list(p) for p in INTERACTIONS],
        "zipf_s": ZIPF_S,
        "min_count": MIN_COUNT,
        "k": K_NEIGHBOURS,
        "ours_configs": ours_configs,
        "training_seeds": args.training_seeds,
        "oracle_test_auc": oracle_auc,
        "per_field": fields_out,
        "summary": summary_rows,
        "contenders": contenders,
    }
    cols = ["field", "categories", "groups", "scored", "chance", "ceiling"]
    cols += [f"{c} p@5" for c in precision]
    print(format_table(fields_out, cols), file=sys.stderr)
    print(
        format_table(
            summary_rows,
            ["contender", "test AUC", "test logloss", "epochs", "mean p@5"]
            + [f"{f} p@5" for f, _, _ in FIELDS if args.training_seeds > 1],
        ),
        file=sys.stderr,
    )
    emit(report, args.out)


if __name__ == "__main__":
    main()
