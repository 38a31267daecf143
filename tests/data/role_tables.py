"""Varied tables with a known target, for testing the role guess (``profile_columns``).

Each generator builds a small table shaped like a well-known public dataset (its column
names, order, types and value ranges), or reshapes one of scikit-learn's bundled
datasets into its original published layout. Values are random where the original is
not bundled: the guess looks at names, order, types and value counts, not at signal.
``ROLE_TABLES`` maps a name to ``(generator, target column)``. Copies of the shared
benchmark datasets (1,500 random rows each) sit next to this file in ``roles/``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["ROLE_TABLES", "SHARED_TABLES"]

N = 600


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _choice(rng: np.random.Generator, values: list[str], n: int = N, p=None) -> np.ndarray:
    return rng.choice(values, n, p=p)


def diamonds() -> pd.DataFrame:
    """Diamond prices: one-letter size columns x, y, z after the price."""
    rng = _rng(1)
    carat = rng.gamma(2.0, 0.4, N).round(2) + 0.2
    size = np.cbrt(carat) * 6.5
    return pd.DataFrame(
        {
            "carat": carat,
            "cut": _choice(rng, ["Fair", "Good", "Very Good", "Premium", "Ideal"]),
            "color": _choice(rng, list("DEFGHIJ")),
            "clarity": _choice(rng, ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]),
            "depth": rng.normal(61.7, 1.4, N).round(1),
            "table": rng.normal(57.4, 2.2, N).round(0),
            "price": (carat * 3900 + rng.normal(0, 400, N)).clip(326).round(0).astype(int),
            "x": (size + rng.normal(0, 0.05, N)).round(2),
            "y": (size + rng.normal(0, 0.05, N)).round(2),
            "z": (size * 0.62 + rng.normal(0, 0.03, N)).round(2),
        }
    )


def loans() -> pd.DataFrame:
    """Personal loans: a 0/1 flag named after defaults, the outcome in the last column."""
    rng = _rng(2)
    return pd.DataFrame(
        {
            "loan_id": [f"L{100000 + i}" for i in range(N)],
            "grade": _choice(rng, list("ABCDEFG")),
            "purpose": _choice(
                rng, ["debt_consolidation", "credit_card", "home_improvement", "car", "other"]
            ),
            "home_ownership": _choice(rng, ["RENT", "MORTGAGE", "OWN"]),
            "emp_length": _choice(rng, ["< 1 year", "1 year", "2-4 years", "5-9 years", "10+"]),
            "annual_inc": rng.lognormal(11, 0.5, N).round(0),
            "loan_amnt": (rng.integers(10, 350, N) * 100),
            "has_default_history": _choice(rng, ["0", "1"], p=[0.9, 0.1]),
            "delinq_2yrs": rng.poisson(0.3, N),
            "repaid": _choice(rng, ["yes", "no"], p=[0.8, 0.2]),
        }
    )


def forest_cover() -> pd.DataFrame:
    """Forest cover type: families of 0/1 area and soil columns before a 7-class target."""
    rng = _rng(3)
    frame = pd.DataFrame(
        {
            "Elevation": rng.integers(1860, 3850, N),
            "Aspect": rng.integers(0, 360, N),
            "Slope": rng.integers(0, 60, N),
            "Horizontal_Distance_To_Hydrology": rng.integers(0, 1400, N),
            "Hillshade_9am": rng.integers(0, 255, N),
        }
    )
    area = rng.integers(1, 5, N)
    soil = rng.integers(1, 41, N)
    for i in range(1, 5):
        frame[f"Wilderness_Area{i}"] = (area == i).astype(int)
    for i in range(1, 41):
        frame[f"Soil_Type{i}"] = (soil == i).astype(int)
    frame["Cover_Type"] = rng.integers(1, 8, N)
    return frame


def mushrooms() -> pd.DataFrame:
    """Mushrooms: every column a letter code, the class (edible/poisonous) first."""
    rng = _rng(4)
    return pd.DataFrame(
        {
            "class": _choice(rng, ["e", "p"]),
            "cap-shape": _choice(rng, list("bcxfks")),
            "cap-color": _choice(rng, list("nbcgrpuewy")),
            "bruises": _choice(rng, ["t", "f"]),
            "odor": _choice(rng, list("alcyfmnps")),
            "gill-size": _choice(rng, ["b", "n"]),
            "stalk-shape": _choice(rng, ["e", "t"]),
            "ring-number": _choice(rng, ["n", "o", "t"]),
            "population": _choice(rng, list("acnsvy")),
            "habitat": _choice(rng, list("glmpuwd")),
        }
    )


def wine() -> pd.DataFrame:
    """scikit-learn's wine data in the UCI layout: the cultivar class first."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    frame = data.data.copy()
    frame.insert(0, "Class", data.target + 1)
    return frame


