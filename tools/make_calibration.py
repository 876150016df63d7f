"""Fit the shipped error model: `python -m tools.make_calibration [--clients 400 --seed 2026]`.

Why synthetic: no real client's data may ship in the repository, so the default model is
fitted on bench.synthetic client-years (a seed the benchmark never tests on). A team with
its own history re-fits it from its store (`python -m core calibrate`), and the Assumptions
page says which pool the model in use came from.
"""
from __future__ import annotations

import argparse

from bench.calibration import spend_year
from bench.synthetic import client_years
from core.calibration import fit
from core.error_model import DEFAULT_PATH

if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m tools.make_calibration")
    ap.add_argument("--clients", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    model = fit([spend_year(c) for c in client_years(a.clients, a.seed)], f"synthetic pool (seed {a.seed})")
    DEFAULT_PATH.write_text(model.to_json(), encoding="utf-8")
    print(f"{DEFAULT_PATH}: {model.client_years} client-years")
