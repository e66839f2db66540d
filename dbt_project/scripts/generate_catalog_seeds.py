"""Write the sample perfume catalog seeds (perfumes, perfume_notes, houses) deterministically.

The CSVs are committed; run this only to change the catalog:
    python dbt_project/scripts/generate_catalog_seeds.py
Names are invented but shaped like a real catalog: houses with a price tier, perfumes named after
their main accord, three to seven notes each from a fixed pyramid of real perfumery notes.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
PERFUME_COUNT = 300

# (house name, lowest price, highest price) - niche houses cost more than designer houses
HOUSES = [
    ("Maison Verlaine", 180, 320),
    ("Atelier Solenne", 150, 280),
    ("Casa Ambrosia", 90, 160),
    ("Orchard & Oud", 120, 240),
    ("Lune Parfums", 70, 130),
    ("House of Marais", 200, 380),
    ("Nordlys Scents", 60, 110),
    ("Jardin Secret", 85, 150),
    ("Velours Noir", 160, 300),
    ("Ateliers Cassis", 95, 175),
    ("Olfactive Studio Nine", 140, 260),
    ("Bergamo Essenze", 75, 140),
    ("Kyoto Incense Co.", 110, 210),
    ("Saffron Road", 130, 250),
    ("Blanc de Mer", 65, 120),
    ("Maison Ferrant", 220, 420),
    ("Amber Atlas", 100, 190),
    ("Petale Rouge", 55, 105),
    ("Santal Society", 125, 230),
    ("Eau de Provence", 50, 95),
    ("Cedarwood & Co.", 80, 150),
    ("Iris Imperial", 190, 350),
    ("Musc Collective", 70, 135),
    ("Vetiver Vale", 90, 170),
    ("Rosa Damascena", 115, 215),
    ("Fougere Atelier", 60, 115),
    ("Neroli Nights", 85, 160),
    ("Tonka Theory", 95, 180),
    ("Black Pepper Lab", 135, 255),
    ("Fig & Leather", 150, 290),
]

TOP_NOTES = [
    "bergamot",
    "lemon",
    "mandarin",
    "pink pepper",
    "grapefruit",
    "cardamom",
    "neroli",
    "blackcurrant",
    "apple",
    "pear",
    "saffron",
    "ginger",
    "lavender",
    "mint",
    "yuzu",
]
HEART_NOTES = [
    "rose",
    "jasmine",
    "iris",
    "orange blossom",
    "tuberose",
    "violet",
    "geranium",
    "magnolia",
    "lily of the valley",
    "peony",
    "cinnamon",
    "fig",
    "osmanthus",
    "ylang-ylang",
]
BASE_NOTES = [
    "vanilla",
    "sandalwood",
    "cedarwood",
    "patchouli",
    "vetiver",
    "amber",
    "musk",
    "oud",
    "tonka bean",
    "leather",
    "benzoin",
    "labdanum",
    "incense",
    "oakmoss",
    "tobacco",
]
STYLES = ["Eau de Parfum", "Eau de Toilette", "Extrait", "Intense", "Absolu", "Cologne"]


def generate(seed: int = 20240601) -> tuple[list[tuple], list[tuple], list[tuple]]:
    rng = random.Random(seed)
    houses = [(f"h{index + 1:03d}", name) for index, (name, _, _) in enumerate(HOUSES)]
    perfumes: list[tuple] = []
    notes: list[tuple] = []
    used_names: set[str] = set()
    for index in range(PERFUME_COUNT):
        house_index = rng.randrange(len(HOUSES))
        _, low, high = HOUSES[house_index]
        heart = rng.choice(HEART_NOTES)
        base = rng.choice(BASE_NOTES)
        name = f"{heart.title()} {base.title()} {rng.choice(STYLES)}"
        while name in used_names:
            name = f"{name} No. {rng.randint(2, 99)}"
        used_names.add(name)
        perfume_id = f"p{index + 1:04d}"
        price = round(rng.uniform(low, high) / 5) * 5 - 0.01
        perfumes.append((perfume_id, name, houses[house_index][0], f"{price:.2f}"))
        chosen = {heart, base}
        chosen.update(rng.sample(TOP_NOTES, rng.randint(1, 2)))
        chosen.update(rng.sample(HEART_NOTES + BASE_NOTES, rng.randint(0, 3)))
        notes.extend((perfume_id, note) for note in sorted(chosen))
    return perfumes, notes, houses


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    perfumes, notes, houses = generate()
    write_csv(SEEDS_DIR / "houses.csv", ("house_id", "name"), houses)
    write_csv(SEEDS_DIR / "perfumes.csv", ("perfume_id", "name", "house_id", "price_usd"), perfumes)
    write_csv(SEEDS_DIR / "perfume_notes.csv", ("perfume_id", "note"), notes)
    print(f"wrote {len(houses)} houses, {len(perfumes)} perfumes, {len(notes)} perfume notes to {SEEDS_DIR}")


if __name__ == "__main__":
    main()
