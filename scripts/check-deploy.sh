#!/usr/bin/env bash
# Checks the deployment files without a container runtime or a cluster:
#
#  1. `bash -n` on every script in scripts/.
#  2. Every YAML file under deploy/ parses (python3 + PyYAML; installed from
#     PyPI when missing).
#  3. deploy/compose.yaml: postgres with a pg_isready health check and a
#     volume, the nodes built from the Dockerfile with distinct node ids, a
#     postgres:// store and the secrets, waiting for a healthy postgres; nginx
#     publishing 8080; deploy/.env.example defines every ${VAR:?} it needs.
#  4. deploy/kubernetes/: apiVersion/kind/metadata.name everywhere; the
#     Deployment's probes (/readyz, /healthz, a startup probe), non-root
#     read-only security context without capabilities, resources, node id from
#     the downward API, secrets from the Secret, a grace period above the
#     server's drain; the Service and the PDB select the pods; the HPA targets
#     the Deployment; kustomization.yaml lists every manifest (and not the
#     example Secret). Where they can be had: the schemas of the Kubernetes API
#     (`kubernetes-validate --strict`, PyPI) and `kubectl kustomize`.
#  5. nginx: the directives the design needs in deploy/nginx.conf and in the
#     local template; the body limit equals the server's default
#     max_body_bytes; upstream keep-alive closes before the server's idle
#     timeout; `nginx -t` on the configuration `scripts/cluster.sh` generates
#     and on a copy of deploy/nginx.conf pointed at 127.0.0.1 (when nginx is
#     installed: `just setup` installs it).
#  6. The Dockerfile: at least two stages, the final one with a non-root
#     USER, no compiler or build packages, EXPOSE 8080, the entrypoint.
#
# Not available here: kubeconform and helm are on neither PyPI nor npm (the
# PyPI "helm" is an unrelated system monitor), so kubeconform's schema check is
# replaced by kubernetes-validate; `docker build` and `docker compose config`
# need a Docker daemon and the compose plugin, which this machine lacks.
#
# Exit status: 0 when every check passed, 1 otherwise (each failure is
# printed as `FAIL: …`).
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
pass() { printf 'ok:   %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
note() { printf 'skip: %s\n' "$*"; }

# 1. Shell syntax.
for script in scripts/*.sh .ci/run; do
    [ -f "$script" ] || continue
    if out=$(bash -n "$script" 2>&1); then pass "bash -n $script"; else fail "bash -n $script: $out"; fi
done

# 2-6 in Python.
if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "check-deploy: installing PyYAML"
    python3 -m pip install --quiet --disable-pip-version-check pyyaml \
        || { fail "PyYAML is missing and could not be installed (pip install pyyaml)"; exit 1; }
fi

if ! python3 - <<'PY'; then failures=$((failures + 1)); fi
import glob, os, re, sys
import yaml

failures = 0
def ok(msg): print(f"ok:   {msg}")
def bad(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")
def check(cond, msg, detail=""):
    (ok(msg) if cond else bad(msg + (f" ({detail})" if detail else "")))
    return cond

# Facts of the server, read from its source so the files cannot drift.
def rust_const(path, pattern):
    text = open(path).read()
    m = re.search(pattern, text)
    return m.group(1) if m else None
def rust_int(expr):
    expr = expr.strip().replace("_", "")
    m = re.fullmatch(r"(\d+)\s*<<\s*(\d+)", expr)
    return int(m.group(1)) << int(m.group(2)) if m else int(expr)
max_body = rust_int(rust_const("crates/authpipe/src/limits.rs", r"pub const MAX_INPUT_BYTES: usize = ([^;]+);"))
def secs(name):
    return int(rust_const("crates/authpipe-server/src/config.rs",
                          rf"pub const {name}: Duration = Duration::from_secs\((\d+)\);"))
shutdown_grace, async_grace, idle_timeout = secs("DEFAULT_SHUTDOWN_GRACE"), secs("DEFAULT_ASYNC_GRACE"), secs("DEFAULT_IDLE_TIMEOUT")
drain = shutdown_grace + async_grace

# --- 2. every YAML file under deploy/ parses ---
docs = {}
for path in sorted(glob.glob("deploy/**/*.y*ml", recursive=True)):
    try:
        docs[path] = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        ok(f"YAML parses: {path}")
    except yaml.YAMLError as e:
        bad(f"YAML does not parse: {path}: {e}")
if not docs:
    bad("no YAML files under deploy/")

def get(obj, *keys, default=None):
    for k in keys:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and k < len(obj):
            obj = obj[k]
        else:
            return default
    return obj

def duration_s(text):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(text))
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0) if m else None