def breast_cancer() -> pd.DataFrame:
    """scikit-learn's breast cancer data in the WDBC layout: id, diagnosis, 30 measures."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "diagnosis", np.where(data.target == 0, "M", "B"))
    frame.insert(0, "id", np.arange(842302, 842302 + len(frame)) * 7)
    return frame


def diabetes_progression() -> pd.DataFrame:
    """scikit-learn's diabetes data in Efron et al.'s layout: AGE SEX BMI BP S1-S6 Y."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False, as_frame=True)
    frame = data.data.copy()
    frame.columns = [c.upper() for c in frame.columns]
    frame["Y"] = data.target.astype(int)
    return frame


def iris() -> pd.DataFrame:
    """scikit-learn's iris data: four measures and the species."""
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.data.copy()
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = np.asarray(data.target_names)[data.target]
    return frame


def telco_churn() -> pd.DataFrame:
    """Telecom customers: many Yes/No service columns, Churn last."""
    rng = _rng(5)
    yes_no = ["Yes", "No"]
    tenure = rng.integers(0, 73, N)
    monthly = rng.uniform(18, 119, N).round(2)
    frame = pd.DataFrame(
        {
            "customerID": [f"{rng.integers(1000, 9999)}-{i:05X}" for i in range(N)],
            "gender": _choice(rng, ["Female", "Male"]),
            "SeniorCitizen": _choice(rng, ["0", "1"], p=[0.84, 0.16]),
            "Partner": _choice(rng, yes_no),
            "Dependents": _choice(rng, yes_no),
            "tenure": tenure,
            "PhoneService": _choice(rng, yes_no),
            "InternetService": _choice(rng, ["DSL", "Fiber optic", "No"]),
            "Contract": _choice(rng, ["Month-to-month", "One year", "Two year"]),
            "PaperlessBilling": _choice(rng, yes_no),
            "PaymentMethod": _choice(
                rng, ["Electronic check", "Mailed check", "Bank transfer", "Credit card"]
            ),
            "MonthlyCharges": monthly,
            "TotalCharges": (monthly * tenure).round(2),
            "Churn": _choice(rng, yes_no, p=[0.27, 0.73]),
        }
    )
    return frame


