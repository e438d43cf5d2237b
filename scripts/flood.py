#!/usr/bin/env python3
"""Attack figures for `authpipe serve`: normal-request success rate and
latency during a disconnect flood and during a slow-body flood, RSS after
each, and how long timeouts of 100/1000/3000 ms really take, idle and with
cores x 4 concurrent spinning calls.

Usage: scripts/flood.py [path/to/authpipe] [seconds per flood]
Prints a table; exits non-zero only if the server cannot start.
FLOOD_PLAIN_CONFIG=1 leaves out settings older builds do not know.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

AUTHPIPE = sys.argv[1] if len(sys.argv) > 1 else "target/release/authpipe"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
INPUT = b'{"user":{"id":"u1","email":"alice@example.com"},"context":{"request":{"ip":"10.0.0.1"}}}'
SPIN = "function pipe(u, c, cb) { const b = new Uint8Array(65536); while (true) { crypto.getRandomValues(b); } }"
FAST = "function pipe(u, c, cb) { u.seen = true; cb(null, u, c) }"


def project():
    root = tempfile.mkdtemp(prefix="authpipe-flood-")
    os.makedirs(os.path.join(root, "functions"))
    for name, source in [("spin", SPIN), ("fast", FAST)]:
        with open(os.path.join(root, "functions", name + ".js"), "w") as f:
            f.write(source)
    functions = ""
    for ms in (100, 1000, 3000):
        functions += f'''
[[function]]
name = "spin{ms}"
source = "functions/spin.js"
timeout_ms = {ms}
fuel = 10000000000
'''
    with open(os.path.join(root, "authpipe.toml"), "w") as f:
        f.write(f'''
[server]
max_concurrent_invocations = 64
{"" if os.environ.get("FLOOD_PLAIN_CONFIG") else "body_timeout_ms = 5000"}

[[function]]
name = "fast"
source = "functions/fast.js"
{functions}''')
    return root


def start(root):
    server = subprocess.Popen(
        [AUTHPIPE, "serve", "--config", os.path.join(root, "authpipe.toml"), "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "AUTHPIPE_LOG": "error"},
    )
    for line in server.stderr:
        if line.startswith("authpipe: listening on http://"):
            host, port = line.split("http://")[1].split()[0].split(":")
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            return server, (host, int(port))
    sys.exit("the server did not start")


def rss_mib(server):
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def request(path, body=INPUT, close=True):
    extra = "Connection: close\r\n" if close else ""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def call(addr, path, timeout=30):
    """One request on its own connection: (status, body, seconds)."""
    started = time.monotonic()
    try:
        with socket.create_connection(addr, timeout=timeout) as s:
            s.sendall(request(path))
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return 0, "", time.monotonic() - started
    took = time.monotonic() - started
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace"), took


def normal_traffic(addr, until):
    results = []
    while time.monotonic() < until:
        status, body, took = call(addr, "/v1/functions/fast/invoke")
        ok = status == 200 and '"outcome":"allow"' in body
        results.append((ok, took, "concurrent limit" in body, status if not ok else None))
    return results


def summary(results):
    if not results:
        return "no requests"
    ok = sum(1 for r in results if r[0])
    times = sorted(r[1] for r in results)
    p50 = times[len(times) // 2] * 1000
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    leaked = sum(1 for r in results if r[2])
    failed = {}
    for r in results:
        if r[3] is not None:
            failed[r[3]] = failed.get(r[3], 0) + 1
    others = ", ".join(f"{n}x status {s or 'none'}" for s, n in sorted(failed.items()))
    return (f"{ok}/{len(results)} ok ({100 * ok / len(results):.1f}%), p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"pool errors {leaked}" + (f", not ok: {others}" if others else ""))


def disconnect_flood(addr, until):
    def attacker():
        while time.monotonic() < until:
            try:
                s = socket.create_connection(addr)
                s.sendall(request("/v1/functions/spin3000/invoke"))
                time.sleep(0.02)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            except OSError:
                time.sleep(0.01)
    threads = [threading.Thread(target=attacker) for _ in range(16)]
    for t in threads:
        t.start()
    return threads


def slow_body_flood(addr, count):
    half = b" " * (512 * 1024)
    sockets = []
    for _ in range(count):
        try:
            s = socket.create_connection(addr)
            s.sendall(b"POST /v1/functions/fast/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048000\r\n\r\n")
            s.setblocking(False)
            try:
                s.send(half)
            except OSError:
                pass
            sockets.append(s)
        except OSError:
            pass
    return sockets


def timeout_durations(addr, concurrent):
    rows = []
    for ms in (100, 1000, 3000):
        out = []

        def one():
            status, body, took = call(addr, f"/v1/functions/spin{ms}/invoke")
            stage = json.loads(body)["stages"][0] if status == 200 else {}
            out.append((took * 1000, stage.get("duration_us", 0) / 1000))
        threads = [threading.Thread(target=one) for _ in range(concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        worst_http = max(o[0] for o in out)
        worst_stage = max(o[1] for o in out)
        rows.append(f"  timeout {ms:>4} ms x{concurrent:<2}: worst stage {worst_stage:8.1f} ms (+{100 * (worst_stage / ms - 1):.1f}%), worst HTTP {worst_http:8.1f} ms")
    return rows


def main():
    root = project()
    server, addr = start(root)
    try:
        time.sleep(0.5)
        for _ in range(50):
            call(addr, "/v1/functions/fast/invoke")
        base_rss = rss_mib(server)
        print(f"authpipe flood figures ({AUTHPIPE}, {SECONDS:.0f} s per flood)")
        print(f"  RSS at rest: {base_rss:.0f} MiB")
        print("  quiet:           " + summary(normal_traffic(addr, time.monotonic() + 2)))

        until = time.monotonic() + SECONDS
        attackers = disconnect_flood(addr, until)
        during = normal_traffic(addr, until)
        for t in attackers:
            t.join()
        time.sleep(1)
        print("  disconnect flood: " + summary(during))
        print(f"  RSS after the disconnect flood: {rss_mib(server):.0f} MiB")

        sockets = slow_body_flood(addr, 1000)
        peak = rss_mib(server)
        during = normal_traffic(addr, time.monotonic() + min(SECONDS, 4))
        peak = max(peak, rss_mib(server))
        print(f"  slow-body flood ({len(sockets)} connections, 512 KiB of 1 MB sent): " + summary(during))
        for s in sockets:
            s.close()
        time.sleep(6)
        print(f"  RSS: peak {peak:.0f} MiB, {rss_mib(server):.0f} MiB after the flood")

        cores = os.cpu_count() or 2
        for line in timeout_durations(addr, 1) + timeout_durations(addr, cores * 4):
            print(line)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
