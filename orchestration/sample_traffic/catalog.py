"""The perfume catalog the sample traffic refers to: read from the dbt seeds, the warehouse's catalog."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from orchestration.warehouse import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class Perfume:
    perfume_id: str
    name: str
    house_id: str
    price_usd: float | None


@dataclass(frozen=True)
class Catalog:
    perfumes: tuple[Perfume, ...]
    house_names: dict[str, str]


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise FileNotFoundError(f"The catalog seed {path.name} is missing from dbt_project/seeds/.")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_catalog(seeds_dir: Path = SEEDS_DIR) -> Catalog:
    perfumes = tuple(
        Perfume(
            perfume_id=row["perfume_id"],
            name=row.get("name", row["perfume_id"]),
            house_id=row["house_id"],
            price_usd=float(row["price_usd"]) if row.get("price_usd") else None,
        )
        for row in _rows(seeds_dir / "perfumes.csv")
    )
    house_names = {
        row["house_id"]: row.get("name", row["house_id"]) for row in _rows(seeds_dir / "houses.csv")
    }
    if not perfumes:
        raise ValueError("dbt_project/seeds/perfumes.csv has no perfumes: the sample traffic needs some.")
    return Catalog(perfumes=perfumes, house_names=house_names)
