"""The portfolio beyond one machine: every client's row stage as a Dask task.

Why it can: a client's position depends on its own rows and terms only (the portfolio's
group-by never mixes clients), so the same `run_portfolio` run on one client's rows gives
that client's row of the table. The rows are written once as Parquet partitioned by client
(`client=<id>/…`); each task reads its own partition, so with `--scheduler ADDRESS` the
workers of a cluster only need the directory on shared storage (NFS, or an object store
path that pyarrow can read). Without an address a `LocalCluster` of worker processes runs
on this machine. The table is the in-process one, row for row (tests/test_portfolio.py).
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .policy import Policy
from .portfolio import PortfolioClient, refuse_errors, run_portfolio
from .spend import SpendParse


def write_partitioned(rows: pd.DataFrame, directory: Path) -> Path:
    """The validated rows as Parquet, one directory per client (hive-style partitioning)."""
    table = pa.Table.from_pandas(rows.assign(client=rows["client"].astype(str)), preserve_index=False)
    ds.write_dataset(table, directory, format="parquet", partitioning=["client"], partitioning_flavor="hive",
                     existing_data_behavior="overwrite_or_ignore")
    return directory


def clients_table(directory: str, clients: list[PortfolioClient], policy: Policy, as_of: dt.date, project: bool) -> pd.DataFrame:
    """One task: these clients' partitions through the in-process engine."""
    names = [c.client for c in clients]
    part = pq.read_table(directory, filters=[("client", "in", names)], partitioning="hive").to_pandas()
    rows = part.assign(client=part["client"].astype(str).astype("category"))
    return run_portfolio(clients, SpendParse(rows, (), len(rows)), policy, as_of, project=project).table


def chunks(clients: list[PortfolioClient], workers: int) -> list[list[PortfolioClient]]:
    """About four tasks per worker: enough to balance uneven clients, few enough that each
    task's fixed cost (a pandas pass, a Parquet read) stays small beside its work."""
    n = max(1, min(len(clients), 4 * max(workers, 1)))
    return [clients[i::n] for i in range(n) if clients[i::n]]


def portfolio_on_dask(clients: list[PortfolioClient], spend: SpendParse, policy: Policy, as_of: dt.date,
                      project: bool = False, scheduler: str | None = None) -> pd.DataFrame:
    """The portfolio table with one Dask task per client (``scheduler``: a running cluster's
    address; None starts a LocalCluster here). Rows of clients missing from the clients
    file are not evaluated, exactly as in process."""
    from distributed import Client, LocalCluster

    refuse_errors(spend)  # the same refusal as in process, before any work is shipped
    with tempfile.TemporaryDirectory(prefix="rebate-portfolio-") as tmp:
        directory = str(write_partitioned(spend.rows, Path(tmp) / "spend"))
        cluster = None if scheduler else LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                      dashboard_address=None)
        try:
            with Client(scheduler or cluster) as dask:
                workers = len(dask.scheduler_info().get("workers", {}))
                futures = [dask.submit(clients_table, directory, group, policy, as_of, project, pure=False)
                           for group in chunks(clients, workers)]
                parts = dask.gather(futures)
        finally:
            if cluster is not None:
                cluster.close()
    if not parts:
        return run_portfolio([], spend, policy, as_of).table
    order = {c.client: i for i, c in enumerate(clients)}  # the clients file's order, as in process
    table = pd.concat(parts, ignore_index=True)
    return table.iloc[table["client"].map(order).argsort(kind="stable")].reset_index(drop=True)
