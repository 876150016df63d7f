"""The demo client, loaded on first start so a new user sees a full dashboard."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from core.accounts import accounts_table
from core.columns import layout_key, map_headers
from core.ingest import canonical_cells, prepare_spend, read_table
from core.scenario import ClientIn, terms_from_client
from core.policy import load_policy

from . import repo

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
DEMO_NAME = "富达食品 (demo)"


def ensure_demo(engine: Engine) -> None:
    """Create the demo client with its 2024 spend and classification if there are no clients."""
    if repo.list_clients(engine):
        return
    scenario = json.loads((DEMO_DIR / "client.json").read_text(encoding="utf-8"), parse_float=Decimal)
    policy = load_policy(scenario.get("policy", "ocean_engine_2024"))
    terms_from_client(ClientIn.model_validate(scenario["client"]), policy)  # validate before storing
    data = (DEMO_DIR / "spend_2024.csv").read_bytes()
    table = read_table(data, "spend_2024.csv")
    mapping = map_headers(table.headers)
    parsed, given = prepare_spend(table, mapping, policy)
    cells = canonical_cells(table, mapping)[0]
    inputs = json.loads(json.dumps(scenario["client"], default=str))
    client = repo.create_client(engine, DEMO_NAME, inputs, None, policy.name)
    repo.save_classification(engine, client.id, accounts_table(cells))
    repo.import_batch(engine, client.id, "spend_2024.csv", hashlib.sha256(data).hexdigest(), parsed.rows, given,
                      layout_key=layout_key(table.headers))
