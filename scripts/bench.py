#!/usr/bin/env python3
"""`just bench`: per-call figures of authpipe, side by side with a peer.

1. `authpipe bench` on the DESIGN example function (email allow-list) and
   its 126-byte input: p50/p90/p99, fuel, pages written per call.
2. The same function on the same input in native QuickJS with a fresh
   context per call (the python `quickjs` package), measured in the same
   run, and the ratio of the two p50s.
3. Growth: the same function on realistic user profiles of about 1, 10 and
   100 KB (identities, app/user metadata, login history), and pipelines of
   1, 3 and 10 stages of it on the 1 KB profile.

Usage: scripts/bench.py [CALLS]   (AUTHPIPE_BIN overrides the binary)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("AUTHPIPE_BIN", os.path.join(ROOT, "target/release/authpipe"))
EXAMPLE = os.path.join(ROOT, "examples/email-domain-allowlist")
ENV = {"ALLOWED_DOMAIN": "example.com"}


def authpipe_bench(source, input_path, calls, stages=1):
    args = [BIN, "bench", source, "--input", input_path, "-n", str(calls), "--json",
            "--stages", str(stages)]
    for key, value in ENV.items():
        args += ["--env", f"{key}={value}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def quickjs_fresh_context(source, input_bytes, calls):
    """p50 in µs of: new context, evaluate the function, call it on the
    parsed input, serialise what it passed to callback."""
    try:
        import quickjs  # noqa: PLC0415
    except ImportError:
        return None
    prologue = "const env = %s;\n" % json.dumps(ENV)
    call = """
      (function (raw) {
        const input = JSON.parse(raw);
        const user = input.user, context = input.context;
        const claims = {};
        user.addIdToken = (k, v) => { claims[k] = v; };
        let out = null;
        const done = pipe(user, context, (err, u, c) => {
          out = err ? JSON.stringify({ outcome: 'deny', error: String(err.message) })
                    : JSON.stringify({ outcome: 'allow', user: u, context: c, claims });
        });
        return out;
      })
    """
    raw = input_bytes.decode()
    samples = []
    for i in range(calls + 200):
        started = time.perf_counter()
        ctx = quickjs.Context()
        ctx.eval(prologue + source)
        result = ctx.eval(call)(raw)
        ctx.execute_pending_job()
        elapsed = time.perf_counter() - started
        if i == 0 and (result is None or '"allow"' not in result):
            raise SystemExit(f"quickjs peer: unexpected result {result!r}")
        if i >= 200:
            samples.append(elapsed * 1e6)
    return statistics.median(samples)


def profile(target_bytes):
    """A realistic Auth0/Authing-style user of about `target_bytes`."""
    user = {
        "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
        "id": "5f7c8ec7c33c6c004bbafe82",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice Example",
        "nickname": "alice",
        "given_name": "Alice",
        "family_name": "Example",
        "picture": "https://s.gravatar.com/avatar/2f1c4a3b5e6d7f8a9b0c1d2e3f4a5b6c?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fal.png",
        "created_at": "2024-03-01T09:12:44.120Z",
        "updated_at": "2026-11-28T17:03:12.551Z",
        "last_login": "2026-11-28T17:03:12.551Z",
        "last_ip": "203.0.113.7",
        "logins_count": 0,
        "identities": [],
        "app_metadata": {"roles": ["member"], "plan": "team", "tenant": "acme", "flags": {}},
        "user_metadata": {"locale": "en-US", "timezone": "Europe/Berlin", "preferences": {}},
        "login_history": [],
    }
    providers = ["google-oauth2", "github", "windowslive", "auth0", "linkedin"]
    i = 0
    while len(json.dumps(user)) < target_bytes:
        if i % 3 == 0:
            provider = providers[i % len(providers)]
            user["identities"].append({
                "provider": provider,
                "user_id": f"{10**17 + i * 7919}",
                "connection": provider,
                "isSocial": provider != "auth0",
                "profileData": {"email": f"alice+{i}@example.com", "name": "Alice Example",
                                "locale": "en", "picture": f"https://example.com/a/{i}.png"},
            })
        elif i % 3 == 1:
            user["login_history"].append({
                "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T08:{i % 60:02d}:00.000Z",
                "ip": f"198.51.100.{i % 250}",
                "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
                "client_id": "k5u3o2fiAA8XweXEEX604KCwCjzjtMU6",
                "success": i % 7 != 0,
            })
        else:
            user["app_metadata"]["flags"][f"feature_{i}"] = {"enabled": i % 2 == 0, "since": 1700000000 + i}
            user["user_metadata"]["preferences"][f"pref_{i}"] = f"value-{i}-" + "x" * (i % 24)
        user["logins_count"] += 1
        i += 1
    return {
        "user": user,
        "context": {
            "request": {"body": {"email": "alice@example.com"}, "ip": "203.0.113.7",
                        "headers": {"user-agent": "Mozilla/5.0"}},
            "app": {"id": "k5u3o2fiAA8XweXEEX604KCwCjzjtMU6", "name": "Console"},
        },
    }


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    source_path = EXAMPLE + ".js"
    input_path = EXAMPLE + ".input.json"
    source = open(source_path).read()
    input_bytes = open(input_path, "rb").read()

    print("== authpipe bench: the DESIGN example function, fresh instance per call")
    subprocess.run([BIN, "bench", source_path, "--input", input_path, "-n", str(calls)]
                   + [f"--env={k}={v}" for k, v in ENV.items()], check=True)
    ours = authpipe_bench(source_path, input_path, calls)
    peer = quickjs_fresh_context(source, input_bytes, max(2000, calls // 10))
    print()
    print("== side by side (same run, same function, same %d-byte input)" % len(input_bytes))
    print(f"authpipe (wasm sandbox, fresh instance)   p50 {ours['p50_us']:8.1f} µs   fuel {ours['fuel_per_call']}")
    if peer is None:
        print("error: python quickjs is not installed (`just setup` installs it): no peer figure",
              file=sys.stderr)
    else:
        print(f"native QuickJS (python quickjs), fresh context   p50 {peer:8.1f} µs")
        print(f"ratio: authpipe is {peer / ours['p50_us']:.1f}x the peer (target >= 10x)")

    print()
    print("== growth: the same function (reads two fields), realistic user profiles and longer pipelines")
    print(f"{'case':<28}{'input':>10}{'p50 µs':>10}{'p99 µs':>10}{'fuel':>12}{'µs/KB':>8}")
    growth_calls = max(500, calls // 10)
    with tempfile.TemporaryDirectory() as work:
        inputs = {}
        for kb in (1, 10, 100):
            path = os.path.join(work, f"user-{kb}k.json")
            with open(path, "w") as f:
                json.dump(profile(kb * 1024), f)
            inputs[kb] = path
        for kb in (1, 10, 100):
            r = authpipe_bench(source_path, inputs[kb], growth_calls)
            size = r["input_bytes"]
            print(f"{'user ' + str(kb) + ' KB, 1 stage':<28}{size:>10}{r['p50_us']:>10.1f}{r['p99_us']:>10.1f}"
                  f"{r['fuel_per_call']:>12}{r['p50_us'] / (size / 1024):>8.1f}")
        for stages in (1, 3, 10):
            r = authpipe_bench(source_path, inputs[1], growth_calls, stages)
            per_stage = r["p50_us"] / stages
            print(f"{'user 1 KB, ' + str(stages) + ' stages':<28}{r['input_bytes']:>10}{r['p50_us']:>10.1f}"
                  f"{r['p99_us']:>10.1f}{r['fuel_per_call']:>12}   {per_stage:.1f} µs/stage")
    if peer is None:
        sys.exit(1)


if __name__ == "__main__":
    main()