# --- 3. compose ---
compose_path = "deploy/compose.yaml"
compose = (docs.get(compose_path) or [None])[0]
if check(isinstance(compose, dict), f"{compose_path} is a mapping"):
    services = compose.get("services", {})
    pg = services.get("postgres", {})
    check(str(pg.get("image", "")).startswith("postgres:15"), "compose: postgres:15")
    check("pg_isready" in str(get(pg, "healthcheck", "test", default="")), "compose: postgres health check uses pg_isready")
    check(any(str(v).endswith(":/var/lib/postgresql/data") for v in pg.get("volumes", [])), "compose: postgres data on a volume")
    nodes = sorted(n for n in services if n.startswith("node-"))
    check(len(nodes) == 3, "compose: three authpipe nodes", nodes)
    ids = set()
    for n in nodes:
        s = services[n]
        env = s.get("environment", {})
        check(get(s, "build", "context") == ".." and get(s, "build", "dockerfile", default="Dockerfile") == "Dockerfile",
              f"compose: {n} is built from the repository's Dockerfile")
        check(str(env.get("AUTHPIPE_STORE", "")).startswith("postgres://"), f"compose: {n} AUTHPIPE_STORE is postgres://")
        for var in ("AUTHPIPE_ADMIN_TOKEN", "AUTHPIPE_MASTER_KEY"):
            check(f"${{{var}" in str(env.get(var, "")), f"compose: {n} takes {var} from deploy/.env")
        ids.add(env.get("AUTHPIPE_NODE_ID"))
        check(get(s, "depends_on", "postgres", "condition") == "service_healthy", f"compose: {n} waits for a healthy postgres")
        grace = duration_s(s.get("stop_grace_period", "10s"))
        check(grace is not None and grace > drain, f"compose: {n} stop_grace_period above the drain ({drain} s)", s.get("stop_grace_period"))
    check(ids == {"node-1", "node-2", "node-3"}, "compose: AUTHPIPE_NODE_ID node-1..3", ids)
    ngx = services.get("nginx", {})
    check(str(ngx.get("image", "")).startswith("nginx:1-alpine"), "compose: nginx:1-alpine")
    check(any("nginx.conf:/etc/nginx/nginx.conf" in str(v) for v in ngx.get("volumes", [])), "compose: nginx uses deploy/nginx.conf")
    check(any(str(p).endswith(":8080") for p in ngx.get("ports", [])), "compose: nginx publishes 8080")
    # Every ${VAR:?...} the file requires is in deploy/.env.example.
    required = set(re.findall(r"\$\{(\w+):\?", open(compose_path).read()))
    example = set(re.findall(r"^(\w+)=", open("deploy/.env.example").read(), re.M)) if os.path.exists("deploy/.env.example") else set()
    check(required and required <= example, "compose: deploy/.env.example defines " + ", ".join(sorted(required)), sorted(required - example))
    m = re.search(r"^AUTHPIPE_MASTER_KEY=(.*)$", open("deploy/.env.example").read(), re.M)
    check(m and not re.fullmatch(r"[0-9a-fA-F]{64}", m.group(1).strip()), "compose: .env.example holds a placeholder, not a usable master key")

