#!/usr/bin/env python3
"""Round trip of small HTTP requests to one running `seaway serve` (bench/).

Not a comparison with a peer: a check of what Seaway itself adds to the smallest requests
(docs/BENCHMARKS.md, "One io_context per listener thread"), to compare two builds on one
machine, alternated. With --floor, the same client against a minimal HTTP server in a process of
its own (Python, answers 204 to anything): about what the client and the kernel cost alone.

  bench/http_round_trip.py --port 8080 --token TOKEN [--requests 3000] [--floor]

Loads 36,000 rows (50 series, 720 timestamps 10 s apart) into table `m` of database `main`
unless it already holds them, then times, each on one keep-alive connection with
bench/sql_query.py's socket client after 200 warm-up requests: GET /ping, GET /health,
POST /api/v1/sql `SELECT 1`, and one series' hour in 5-minute buckets. Prints the median and
the 10th and 90th percentiles in microseconds. The standard library only.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sql_query import SocketConnection  # noqa: E402

START_S = 1767225600  # 2026-01-01T00:00:00Z
SERIES, TIMESTAMPS = 50, 720
ONE_SERIES_HOUR = ("SELECT time_bucket('5m', time) AS t, max(temperature) FROM m "
                   "WHERE machine_id = 'm0042' AND time >= '2026-01-01T00:30:00Z' "
                   "AND time < '2026-01-01T01:30:00Z' GROUP BY t ORDER BY t")


def timed(port, method, path, body, headers, n):
    c = SocketConnection("127.0.0.1", port, 10)
    for _ in range(200):
        c.request(method, path, body, headers)
        c.getresponse().read()
    times = []
    status = 0
    for _ in range(n):
        t = time.perf_counter_ns()
        c.request(method, path, body, headers)
        status = c.getresponse().status
        times.append(time.perf_counter_ns() - t)
    c.close()
    times.sort()
    return status, times[n // 2] / 1e3, times[n // 10] / 1e3, times[9 * n // 10] / 1e3


def serve_floor():
    """Runs a minimal HTTP/1.1 server answering 204 on a free port (prints the port first)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    print(listener.getsockname()[1], flush=True)

    def serve(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                _, _, buf = buf.partition(b"\r\n\r\n")
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--token", default=os.environ.get("SEAWAY_ADMIN_TOKEN", ""))
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--floor", action="store_true")
    ap.add_argument("--floor-server", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor_server:
        return serve_floor()
    if not args.token:
        sys.exit("http_round_trip: --token (or SEAWAY_ADMIN_TOKEN) is needed")
    auth = {"Authorization": "Token " + args.token}
    sql = dict(auth, **{"Content-Type": "application/json"})

    c = SocketConnection("127.0.0.1", args.port, 30)
    count = json.dumps({"query": "SELECT count(*) FROM m"}).encode()
    c.request("POST", "/api/v1/sql", count, sql)
    r = c.getresponse()
    held = json.loads(r.read())["rows"][0][0] if r.status == 200 else 0
    if held != SERIES * TIMESTAMPS:
        lines = "\n".join(
            "m,machine_id=m%04d temperature=%d.5 %d" % (i % SERIES, i % 70,
                                                       (START_S + (i // SERIES) * 10) * 10**9)
            for i in range(SERIES * TIMESTAMPS)).encode()
        c.request("POST", "/write?db=main", lines, auth)
        r = c.getresponse()
        if r.status != 204:
            sys.exit("http_round_trip: loading failed: %d %s" % (r.status, r.read()[:200]))
    c.close()

    cases = [("GET /ping", "GET", "/ping", b"", {}),
             ("GET /health", "GET", "/health", b"", {}),
             ("SQL SELECT 1", "POST", "/api/v1/sql",
              json.dumps({"query": "SELECT 1"}).encode(), sql),
             ("SQL one series' hour", "POST", "/api/v1/sql",
              json.dumps({"query": ONE_SERIES_HOUR}).encode(), sql)]
    print("%-22s %6s %10s %8s %8s" % ("request", "status", "median us", "p10", "p90"))
    for name, method, path, body, headers in cases:
        status, median, p10, p90 = timed(args.port, method, path, body, headers, args.requests)
        print("%-22s %6d %10.1f %8.1f %8.1f" % (name, status, median, p10, p90))
    if args.floor:
        server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--floor-server"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline())
            status, median, p10, p90 = timed(port, "GET", "/ping", b"", {}, args.requests)
            print("%-22s %6d %10.1f %8.1f %8.1f" % ("floor (Python server)", status, median, p10,
                                                   p90))
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
