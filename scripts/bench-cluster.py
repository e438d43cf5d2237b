#!/usr/bin/env python3
"""`just bench-cluster`: figures of a local cluster (scripts/cluster.sh).

1. Requests/s and p99 of the starter project's 3-stage pre-register
   pipeline through nginx, with one node and with three nodes (wrk -t2
   -c16, same run), and straight to one node without the balancer.
2. Time for a change made through node 1 to be served by nodes 2 and 3:
   p50 and max over N changes (each a new source for one function, polled
   on both other nodes every 2 ms).
3. Ready time of a node started against a store holding F functions
   (created through the API first; their snapshots are in the store), and
   how many it compiled (`authpipe_snapshot_compilations_total`).

Usage: bench-cluster.py [--changes N] [--functions F] [--seconds S]
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/authpipe")
PROJECT = os.path.join(ROOT, "examples/starter-project")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def consecutive_ports(n):
    while True:
        base = free_port()
        ok = True
        for i in range(1, n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + i))
                except OSError:
                    ok = False
        if ok and base + n < 65000:
            return base


class Cluster:
    def __init__(self, nodes, store=None, cache="shared"):
        self.dir = tempfile.mkdtemp(prefix="authpipe-bench-cluster-")
        self.lb, self.node_base, self.pg = free_port(), consecutive_ports(nodes), free_port()
        env = dict(os.environ, AUTHPIPE_CLUSTER_DIR=self.dir, AUTHPIPE_CLUSTER_NODES=str(nodes),
                   AUTHPIPE_CLUSTER_LB_PORT=str(self.lb), AUTHPIPE_CLUSTER_NODE_PORT=str(self.node_base),
                   AUTHPIPE_CLUSTER_PG_PORT=str(self.pg), AUTHPIPE_BIN=BIN, AUTHPIPE_CLUSTER_CACHE=cache)
        if store:
            env["AUTHPIPE_CLUSTER_STORE"] = store
        self.env = env
        subprocess.run(["bash", os.path.join(ROOT, "scripts/cluster.sh"), "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        self.token = open(os.path.join(self.dir, "admin.token")).read().strip()
        self.url = f"http://127.0.0.1:{self.lb}"
        self.store = open(os.path.join(self.dir, "store.url")).read().strip()

    def node(self, i):
        return f"http://127.0.0.1:{self.node_base + i}"

    def down(self):
        subprocess.run(["bash", os.path.join(ROOT, "scripts/cluster.sh"), "down"], env=self.env, stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def call(base, method, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def deploy_starter(cluster):
    call(cluster.url, "POST", "/v1/tenants", cluster.token, {"id": "demo", "name": "Demo"})
    subprocess.run([BIN, "deploy", "--url", cluster.url, "--tenant", "demo", "--config", os.path.join(PROJECT, "authpipe.toml")],
                   env=dict(os.environ, AUTHPIPE_TOKEN=cluster.token), check=True, stdout=subprocess.DEVNULL)


def wrk(url, token, seconds):
    body = open(os.path.join(PROJECT, "requests/pre-register.json")).read().strip()
    script = os.path.join(tempfile.mkdtemp(), "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.headers["Authorization"] = "Bearer %s"\n'
                'done = function(s, latency, r) io.write(string.format("P99_US=%%d ERRORS=%%d\\n", latency:percentile(99), '
                's.errors.status + s.errors.connect + s.errors.read + s.errors.timeout)) end\n' % (body, token))
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", script, url + "/v1/tenants/demo/pipelines/pre-register"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = int(re.search(r"P99_US=(\d+)", out).group(1))
    errors = int(re.search(r"ERRORS=(\d+)", out).group(1))
    return rps, p99, errors


def mark(tag):
    return "function pipe(user, context, callback) { user.trail = ['%s']; callback(null, user, context) }" % tag


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    # 1. One node on SQLite, one on Postgres (straight and behind nginx),
    #    then three behind nginx (each with its own compiled-code cache,
    #    as on separate machines).
    results = {}
    sqlite_dir = tempfile.mkdtemp(prefix="authpipe-bench-sqlite-")
    single = Cluster(1, store=os.path.join(sqlite_dir, "authpipe.db"))
    try:
        deploy_starter(single)
        results["sqlite"] = wrk(single.node(0), single.token, args.seconds)
    finally:
        single.down()
        shutil.rmtree(sqlite_dir, ignore_errors=True)
    single = Cluster(1)
    try:
        deploy_starter(single)
        results["direct"] = wrk(single.node(0), single.token, args.seconds)
        results[1] = wrk(single.url, single.token, args.seconds)
    finally:
        single.down()
    three = Cluster(3, cache="per-node")
    deploy_starter(three)
    results[3] = wrk(three.url, three.token, args.seconds)
    print(f"throughput (3-stage pre-register pipeline, wrk -t2 -c16 -d{args.seconds}s, one 2-core machine)")
    for name, key in [("1 node, SQLite", "sqlite"), ("1 node, Postgres", "direct"), ("1 node + nginx, Postgres", 1), ("3 nodes + nginx, Postgres", 3)]:
        rps, p99, errors = results[key]
        print(f"  {name:26} {rps:9.0f} req/s   p99 {p99 / 1000:7.2f} ms   errors {errors}")
    print(f"  3 nodes / 1 node behind nginx: {results[3][0] / results[1][0]:.2f}; "
          f"nginx overhead: {1 - results[1][0] / results['direct'][0]:.0%}; "
          f"Postgres vs SQLite (1 node): {results['direct'][0] / results['sqlite'][0]:.2f}")

    # 2. Changes through node 1, served by nodes 2 and 3.
    try:
        token = three.token
        call(three.node(0), "POST", "/v1/tenants/demo/functions", token, {"name": "probe", "source": mark("v0"), "triggers": ["post-register"]})
        delays = []
        for i in range(1, args.changes + 1):
            tag = f"v{i}"
            status, _ = call(three.node(0), "PATCH", "/v1/tenants/demo/functions/probe", token, {"source": mark(tag)})
            assert status == 200, status
            started = time.monotonic()
            pending = {1, 2}
            while pending:
                for n in list(pending):
                    _, result = call(three.node(n), "POST", "/v1/tenants/demo/functions/probe/invoke", token, {"user": {}, "context": {}})
                    if result and result.get("user", {}).get("trail") == [tag]:
                        pending.discard(n)
                if time.monotonic() - started > 10:
                    sys.exit(f"change {tag} did not reach nodes {pending} within 10 s")
                time.sleep(0.002)
            delays.append(time.monotonic() - started)
        delays.sort()
        print(f"change to all nodes over {len(delays)} changes (PATCH acknowledged on node 1 -> served by nodes 2 and 3): "
              f"p50 {delays[len(delays) // 2] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")

        # 3. A new node against a store of F functions.
        call(three.node(0), "POST", "/v1/tenants", token, {"id": "many", "name": "Many", "quotas": {"max_functions": args.functions}})
        started = time.monotonic()
        for i in range(args.functions):
            status, body = call(three.node(i % 3), "POST", "/v1/tenants/many/functions", token,
                                {"name": f"f{i:04}", "source": mark(f"f{i}"), "triggers": ["post-register"]})
            assert status == 201, body
        print(f"created {args.functions} functions through 3 nodes in {time.monotonic() - started:.0f} s")
        port = free_port()
        cache = tempfile.mkdtemp(prefix="authpipe-bench-cache-")
        env = dict(os.environ, AUTHPIPE_ADMIN_TOKEN=token, AUTHPIPE_MASTER_KEY=open(os.path.join(three.dir, "master.key")).read().strip(),
                   AUTHPIPE_NODE_ID="late", AUTHPIPE_CACHE_DIR=cache)
        for label, cache_state in [("empty machine-code cache", "cold"), ("warm machine-code cache", "warm")]:
            started = time.monotonic()
            node = subprocess.Popen([BIN, "serve", "--store", three.store, "--listen", f"127.0.0.1:{port}"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            line = ""
            while "listening on" not in line:
                line = node.stderr.readline()
                if not line and node.poll() is not None:
                    sys.exit("the new node exited")
            ready = time.monotonic() - started
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
            compiled = re.search(r"^authpipe_snapshot_compilations_total (\d+)", metrics, re.M).group(1)
            functions = re.search(r"^authpipe_functions_deployed (\d+)", metrics, re.M).group(1)
            print(f"new node ready ({label}): {ready:.2f} s with {functions} functions served, {compiled} compiled")
            node.terminate()
            node.wait()
        shutil.rmtree(cache, ignore_errors=True)
    finally:
        three.down()


if __name__ == "__main__":
    main()