# --- 4. Kubernetes ---
kdir = "deploy/kubernetes"
objects = {}
for path, ds in docs.items():
    if not path.startswith(kdir + "/") or path.endswith("kustomization.yaml"):
        continue
    for d in ds:
        fine = isinstance(d, dict) and d.get("apiVersion") and d.get("kind") and get(d, "metadata", "name")
        check(bool(fine), f"k8s: {path}: apiVersion, kind and metadata.name")
        if fine:
            objects.setdefault(d["kind"], []).append((path, d))

deps = objects.get("Deployment", [])
if check(len(deps) == 1, "k8s: one Deployment"):
    _, dep = deps[0]
    name = dep["metadata"]["name"]
    pod = get(dep, "spec", "template")
    pod_labels = get(pod, "metadata", "labels", default={})
    check(get(dep, "spec", "replicas") == 3, "k8s: Deployment has 3 replicas")
    sel = get(dep, "spec", "selector", "matchLabels", default={})
    check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), "k8s: Deployment selector matches its pod labels")
    containers = get(pod, "spec", "containers", default=[])
    c = containers[0] if containers else {}
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    check(8080 in ports.values(), "k8s: container port 8080")
    check(get(c, "readinessProbe", "httpGet", "path") == "/readyz", "k8s: readinessProbe GET /readyz")
    check(get(c, "livenessProbe", "httpGet", "path") == "/healthz", "k8s: livenessProbe GET /healthz")
    check(get(c, "startupProbe", "httpGet", "path") in ("/healthz", "/readyz"), "k8s: startupProbe")
    psc, csc = get(pod, "spec", "securityContext", default={}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, "k8s: runAsNonRoot")
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    check(uid not in (None, 0), "k8s: runs as a non-zero uid", uid)
    check(csc.get("readOnlyRootFilesystem") is True, "k8s: readOnlyRootFilesystem")
    check(csc.get("allowPrivilegeEscalation") is False, "k8s: allowPrivilegeEscalation false")
    check("ALL" in get(csc, "capabilities", "drop", default=[]), "k8s: drops ALL capabilities")
    res = c.get("resources", {})
    check(all(get(res, a, b) for a in ("requests", "limits") for b in ("cpu", "memory")), "k8s: resources requests and limits (cpu, memory)")
    env = {e["name"]: e for e in c.get("env", [])}
    check(get(env, "AUTHPIPE_NODE_ID", "valueFrom", "fieldRef", "fieldPath") == "metadata.name", "k8s: AUTHPIPE_NODE_ID from metadata.name")
    secret_keys = {}
    for _, s in objects.get("Secret", []):
        secret_keys[s["metadata"]["name"]] = set((s.get("stringData") or {}) | (s.get("data") or {}))
    for var in ("AUTHPIPE_STORE", "AUTHPIPE_ADMIN_TOKEN", "AUTHPIPE_MASTER_KEY"):
        ref = get(env, var, "valueFrom", "secretKeyRef", default={})
        check(ref.get("key") in secret_keys.get(ref.get("name"), set()),
              f"k8s: {var} from Secret {ref.get('name')} key {ref.get('key')} (defined in secret.example.yaml)")
    writable = {m.get("mountPath") for m in c.get("volumeMounts", [])}
    cache = get(env, "AUTHPIPE_CACHE_DIR", "value")
    check(cache in writable, "k8s: the compiled-code cache is on a writable volume", cache)
    sleep = get(c, "lifecycle", "preStop", "exec", "command", default=[])
    sleep_s = int(sleep[-1]) if sleep and str(sleep[-1]).isdigit() else get(c, "lifecycle", "preStop", "sleep", "seconds", default=0)
    check(sleep_s > 0, "k8s: preStop sleep")
    tgps = get(pod, "spec", "terminationGracePeriodSeconds", default=30)
    check(tgps > sleep_s + drain, f"k8s: terminationGracePeriodSeconds {tgps} > preStop {sleep_s} s + drain {drain} s")

    for kind in ("Service", "PodDisruptionBudget"):
        for path, o in objects.get(kind, []):
            s = get(o, "spec", "selector") if kind == "Service" else get(o, "spec", "selector", "matchLabels")
            check(bool(s) and all(pod_labels.get(k) == v for k, v in s.items()), f"k8s: {kind} {o['metadata']['name']} selects the Deployment's pods")
    svcs = objects.get("Service", [])
    if check(len(svcs) == 1, "k8s: one Service"):
        svc = svcs[0][1]
        check(get(svc, "spec", "type", default="ClusterIP") == "ClusterIP", "k8s: Service is ClusterIP")
        p = get(svc, "spec", "ports", 0, default={})
        tp = p.get("targetPort")
        check(p.get("port") == 80 and (tp == 8080 or ports.get(tp) == 8080), "k8s: Service port 80 -> 8080")
    hpas = objects.get("HorizontalPodAutoscaler", [])
    if check(len(hpas) == 1, "k8s: one HorizontalPodAutoscaler"):
        hpa = hpas[0][1]
        check(hpa["apiVersion"] == "autoscaling/v2", "k8s: HPA is autoscaling/v2")
        ref = get(hpa, "spec", "scaleTargetRef", default={})
        check(ref.get("kind") == "Deployment" and ref.get("name") == name, "k8s: HPA targets the Deployment")
        check(get(hpa, "spec", "minReplicas") == 3 and get(hpa, "spec", "maxReplicas") == 10, "k8s: HPA min 3, max 10")
        cpu = [m for m in get(hpa, "spec", "metrics", default=[]) if get(m, "resource", "name") == "cpu"]
        check(cpu and get(cpu[0], "resource", "target", "averageUtilization") == 70, "k8s: HPA on CPU 70%")
    pdbs = objects.get("PodDisruptionBudget", [])
    if check(len(pdbs) == 1, "k8s: one PodDisruptionBudget"):
        check(get(pdbs[0][1], "spec", "minAvailable") == 2, "k8s: PDB minAvailable 2")

