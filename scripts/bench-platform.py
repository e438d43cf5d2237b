#!/usr/bin/env python3
"""Store-mode figures for `just bench-http`: create-function latency (a new
source, and the same source deployed by a second tenant), the first
request after a function is deployed, and filling the store with
TENANTS x FUNCTIONS for the start-up measurement.

Usage: bench-platform.py BASE_URL ADMIN_TOKEN TENANTS FUNCTIONS
Prints one JSON object."""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

base, admin, tenants, functions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
SOURCE = open("templates/email-domain-allowlist/function.js").read()


def call(method, path, body=None, token=admin):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": "Bearer " + token, "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def create(tenant, name, source):
    started = time.perf_counter()
    status, body = call("POST", f"/v1/tenants/{tenant}/functions",
                        {"name": name, "source": source, "triggers": ["pre-register"]})
    elapsed = (time.perf_counter() - started) * 1000
    if status != 201:
        sys.exit(f"create {tenant}/{name}: {status} {body[:200]}")
    return elapsed


for tenant in ["latency-a", "latency-b"]:
    call("POST", "/v1/tenants", {"id": tenant, "quotas": {"max_functions": 1000}})
new_source, same_source = [], []
for i in range(30):
    source = SOURCE + f"\n// variant {i} {time.time()}\n"
    new_source.append(create("latency-a", f"f{i}", source))
    same_source.append(create("latency-b", f"f{i}", source))

# The first request after a deploy: a new function, then at once one
# invocation of its trigger's pipeline (the function alone in it).
call("POST", "/v1/tenants", {"id": "first-call"})
first_call = []
payload = json.dumps({"user": {"id": "u1", "email": "alice@example.com"},
                      "context": {"request": {"body": {"email": "alice@example.com"}}}}).encode()
for i in range(20):
    create("first-call", "fresh", SOURCE + f"\n// deploy {i} {time.time()}\n")
    request = urllib.request.Request(
        base + "/v1/tenants/first-call/pipelines/pre-register", method="POST", data=payload,
        headers={"authorization": "Bearer " + admin, "content-type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = response.read()
    first_call.append((time.perf_counter() - started) * 1000)
    if b'"stages"' not in body:
        sys.exit(f"first request: unexpected answer {body[:200]}")
    status, body = call("DELETE", "/v1/tenants/first-call/functions/fresh")
    if status not in (200, 204):
        sys.exit(f"delete: {status} {body[:200]}")

fill_started = time.perf_counter()
for t in range(tenants):
    tenant = f"t{t:03d}"
    call("POST", "/v1/tenants", {"id": tenant})
    for f in range(functions):
        create(tenant, f"fn{f:02d}", SOURCE + f"\n// function {f}\n")
fill_s = time.perf_counter() - fill_started

print(json.dumps({
    "create_new_source_p50_ms": round(statistics.median(new_source), 1),
    "create_same_source_p50_ms": round(statistics.median(same_source), 1),
    "first_request_after_deploy_p50_ms": round(statistics.median(first_call), 1),
    "first_request_after_deploy_max_ms": round(max(first_call), 1),
    "fill_seconds": round(fill_s, 1),
}))
