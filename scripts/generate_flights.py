"""Write flights.csv: 1,000 flights among the seed's ten Indian cities, 2027-01-01 to 2027-01-30 (IST).

Deterministic (fixed seed and start date), so the file is reproducible and stays in the future:
    python scripts/generate_flights.py [--out flights.csv] [--start 2027-01-01] [--days 30] [--count 1000]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.bulk_import.demo_data import schedule, to_csv


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "flights.csv")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2027, 1, 1))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    args.out.write_text(to_csv(schedule(args.start, args.days, args.count, args.seed)), encoding="utf-8")
    print(f"wrote {args.count} flights to {args.out}")


if __name__ == "__main__":
    main()