kpath = f"{kdir}/kustomization.yaml"
kust = (docs.get(kpath) or [None])[0]
if check(isinstance(kust, dict), f"{kpath} parses"):
    listed = set(kust.get("resources", []))
    present = {os.path.basename(p) for p in glob.glob(f"{kdir}/*.y*ml")} - {"kustomization.yaml", "secret.example.yaml"}
    check(listed == present, "k8s: kustomization lists every manifest", f"missing {sorted(present - listed)}, unknown {sorted(listed - present)}")
    check("secret.example.yaml" not in listed, "k8s: kustomization leaves the example Secret out")

# --- 5. nginx directives ---
def nginx_checks(path, text):
    text = re.sub(r"#[^\n]*", "", text)   # directives only, not comments
    upstream = re.search(r"upstream\s+\w+\s*\{(.*?)\n\s*\}", text, re.S)
    servers = re.findall(r"^\s*server\s+(\S+)([^;]*);", upstream.group(1) if upstream else "", re.M)
    check(servers and all("max_fails=1" in s[1] and "fail_timeout=2s" in s[1] for s in servers),
          f"nginx: {path}: every upstream server has max_fails=1 fail_timeout=2s")
    check(re.search(r"proxy_next_upstream\s+error\s+timeout\s+http_502\s+http_503\s*;", text), f"nginx: {path}: proxy_next_upstream error timeout http_502 http_503")
    check(re.search(r"proxy_next_upstream_tries\s+3\s*;", text), f"nginx: {path}: proxy_next_upstream_tries 3")
    check(re.search(r"^\s*keepalive\s+\d+\s*;", text, re.M) and re.search(r'proxy_set_header\s+Connection\s+""', text)
          and re.search(r"proxy_http_version\s+1\.1", text), f"nginx: {path}: keep-alive upstream connections")
    m = re.search(r"keepalive_timeout\s+(\d+)s\s*;", text)
    check(m and int(m.group(1)) < idle_timeout, f"nginx: {path}: upstream keepalive_timeout below the server's idle timeout ({idle_timeout} s)")
    check(re.search(r"proxy_set_header\s+X-Request-Id\s", text), f"nginx: {path}: passes X-Request-Id")
    m = re.search(r"client_max_body_size\s+(\d+)([kKmM]?)\s*;", text)
    size = int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20}[m.group(2).lower()] if m else None
    check(size == max_body, f"nginx: {path}: client_max_body_size equals max_body_bytes ({max_body})", size)
    check("non_idempotent" not in text, f"nginx: {path}: POSTs are not resent after reaching a node")