def house_prices() -> pd.DataFrame:
    """House sales: integer dwelling-class codes, areas, years, SalePrice last."""
    rng = _rng(6)
    sub_class = [20, 30, 40, 45, 50, 60, 70, 75, 80, 85, 90, 120, 150, 160, 180, 190]
    return pd.DataFrame(
        {
            "Id": np.arange(1, N + 1),
            "MSSubClass": _choice(rng, sub_class),
            "MSZoning": _choice(rng, ["RL", "RM", "FV", "RH", "C (all)"]),
            "LotArea": rng.lognormal(9.1, 0.5, N).round(0).astype(int),
            "Neighborhood": _choice(rng, [f"N{i:02d}" for i in range(25)]),
            "OverallQual": rng.integers(1, 11, N),
            "YearBuilt": rng.integers(1872, 2011, N),
            "GrLivArea": rng.integers(334, 5643, N),
            "GarageCars": rng.integers(0, 5, N),
            "YrSold": rng.integers(2006, 2011, N),
            "SaleCondition": _choice(rng, ["Normal", "Abnorml", "Partial", "Family"]),
            "SalePrice": (rng.lognormal(12, 0.4, N) // 500 * 500).astype(int),
        }
    )


def insurance_caravan() -> pd.DataFrame:
    """CoIL 2000 insurance: socio-demographic codes (subtype 1-41), 0-9 levels, CARAVAN last."""
    rng = _rng(7)
    frame = pd.DataFrame(
        {
            "MOSTYPE": _choice(rng, [str(v) for v in range(1, 42)]).astype(int),
            "MAANTHUI": rng.integers(1, 4, N),
            "MGEMOMV": rng.integers(1, 6, N),
            "MGEMLEEF": rng.integers(1, 7, N),
            "MOSHOOFD": rng.integers(1, 11, N),
        }
    )
    for name in ["MGODRK", "MGODPR", "MRELGE", "MOPLHOOG", "MBERHOOG", "MINKGEM", "MKOOPKLA"]:
        frame[name] = rng.integers(0, 10, N)
    for name in ["PWAPART", "PPERSAUT", "PBRAND", "AWAPART", "APERSAUT", "ABRAND"]:
        frame[name] = rng.poisson(0.8, N)
    frame["CARAVAN"] = rng.choice([0, 1], N, p=[0.94, 0.06])
    return frame


def drug_choice() -> pd.DataFrame:
    """Which drug was prescribed: a binary Sex column before a 5-class target."""
    rng = _rng(8)
    return pd.DataFrame(
        {
            "Age": rng.integers(15, 75, N),
            "Sex": _choice(rng, ["F", "M"]),
            "BP": _choice(rng, ["HIGH", "NORMAL", "LOW"]),
            "Cholesterol": _choice(rng, ["HIGH", "NORMAL"]),
            "Na_to_K": rng.uniform(6, 38, N).round(3),
            "Drug": _choice(rng, ["drugY", "drugX", "drugA", "drugB", "drugC"]),
        }
    )


def student_grades() -> pd.DataFrame:
    """Student performance: many yes/no columns, period grades G1, G2, final grade G3 last."""
    rng = _rng(9)
    yes_no = ["yes", "no"]
    g1 = rng.integers(3, 20, N)
    return pd.DataFrame(
        {
            "school": _choice(rng, ["GP", "MS"]),
            "sex": _choice(rng, ["F", "M"]),
            "age": rng.integers(15, 23, N),
            "address": _choice(rng, ["U", "R"]),
            "Medu": rng.integers(0, 5, N),
            "Mjob": _choice(rng, ["teacher", "health", "services", "at_home", "other"]),
            "studytime": rng.integers(1, 5, N),
            "failures": rng.choice([0, 1, 2, 3], N, p=[0.8, 0.1, 0.06, 0.04]),
            "schoolsup": _choice(rng, yes_no),
            "famsup": _choice(rng, yes_no),
            "paid": _choice(rng, yes_no),
            "higher": _choice(rng, yes_no),
            "internet": _choice(rng, yes_no),
            "absences": rng.poisson(4, N),
            "G1": g1,
            "G2": (g1 + rng.integers(-2, 3, N)).clip(0, 20),
            "G3": (g1 + rng.integers(-3, 3, N)).clip(0, 20),
        }
    )


def movie_ratings() -> pd.DataFrame:
    """Movies: the rating to predict, then a family of one-hot genre columns at the end."""
    rng = _rng(10)
    frame = pd.DataFrame(
        {
            "title": [f"Movie {i}" for i in range(N)],
            "year": rng.integers(1930, 2024, N),
            "runtime_min": rng.integers(70, 200, N),
            "studio": _choice(rng, ["Warner", "Universal", "Paramount", "Fox", "Indie"]),
            "budget_musd": rng.lognormal(3, 1, N).round(1),
            "rating": rng.normal(6.4, 1.0, N).clip(1, 10).round(1),
        }
    )
    for genre in ["action", "comedy", "drama", "horror", "romance", "scifi", "war"]:
        frame[f"genre_{genre}"] = rng.choice([0, 1], N, p=[0.8, 0.2])
    return frame


def recidivism() -> pd.DataFrame:
    """Criminal justice: 0/1 recidivism flags in the middle, the two-year outcome last."""
    rng = _rng(11)
    return pd.DataFrame(
        {
            "sex": _choice(rng, ["Male", "Female"], p=[0.8, 0.2]),
            "age": rng.integers(18, 80, N),
            "age_cat": _choice(rng, ["Less than 25", "25 - 45", "Greater than 45"]),
            "race": _choice(rng, ["African-American", "Caucasian", "Hispanic", "Other"]),
            "juv_fel_count": rng.poisson(0.1, N),
            "priors_count": rng.poisson(3, N),
            "c_charge_degree": _choice(rng, ["F", "M"]),
            "is_recid": _choice(rng, ["0", "1"]),
            "is_violent_recid": _choice(rng, ["0", "1"], p=[0.9, 0.1]),
            "decile_score": rng.integers(1, 11, N),
            "score_text": _choice(rng, ["Low", "Medium", "High"]),
            "two_year_recid": _choice(rng, ["0", "1"]),
        }
    )


def store_sales() -> pd.DataFrame:
    """Daily store sales: the sales figure in the middle, 0/1 promotion and holiday flags."""
    rng = _rng(12)
    return pd.DataFrame(
        {
            "Store": rng.integers(1, 60, N),
            "DayOfWeek": rng.integers(1, 8, N),
            "Date": pd.date_range("2015-01-01", periods=N, freq="h").strftime("%Y-%m-%d %H:00"),
            "Sales": rng.integers(0, 20000, N),
            "Customers": rng.integers(0, 3000, N),
            "Open": rng.choice([0, 1], N, p=[0.17, 0.83]),
            "Promo": rng.choice([0, 1], N),
            "StateHoliday": _choice(rng, ["0", "a", "b", "c"], p=[0.97, 0.01, 0.01, 0.01]),
            "SchoolHoliday": rng.choice([0, 1], N, p=[0.8, 0.2]),
        }
    )


def bike_rentals() -> pd.DataFrame:
    """Hourly bike rentals: season and weather codes, the rental count last."""
    rng = _rng(13)
    return pd.DataFrame(
        {
            "dteday": pd.date_range("2011-01-01", periods=N, freq="h").strftime("%Y-%m-%d"),
            "season": rng.integers(1, 5, N),
            "hr": rng.integers(0, 24, N),
            "holiday": rng.choice([0, 1], N, p=[0.97, 0.03]),
            "workingday": rng.choice([0, 1], N),
            "weathersit": rng.integers(1, 5, N),
            "temp": rng.uniform(0.02, 1.0, N).round(2),
            "hum": rng.uniform(0, 1, N).round(2),
            "windspeed": rng.uniform(0, 0.85, N).round(4),
            "cnt": rng.negative_binomial(2, 0.01, N),
        }
    )


ROLE_TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "diamonds": (diamonds, "price"),
    "loans": (loans, "repaid"),
    "forest_cover": (forest_cover, "Cover_Type"),
    "mushrooms": (mushrooms, "class"),
    "wine": (wine, "Class"),
    "breast_cancer": (breast_cancer, "diagnosis"),
    "diabetes_progression": (diabetes_progression, "Y"),
    "iris": (iris, "species"),
    "telco_churn": (telco_churn, "Churn"),
    "house_prices": (house_prices, "SalePrice"),
    "insurance_caravan": (insurance_caravan, "CARAVAN"),
    "drug_choice": (drug_choice, "Drug"),
    "student_grades": (student_grades, "G3"),
    "movie_ratings": (movie_ratings, "rating"),
    "recidivism": (recidivism, "two_year_recid"),
    "store_sales": (store_sales, "Sales"),
    "bike_rentals": (bike_rentals, "cnt"),
}

#: Copies of ../shared/data (1,500 random rows each) in tests/data/roles/, and their targets.
SHARED_TABLES: dict[str, str] = {
    "adult": "income_gt_50k",
    "amazon_access": "ACTION",
    "bank_marketing": "subscribed",
    "diabetes_readmission": "readmitted_lt30",
    "german_credit": "bad_credit",
    "hotel_bookings": "is_canceled",
}
