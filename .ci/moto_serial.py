"""Runs moto's server on loopback handling ONE request at a time (HTTP/1.0, no keep-alive).

moto 5.2.5's threaded server (what `moto_server` runs) is not safe for concurrent DynamoDB transactions: a
TransactWriteItems copies the whole table without a lock (concurrent requests fail with 500 "dictionary changed
size during iteration"), and a cancelled transaction restores that copy, wiping writes other requests made in
between. Real DynamoDB applies each request atomically; serving requests one by one gives the tests the same
guarantee, while our clients still race exactly as they do in production.

Usage: python moto_serial.py HOST PORT
"""

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