import subprocess, tempfile
if check(os.path.exists("deploy/nginx.conf"), "deploy/nginx.conf exists"):
    nginx_checks("deploy/nginx.conf", open("deploy/nginx.conf").read())
# The local template as scripts/cluster.sh fills it in.
with tempfile.TemporaryDirectory() as tmp:
    run = subprocess.run(["bash", "scripts/cluster.sh", "nginx-conf"], capture_output=True, text=True,
                         env={**os.environ, "AUTHPIPE_CLUSTER_DIR": tmp})
    if check(run.returncode == 0, "scripts/cluster.sh nginx-conf renders deploy/nginx.local.conf.template", run.stderr.strip()):
        local = open(run.stdout.strip()).read()
        check("@" not in re.sub(r"#[^\n]*", "", local), "nginx: every placeholder of the local template is filled in")
        nginx_checks("local cluster (generated)", local)
        check(len(re.findall(r"server 127\.0\.0\.1:\d+ ", local)) == 3, "nginx: local cluster balances three nodes")
check(re.search(r"^\s*listen\s+8080\s*;", open("deploy/nginx.conf").read(), re.M), "nginx: deploy/nginx.conf listens on 8080")
ups = re.findall(r"server\s+(node-\d):8080", open("deploy/nginx.conf").read())
check(sorted(ups) == ["node-1", "node-2", "node-3"], "nginx: deploy/nginx.conf balances node-1..3")

# --- 6. Dockerfile ---
lines = []
for raw in open("Dockerfile").read().replace("\\\n", " ").splitlines():
    raw = raw.strip()
    if raw and not raw.startswith("#"):
        lines.append(raw)
stages, cur = [], None
for l in lines:
    word = l.split()[0].upper()
    if word == "FROM":
        cur = []
        stages.append(cur)
    elif cur is not None:
        cur.append(l)
check(len(stages) >= 2, "Dockerfile: at least two stages", len(stages))
final = stages[-1] if stages else []
users = [l.split()[1] for l in final if l.split()[0].upper() == "USER"]
check(users and users[-1].split(":")[0] not in ("root", "0"), "Dockerfile: final stage runs as a non-root USER", users)
installs = " ".join(l for l in final if "apt-get install" in l or "apk add" in l)
compilers = re.findall(r"\b(gcc|g\+\+|clang[-\w]*|llvm[-\w]*|build-essential|wasi-libc|rustc|cargo|make|libc6-dev)\b", installs)
check(not compilers, "Dockerfile: no compiler or build packages in the final stage", compilers)
check(any(re.fullmatch(r"EXPOSE\s+8080(/tcp)?", l) for l in final), "Dockerfile: EXPOSE 8080")
check(any(l.startswith("ENTRYPOINT") and "/usr/local/bin/authpipe" in l for l in final), "Dockerfile: ENTRYPOINT authpipe")
check(any(l.startswith("STOPSIGNAL") and "SIGTERM" in l for l in final), "Dockerfile: STOPSIGNAL SIGTERM")
check(any("wasm32-wasip1" in l for l in stages[0]) and any("clang-19" in l for l in stages[0]), "Dockerfile: builder has clang-19 and wasm32-wasip1")
check(any("cargo build --release --locked --workspace" in l for l in stages[0]), "Dockerfile: cargo build --release --locked --workspace")
ign = open(".dockerignore").read().split() if os.path.exists(".dockerignore") else []
check({"target/", "guest/target/", "console/node_modules/", ".git"} <= set(ign), ".dockerignore: target/, guest/target/, console/node_modules/, .git")
check("console/dist" not in " ".join(ign) and "templates" not in ign, ".dockerignore keeps console/dist and templates (bundled by build.rs)")

