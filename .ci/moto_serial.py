"""Runs moto's server on loopback handling ONE request at a time (HTTP/1.0, no keep-alive).

moto 5.2.5's threaded server (what `moto_server` runs) is not safe for concurrent DynamoDB transactions: a
TransactWriteItems copies the whole table without a lock (concurrent requests fail with 500 "dictionary changed
size during iteration"), and a cancelled transaction restores that copy, wiping writes other requests made in
between. Real DynamoDB applies each request atomically; serving requests one by one gives the tests the same
guarantee, while our clients still race exactly as they do in production.

It also makes moto's TransactWriteItems rollback proportional to the transaction instead of the table. Stock moto
deep-copies every table a transaction names before applying it (and assigns the copy back on cancellation), so each
claim cost ~70 us per stored item and a 1,000-schedule burst took minutes and gigabytes. A transaction can only change
the items it names, so snapshotting exactly those items and restoring them on failure is the same rollback; with
requests served one at a time nothing else can interleave. `check_rollback()` below proves it on every start.

With MOTO_PROFILE=FILE set, it counts requests and the time moto spent on them per operation (X-Amz-Target) and
writes the table to FILE when stopped (SIGTERM, as `.ci/moto.sh stop` sends) or on SIGUSR1.

Usage: python moto_serial.py HOST PORT
"""

import collections
import copy
import os
import signal
import sys
import time
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class _NoTableCopies:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are no longer deep-copied (the rollback
    below restores the items a transaction touched); everything else is copied as before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_stock_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    before = []
    for entry in transact_items:
        try:
            ((_, op),) = entry.items()
            table = self.get_table(op["TableName"])
            hash_key, range_key = self.get_keys_value(table, op["Item"] if "Item" in op else op["Key"])
        except Exception:  # malformed entries are reported by moto itself, below
            continue
        before.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        _stock_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(before):
            if item is None:
                table.delete_item(hash_key, range_key)
            elif range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        raise


def patch_transactions() -> None:
    dynamodb_models.copy = _NoTableCopies()  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


def check_rollback() -> None:
    """A cancelled transaction leaves the table exactly as it was: an earlier put in the same transaction is undone,
    an updated item gets its old attributes back, and items the transaction did not name are untouched."""
    backend = DynamoDBBackend("us-east-1", "000000000000")
    backend.create_table(
        "rollback-check",
        schema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        throughput=None,
        attr=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
        global_indexes=None,
        indexes=None,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    table = backend.get_table("rollback-check")

    def item(pk: str, sk: str, **attrs: str) -> dict[str, Any]:
        return {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}

    def snapshot() -> list[Any]:
        return sorted(str(i.to_json()) for i in table.all_items())

    table.put_item(item("a", "1", v="old"))
    table.put_item(item("b", "1", v="keep"))
    expected = snapshot()
    cancelled = False
    try:
        backend.transact_write_items(
            [
                {"Put": {"TableName": "rollback-check", "Item": item("c", "1", v="new")}},
                {
                    "Update": {
                        "TableName": "rollback-check",
                        "Key": {"PK": {"S": "a"}, "SK": {"S": "1"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "changed"}},
                    }
                },
                {
                    "Put": {
                        "TableName": "rollback-check",
                        "Item": item("d", "1"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    except Exception as error:
        cancelled = type(error).__name__ == "TransactionCanceledException"
    if not cancelled or snapshot() != expected:
        raise SystemExit(f"moto_serial: transaction rollback check failed: {snapshot()} != {expected}")


def profiled(app: Any, path: str) -> Any:
    """Wraps the WSGI app to account moto's time per operation; see the module doc."""
    stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    def write(*_: Any) -> None:
        with open(path, "w") as out:
            out.write(f"{'operation':<40} {'requests':>9} {'total s':>9} {'ms each':>8}\n")
            for name, (count, seconds) in sorted(stats.items(), key=lambda kv: -kv[1][1]):
                out.write(f"{name:<40} {count:>9.0f} {seconds:>9.2f} {1000 * seconds / count:>8.2f}\n")

    def stop(*_: Any) -> None:
        write()
        sys.exit(0)

    signal.signal(signal.SIGUSR1, write)
    signal.signal(signal.SIGTERM, stop)

    def wrapped(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        name = environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO", "?")
        started = time.perf_counter()
        try:
            return list(app(environ, start_response))
        finally:
            entry = stats[name.split(".")[-1]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    return wrapped


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    patch_transactions()
    check_rollback()
    app = DomainDispatcherApplication(create_backend_app)
    if profile := os.environ.get("MOTO_PROFILE"):
        app = profiled(app, profile)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
