"""The demo client, loaded on first start so a new user sees a full dashboard."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from core.accounts import accounts_of_upload
from core.columns import layout_key, map_headers
from core.ingest import canonical_cells, prepare_spend, read_table_in_process
from core.policy import DEFAULT_POLICY, load_policy
from core.scenario import ClientIn, terms_from_client

from . import repo

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
DEMO_NAME = "富达食品 (demo)"


def ensure_demo(engine: Engine) -> None:
    """Create the demo client with its 2024 spend and classification if there are no clients."""
    if repo.list_clients(engine):
        return
    scenario = json.loads((DEMO_DIR / "client.json").read_text(encoding="utf-8"), parse_float=Decimal)
    policy = load_policy(scenario.get("policy", DEFAULT_POLICY))
    terms_from_client(ClientIn.model_validate(scenario["client"]), policy)  # validate before storing
    inputs = json.loads(json.dumps(scenario["client"], default=str))
    client = repo.create_client(engine, DEMO_NAME, inputs, None, policy.name)
    for i, name in enumerate(("spend_2024.csv", "spend_2023.csv")):  # 2023: the comparison year
        data = (DEMO_DIR / name).read_bytes()
        table = read_table_in_process(data, name)  # our own shipped files: no worker (and no fork server start) needed
        mapping = map_headers(table.headers)
        parsed, given = prepare_spend(table, mapping, policy)
        if i == 0:
            repo.save_classification(engine, client.id, accounts_of_upload(parsed.rows, given, canonical_cells(table, mapping)[0]))
        repo.import_batch(engine, client.id, name, hashlib.sha256(data).hexdigest(), parsed.rows, given,
                          layout_key=layout_key(table.headers))