sys.exit(1 if failures else 0)
PY

# 4b. The Kubernetes API's schemas and kustomize, where they can be had.
if ! command -v kubernetes-validate >/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate >/dev/null 2>&1 || true
fi
if command -v kubernetes-validate >/dev/null; then
    manifests=()
    for f in deploy/kubernetes/*.yaml; do
        [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
    done
    if out=$(kubernetes-validate --strict --quiet "${manifests[@]}" 2>&1); then
        pass "kubernetes-validate --strict (API schemas) on ${#manifests[@]} manifests"
    else
        fail "kubernetes-validate --strict: $out"
    fi
else
    note "kubernetes-validate could not be installed (pip install kubernetes-validate); API schemas not checked"
fi
if command -v kubectl >/dev/null; then
    if out=$(kubectl kustomize deploy/kubernetes 2>&1); then
        pass "kubectl kustomize deploy/kubernetes ($(grep -c '^kind:' <<<"$out") objects)"
    else
        fail "kubectl kustomize deploy/kubernetes: $out"
    fi
else
    note "kubectl not installed: kustomization not built"
fi

# 5b. nginx -t.
nginx=${NGINX:-/usr/sbin/nginx}
if [ -x "$nginx" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # The configuration `scripts/cluster.sh up` writes (dummy upstreams: the
    # ports need not be listening for -t).
    conf=$(AUTHPIPE_CLUSTER_DIR="$tmp/cluster" bash scripts/cluster.sh nginx-conf)
    if out=$("$nginx" -t -p "$tmp/cluster/nginx" -c "$conf" -e "$tmp/cluster/nginx/error.log" 2>&1); then
        pass "nginx -t on the local cluster's generated configuration"
    else
        fail "nginx -t on $conf: $out"
    fi
    # deploy/nginx.conf with the compose names pointed at 127.0.0.1, without
    # `resolve` (nginx >= 1.27.3; Debian bookworm has 1.22) and with every file
    # nginx writes under $tmp.
    mkdir -p "$tmp/compose"
    sed -e 's/node-[0-9]:8080/127.0.0.1:8080/' -e 's/ resolve / /' \
        -e "s#^pid .*#pid $tmp/compose/nginx.pid;#" \
        -e "s#^http {#http {\n    client_body_temp_path $tmp/compose/body; proxy_temp_path $tmp/compose/proxy; fastcgi_temp_path $tmp/compose/fastcgi; uwsgi_temp_path $tmp/compose/uwsgi; scgi_temp_path $tmp/compose/scgi;#" \
        deploy/nginx.conf >"$tmp/compose/nginx.conf"
    # Three identical servers are an error for nginx: make them distinct ports.
    awk '/127\.0\.0\.1:8080/ { n++; sub(/127\.0\.0\.1:8080/, "127.0.0.1:" 18080 + n) } { print }' \
        "$tmp/compose/nginx.conf" >"$tmp/compose/nginx.conf.1" && mv "$tmp/compose/nginx.conf.1" "$tmp/compose/nginx.conf"
    if out=$("$nginx" -t -p "$tmp/compose" -c "$tmp/compose/nginx.conf" -e "$tmp/compose/error.log" 2>&1); then
        pass "nginx -t on deploy/nginx.conf (names mapped to 127.0.0.1, without \`resolve\`)"
    else
        fail "nginx -t on deploy/nginx.conf: $out"
    fi
else
    note "nginx is not installed (just setup installs it): nginx -t not run"
fi

if [ "$failures" -gt 0 ]; then
    echo "check-deploy: $failures check(s) failed" >&2
    exit 1
fi
echo "check-deploy: all checks passed"
