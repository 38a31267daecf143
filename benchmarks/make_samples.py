"""Rebuild ``sample_data/`` from the shared copies of the source datasets.

Usage (from the repository root)::

    .venv/bin/python benchmarks/make_samples.py --source ../shared/data

Deterministic: the same source files always give byte-identical ``.csv.gz`` files
(fixed seed for the subsample, gzip header without a timestamp). The ``.meta.json``
files are written by hand and only have ``n_rows`` checked here.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601

# Statlog German Credit codes -> short readable labels (from the dataset's german.doc).
GERMAN_COLUMNS = {
    "status_of_existing_checking_account": "checking_account",
    "duration_in_month": "duration_months",
    "credit_history": "credit_history",
    "purpose": "purpose",
    "credit_amount": "credit_amount",
    "savings_account/bonds": "savings",
    "present_employment_since": "employed_since",
    "installment_rate_in_percentage_of_disposable_income": "installment_rate_pct",
    "personal_status_and_sex": "personal_status",
    "other_debtors/guarantors": "other_debtors",
    "present_residence_since": "residence_since",
    "property": "property",
    "age_in_years": "age",
    "other_installment_plans": "other_installment_plans",
    "housing": "housing",
    "number_of_existing_credits_at_this_bank": "existing_credits",
    "job": "job",
    "number_of_people_being_liable_to_provide_maintenance_for": "dependents",
    "telephone": "telephone",
    "foreign_worker": "foreign_worker",
    "bad_credit": "bad_credit",
}
GERMAN_CODES = {
    "checking_account": {
        "A11": "below 0 DM",
        "A12": "0 to 200 DM",
        "A13": "200 DM or more",
        "A14": "no checking account",
    },
    "credit_history": {
        "A30": "no credits / all paid back duly",
        "A31": "all paid back duly at this bank",
        "A32": "existing credits paid duly so far",
        "A33": "delays in paying in the past",
        "A34": "critical account / credits elsewhere",
    },
    "purpose": {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "other",
    },
    "savings": {
        "A61": "below 100 DM",
        "A62": "100 to 500 DM",
        "A63": "500 to 1000 DM",
        "A64": "1000 DM or more",
        "A65": "unknown / no savings",
    },
    "employed_since": {
        "A71": "unemployed",
        "A72": "less than 1 year",
        "A73": "1 to 4 years",
        "A74": "4 to 7 years",
        "A75": "7 years or more",
    },
    "personal_status": {
        "A91": "male, divorced/separated",
        "A92": "female, divorced/separated/married",
        "A93": "male, single",
        "A94": "male, married/widowed",
        "A95": "female, single",
    },
    "other_debtors": {"A101": "none", "A102": "co-applicant", "A103": "guarantor"},
    "property": {
        "A121": "real estate",
        "A122": "savings agreement / life insurance",
        "A123": "car or other",
        "A124": "unknown / none",
    },
    "other_installment_plans": {"A141": "bank", "A142": "stores", "A143": "none"},
    "housing": {"A151": "rent", "A152": "own", "A153": "for free"},
    "job": {
        "A171": "unemployed / unskilled non-resident",
        "A172": "unskilled resident",
        "A173": "skilled employee / official",
        "A174": "management / self-employed / highly qualified",
    },
    "telephone": {"A191": "none", "A192": "yes, registered"},
    "foreign_worker": {"A201": "yes", "A202": "no"},
}

DIABETES_ROWS = 30_000
DIABETES_COLUMNS = [
    "race",
    "gender",
    "age",
    "admission_type_id",
    "discharge_disposition_id",
    "admission_source_id",
    "payer_code",
    "medical_specialty",
    "diag_1",
    "diag_2",
    "diag_3",
    "max_glu_serum",
    "A1Cresult",
    "metformin",
    "glimepiride",
    "glipizide",
    "glyburide",
    "pioglitazone",
    "rosiglitazone",
    "insulin",
    "change",
    "diabetesMed",
    "time_in_hospital",
    "num_lab_procedures",
    "num_procedures",
    "num_medications",
    "number_outpatient",
    "number_emergency",
    "number_inpatient",
    "number_diagnoses",
    "readmitted_lt30",
]


def _read(source: Path, name: str) -> pd.DataFrame:
    # Everything as text, and no value treated as missing ("None" is a lab-test level).
    return pd.read_csv(source / f"{name}.csv.gz", dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, name: str, out: Path) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    data = gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    (out / f"{name}.csv.gz").write_bytes(data)
    meta_path = out / f"{name}.meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("n_rows") != len(frame):
            print(f"  note: update n_rows in {meta_path.name} to {len(frame)}")
    print(f"{name}: {len(frame):,} rows x {frame.shape[1]} columns, {len(data) / 1e6:.2f} MB")


def bank_marketing(source: Path) -> pd.DataFrame:
    """All 41,188 rows and columns as shared ('duration' was already dropped: a leak)."""
    return _read(source, "bank_marketing")


def german_credit(source: Path) -> pd.DataFrame:
    """Short column names and readable labels in place of the A11-style codes."""
    frame = _read(source, "german_credit").rename(columns=GERMAN_COLUMNS)
    for column, codes in GERMAN_CODES.items():
        unknown = set(frame[column]) - set(codes)
        if unknown:
            raise SystemExit(f"german_credit: unexpected codes in {column}: {sorted(unknown)}")
        frame[column] = frame[column].map(codes)
    return frame


def diabetes_readmission(source: Path) -> pd.DataFrame:
    """A seeded 30,000-row sample; near-constant drug columns left out; gaps made empty."""
    frame = _read(source, "diabetes_readmission")
    frame = frame.sample(n=DIABETES_ROWS, random_state=SEED).sort_index()
    frame = frame[DIABETES_COLUMNS].reset_index(drop=True)
    return frame.replace("__NA__", "")  # an empty cell is how a CSV says "missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for build in (bank_marketing, german_credit, diabetes_readmission):
        _write(build(args.source), build.__name__, args.out)


if __name__ == "__main__":
    main()
