#!/usr/bin/env bash
# Checks the deployment files in deploy/ without a container engine or a cluster: syntax (every
# YAML document and JSON file parses) and references between them and the code:
#   - every metric the Grafana dashboard's PromQL names is one `vigil run --http` serves
#     (engine/http/ops_server.cc; histograms only as _bucket/_sum/_count), with Vigil's labels;
#   - every topic the compose file creates is one of Vigil's topics (engine/event.h, Topics),
#     the input topics share one partition count, retention is at least 7 days, and
#     deploy/create-topics.sh creates exactly that when run against a stand-in for Kafka's tools;
#   - the `vigil run` flags in docker-compose.yml, k8s/statefulset.yaml and vigil.service exist in
#     `VIGIL run --help` (only when a built binary is given as $1; skipped otherwise, saying so),
#     and the rules file passes `VIGIL rules --check`; the image's runtime packages cover the
#     binary's shared libraries (same condition);
#   - the k8s StatefulSet's probes are /readyz (readiness) and /healthz (liveness) on the --http
#     port, its state volume is mounted at --state-dir, its Service, PodDisruptionBudget and rules
#     ConfigMap (equal to deploy/rules.example.json) are the ones it names;
#   - Prometheus scrapes exactly the compose file's Vigil services on their --http port.
# It does not start anything: what it cannot see is how Kafka, Docker or Kubernetes behave.
#
#   deploy/check.sh [VIGIL_BINARY]      # exit 0 when all hold; otherwise 1, naming file and fault
#
# Needs Debian's /usr/bin/python3 with python3-yaml (deploy/install-deps.sh installs it).
# promtool and kubectl are used when present (promtool check config, kubectl kustomize).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
vigil="${1:-}"
if [ -n "$vigil" ] && [ ! -x "$vigil" ]; then
  echo "deploy/check.sh: $vigil is not an executable vigil binary" >&2
  exit 1
fi
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  echo "deploy/check.sh: /usr/bin/python3 cannot import yaml: install python3-yaml (deploy/install-deps.sh)" >&2
  exit 1
fi
exec /usr/bin/python3 - "$root" "$vigil" <<'PY'
import json, os, re, shutil, stat, subprocess, sys, tempfile
import yaml

root, vigil = sys.argv[1], sys.argv[2]
deploy = os.path.join(root, "deploy")
errors = []

def rel(path):
    return os.path.relpath(path, root)

def fail(path, message):
    errors.append(f"{rel(path)}: {message}")

def note(message):
    print(f"deploy/check.sh: {message}")

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()

# ---------------------------------------------------------------------------------------------
# 1. Syntax: every YAML document and every JSON file under deploy/ parses.
docs = {}   # path -> list of YAML documents, or the JSON value
for dirpath, dirnames, filenames in os.walk(deploy):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        if name.endswith((".yml", ".yaml")):
            try:
                docs[path] = [d for d in yaml.safe_load_all(read(path)) if d is not None]
            except yaml.YAMLError as e:
                fail(path, f"YAML does not parse: {e}")
                continue
            if not docs[path]:
                fail(path, "no YAML document in it")
        elif name.endswith(".json"):
            try:
                docs[path] = json.loads(read(path))
            except ValueError as e:
                fail(path, f"JSON does not parse: {e}")
note(f"parsed {len(docs)} YAML/JSON files under deploy/")

def doc(relpath):
    """The parsed content of deploy/RELPATH (first YAML document), or None if missing/broken."""
    path = os.path.join(deploy, relpath)
    if not os.path.exists(path):
        fail(path, "missing")
        return None
    value = docs.get(path)
    if isinstance(value, list):
        return value[0] if value else None
    return value

# ---------------------------------------------------------------------------------------------
# 2. What the code says: metric families (with types and labels) and topics.
ops_cc = os.path.join(root, "engine/http/ops_server.cc")
metrics_cc = os.path.join(root, "engine/http/metrics.cc")
families = {}   # name -> counter | gauge | histogram
vigil_labels = set()
for src in (ops_cc, metrics_cc):
    text = read(src)
    for m in re.finditer(r'\.Family\(\s*"([^"]+)"\s*,\s*Type::k(\w+)', text):
        families[m.group(1)] = m.group(2).lower()
    for m in re.finditer(r'\.(Counter|Gauge)\(\s*"([^"]+)"', text):
        families[m.group(2)] = m.group(1).lower()
    for m in re.finditer(r'\{\s*"([a-z_][a-z0-9_]*)"\s*,', text):
        vigil_labels.add(m.group(1))
if not families:
    fail(ops_cc, "no metric family found (the check reads Family/Counter/Gauge calls): moved?")
histograms = {n for n, t in families.items() if t == "histogram"}
series = {}     # series name -> family
for n, t in families.items():
    if t == "histogram":
        for suffix in ("_bucket", "_sum", "_count"):
            series[n + suffix] = n
    else:
        series[n] = n
# Labels Prometheus adds to every target, and the histogram's own.
allowed_labels = vigil_labels | {"instance", "job", "le"}

event_h = os.path.join(root, "engine/event.h")
topics_src = re.search(r"struct Topics \{(.*?)\};", read(event_h), re.S)
vigil_topics = {}
if topics_src:
    for m in re.finditer(r'std::string\s+(\w+)\s*=\s*"([^"]+)"', topics_src.group(1)):
        vigil_topics[m.group(1)] = m.group(2)
if not vigil_topics:
    fail(event_h, "no topic names found in struct Topics: moved?")
input_topics = {vigil_topics.get(k) for k in ("roster", "access", "complaints")}
run_topics = {vigil_topics.get(k) for k in ("roster", "access", "complaints", "alerts", "dlq", "audit")}
note(f"code: {len(families)} metric families ({len(histograms)} histograms), labels {sorted(vigil_labels)}, "
     f"{len(vigil_topics)} topics")

# ---------------------------------------------------------------------------------------------
# 3. The Grafana dashboard: every metric and label its PromQL names exists.
PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta",
    "deriv", "exp", "floor", "group", "histogram_quantile", "idelta", "increase", "irate",
    "label_join", "label_replace", "last_over_time", "ln", "log2", "log10", "max",
    "max_over_time", "min", "min_over_time", "predict_linear", "quantile", "quantile_over_time",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev",
    "stddev_over_time", "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk", "vector",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}

def promql_refs(expr):
    """(metric names, label names, function names) an expression uses."""
    labels, functions, names = [], [], []
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)   # string literals
    def matcher(m):
        labels.extend(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)', m.group(1)))
        return " "
    s = re.sub(r"\{([^}]*)\}", matcher, s)
    s = re.sub(r"\[[^\]]*\]", " ", s)                                      # range selectors
    def grouping(m):
        labels.extend(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(2)))
        return " "
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", grouping, s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)                                     # Grafana variables
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", s):
        token = m.group(0)
        if s[m.end():].lstrip().startswith("("):
            functions.append(token)
        elif token not in PROMQL_KEYWORDS:
            names.append(token)
    return names, labels, functions

dash_path = os.path.join(deploy, "grafana/vigil-dashboard.json")
dash = doc("grafana/vigil-dashboard.json")
used = set()
if isinstance(dash, dict):
    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))
    ids = [p.get("id") for p in walk(dash.get("panels", []))]
    if len(ids) != len(set(ids)):
        fail(dash_path, "panel ids are not unique")
    exprs = []
    for p in walk(dash.get("panels", [])):
        if p.get("type") == "row":
            continue
        targets = [t for t in p.get("targets", []) if t.get("expr")]
        if not targets:
            fail(dash_path, f"panel '{p.get('title')}' has no PromQL target")
        for t in targets:
            exprs.append((p.get("title"), t["expr"]))
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if var.get("type") == "query" and isinstance(q, str):
            m = re.fullmatch(r"\s*label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*(\w+)\s*\)\s*", q)
            if not m:
                fail(dash_path, f"variable '{var.get('name')}': cannot read query {q!r}")
            else:
                exprs.append((f"variable {var.get('name')}", m.group(1) + "{" + m.group(2) + '=""}'))
    for title, expr in exprs:
        names, labels, functions = promql_refs(expr)
        if not names:
            fail(dash_path, f"panel '{title}': no metric in {expr!r}")
        for n in names:
            if n in histograms:
                fail(dash_path, f"panel '{title}': {n} is a histogram: use {n}_bucket, _sum or _count")
            elif n not in series:
                fail(dash_path, f"panel '{title}': metric {n} is not served by vigil run --http "
                                f"(not in {rel(ops_cc)})")
            else:
                used.add(series[n])
        for label in labels:
            if label not in allowed_labels:
                fail(dash_path, f"panel '{title}': label {label} is not one Vigil's metrics carry "
                                f"({', '.join(sorted(allowed_labels))})")
        for f in functions:
            if f not in PROMQL_FUNCTIONS:
                fail(dash_path, f"panel '{title}': {f}() is not a PromQL function")
        if "histogram_quantile" in functions and not any(n.endswith("_bucket") for n in names):
            fail(dash_path, f"panel '{title}': histogram_quantile over no _bucket series")
        if "le" in labels and not any(n.endswith("_bucket") for n in names):
            fail(dash_path, f"panel '{title}': groups by le without a _bucket series")
    wanted = {"vigil_events_in_total", "vigil_alerts_total", "vigil_dead_letters_total",
              "vigil_consumer_lag_records", "vigil_watermark_lag_seconds",
              "vigil_checkpoint_duration_seconds", "vigil_snapshot_duration_seconds",
              "vigil_state_memory_bytes", "vigil_memory_budget_bytes", "vigil_health_state",
              "vigil_ready"}
    for n in sorted(wanted - used):
        fail(dash_path, f"no panel shows {n}")
    note(f"dashboard: {len(exprs)} queries over {len(used)} metric families, all served")
elif dash is not None:
    fail(dash_path, "not a JSON object")

# ---------------------------------------------------------------------------------------------
# 4. docker-compose.yml: Kafka in KRaft mode, the topics, the Vigil services.
compose_path = os.path.join(deploy, "docker-compose.yml")
compose = doc("docker-compose.yml") or {}
services = compose.get("services", {}) if isinstance(compose, dict) else {}
run_commands = []   # (path, where, argv after "vigil")

def flag_value(argv, flag):
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return str(argv[i + 1])
        if isinstance(a, str) and a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None

def env_of(service):
    env = service.get("environment", {}) or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: str(v) for k, v in env.items()}

kafka_services = [n for n, s in services.items() if "apache/kafka" in str(s.get("image", ""))
                  and "KAFKA_PROCESS_ROLES" in env_of(s)]
if not kafka_services:
    fail(compose_path, "no Apache Kafka broker (image apache/kafka with KAFKA_PROCESS_ROLES)")
for n in kafka_services:
    env = env_of(services[n])
    if "controller" not in env.get("KAFKA_PROCESS_ROLES", ""):
        fail(compose_path, f"{n}: not in KRaft mode (KAFKA_PROCESS_ROLES has no controller)")
    if any("zookeeper" in k.lower() for k in env):
        fail(compose_path, f"{n}: ZooKeeper settings in a KRaft broker")
    if env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true").lower() != "false":
        fail(compose_path, f"{n}: KAFKA_AUTO_CREATE_TOPICS_ENABLE should be false (topics come from kafka-init)")
if any("zookeeper" in str(s.get("image", "")) for s in services.values()):
    fail(compose_path, "a ZooKeeper service: Kafka should run in KRaft mode")

init = {n: s for n, s in services.items() if "create-topics.sh" in json.dumps(s)}
init_env = {}
if len(init) != 1:
    fail(compose_path, f"expected one topic-creation service running create-topics.sh, found {len(init)}")
else:
    init_name, init_service = next(iter(init.items()))
    init_env = env_of(init_service)
    if str(init_service.get("restart", "no")) != "no":
        fail(compose_path, f"{init_name}: a one-shot service must have restart: \"no\"")
    created = {}
    for key in ("INPUT_TOPICS", "OUTPUT_TOPICS", "COMPACTED_TOPICS"):
        for t in init_env.get(key, "").split():
            created[t] = key
    for t in sorted(created):
        if t not in vigil_topics.values():
            fail(compose_path, f"{init_name} creates {t}, which is not a topic Vigil uses "
                               f"(engine/event.h: {', '.join(sorted(vigil_topics.values()))})")
    for t in sorted(t for t in run_topics if t and t not in created):
        fail(compose_path, f"{init_name} does not create {t}, which Vigil needs")
    if set(init_env.get("INPUT_TOPICS", "").split()) != input_topics:
        fail(compose_path, f"{init_name}: INPUT_TOPICS must be exactly {sorted(input_topics)} "
                           "(one partition count for the co-partitioned inputs)")
    if not init_env.get("PARTITIONS", "").isdigit() or int(init_env["PARTITIONS"]) < 2:
        fail(compose_path, f"{init_name}: PARTITIONS must be a number of at least 2 (more than the instances)")
    retention = init_env.get("RETENTION_MS", "")
    if not retention.isdigit() or int(retention) < 7 * 24 * 3600 * 1000:
        fail(compose_path, f"{init_name}: RETENTION_MS={retention!r}: keep at least 7 days "
                           "(recovery re-reads input and output since the last snapshot)")
    deps = init_service.get("depends_on", {})
    if not isinstance(deps, dict) or not any(
            deps.get(k, {}).get("condition") == "service_healthy" for k in kafka_services):
        fail(compose_path, f"{init_name}: should wait for the broker (depends_on condition: service_healthy)")

vigil_services = {n: s for n, s in services.items()
                  if isinstance(s.get("command"), list) and s["command"][:1] == ["run"]
                  and (s.get("image", "").startswith("vigil") or "Dockerfile" in json.dumps(s.get("build", "")))}
if len(vigil_services) < 2:
    fail(compose_path, f"expected two or more `vigil run` services, found {len(vigil_services)}")
named_volumes = set((compose.get("volumes") or {}).keys()) if isinstance(compose, dict) else set()
groups, state_volumes, http_ports = set(), {}, {}
for n, s in vigil_services.items():
    argv = [str(a) for a in s["command"]]
    run_commands.append((compose_path, f"service {n}", argv))
    groups.add(flag_value(argv, "--group") or "vigil")
    http = flag_value(argv, "--http")
    if not http or not http.startswith("0.0.0.0:"):
        fail(compose_path, f"{n}: needs --http 0.0.0.0:PORT (probes and Prometheus come from other containers)")
    else:
        http_ports[n] = http.rsplit(":", 1)[1]
    brokers = flag_value(argv, "--brokers") or ""
    for b in brokers.split(","):
        host, _, port = b.partition(":")
        if host not in kafka_services:
            fail(compose_path, f"{n}: --brokers {b}: {host} is not the compose file's Kafka service")
        elif f":{port}" not in env_of(services[host]).get("KAFKA_LISTENERS", ""):
            fail(compose_path, f"{n}: --brokers {b}: no Kafka listener on port {port}")
    state_dir = flag_value(argv, "--state-dir")
    mounts = {}
    for v in s.get("volumes", []) or []:
        if isinstance(v, str):
            parts = v.split(":")
            mounts[parts[1]] = parts[0]
        elif isinstance(v, dict):
            mounts[v.get("target")] = v.get("source")
    source = mounts.get(state_dir)
    if not state_dir or not source:
        fail(compose_path, f"{n}: --state-dir {state_dir} is not on a volume")
    elif source not in named_volumes:
        fail(compose_path, f"{n}: the state volume {source} is not a named volume of the file")
    elif source in state_volumes.values():
        fail(compose_path, f"{n}: shares its state volume {source} with another instance")
    else:
        state_volumes[n] = source
    for target, src in mounts.items():
        if src and src.startswith("."):
            if not os.path.exists(os.path.join(deploy, src)):
                fail(compose_path, f"{n}: bind mount {src} does not exist (relative to deploy/)")
    rules = flag_value(argv, "--rules")
    if rules and rules not in mounts:
        note(f"{n}: --rules {rules} comes from the image (deploy/Dockerfile copies rules.example.json there)")
    hc = json.dumps(s.get("healthcheck", {}).get("test", ""))
    if "/healthz" not in hc or (n in http_ports and f":{http_ports[n]}/" not in hc):
        fail(compose_path, f"{n}: healthcheck must GET /healthz on the --http port")
    deps = s.get("depends_on", {})
    if not isinstance(deps, dict) or not any(d.get("condition") == "service_completed_successfully"
                                             for d in deps.values()):
        fail(compose_path, f"{n}: should start after the topics exist (depends_on ... service_completed_successfully)")
    build = s.get("build", {})
    if isinstance(build, dict):
        context = os.path.normpath(os.path.join(deploy, build.get("context", ".")))
        if not os.path.exists(os.path.join(context, build.get("dockerfile", "Dockerfile"))):
            fail(compose_path, f"{n}: build: {build.get('dockerfile')} not found in {rel(context)}")
if len(groups) > 1:
    fail(compose_path, f"the Vigil services are in different groups: {sorted(groups)}")
for n, s in services.items():
    for v in s.get("volumes", []) or []:
        if isinstance(v, str) and v.startswith("./") and not os.path.exists(os.path.join(deploy, v.split(":")[0])):
            fail(compose_path, f"{n}: bind mount {v.split(':')[0]} does not exist (relative to deploy/)")
note(f"compose: broker {kafka_services}, Vigil services {sorted(vigil_services)}, "
     f"topics {init_env.get('INPUT_TOPICS', '')} | {init_env.get('OUTPUT_TOPICS', '')} | {init_env.get('COMPACTED_TOPICS', '')}")

# ---------------------------------------------------------------------------------------------
# 5. create-topics.sh, run against a stand-in for kafka-topics.sh and kafka-configs.sh.
script = os.path.join(deploy, "create-topics.sh")
if subprocess.run(["sh", "-n", script]).returncode != 0:
    fail(script, "sh -n: syntax error")
elif init_env:
    def stand_in(counts):
        d = tempfile.mkdtemp(prefix="vigil-deploy-check-")
        log = os.path.join(d, "calls")
        fake = ("#!/bin/sh\necho \"$(basename \"$0\") $*\" >> " + log + "\n"
                "case \" $* \" in *' --describe '*)\n"
                "  t=$(echo \" $* \" | sed 's/.* --topic \\([^ ]*\\) .*/\\1/')\n"
                "  n=$(grep \"^$t \" " + os.path.join(d, "counts") + " | cut -d' ' -f2)\n"
                "  printf 'Topic: %s\\tTopicId: x\\tPartitionCount: %s\\tReplicationFactor: 1\\n' \"$t\" \"$n\";;\n"
                "esac\n")
        for tool in ("kafka-topics.sh", "kafka-configs.sh"):
            p = os.path.join(d, tool)
            with open(p, "w") as f:
                f.write(fake)
            os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR)
        with open(os.path.join(d, "counts"), "w") as f:
            f.writelines(f"{t} {c}\n" for t, c in counts.items())
        env = dict(os.environ, **init_env)
        env["KAFKA_BIN"] = d
        r = subprocess.run(["sh", script], env=env, capture_output=True, text=True)
        calls = open(log).read().splitlines() if os.path.exists(log) else []
        shutil.rmtree(d)
        return r, calls
    parts = init_env.get("PARTITIONS", "6")
    inputs = init_env.get("INPUT_TOPICS", "").split()
    r, calls = stand_in({t: parts for t in inputs})
    if r.returncode != 0:
        fail(script, f"failed against the stand-in Kafka tools: {r.stderr.strip()}")
    creates = {}
    for c in calls:
        m = re.search(r"--create .*--topic (\S+)", c)
        if m:
            creates[m.group(1)] = c
    for key in ("INPUT_TOPICS", "OUTPUT_TOPICS"):
        for t in init_env.get(key, "").split():
            c = creates.get(t, "")
            if not c:
                fail(script, f"does not create {t}")
            elif f"--partitions {parts}" not in c or f"retention.ms={init_env.get('RETENTION_MS')}" not in c:
                fail(script, f"creates {t} without --partitions {parts} and retention.ms={init_env.get('RETENTION_MS')}: {c}")
            if not any(re.search(rf"kafka-configs.sh .*--entity-name {re.escape(t)} .*retention.ms=", x) for x in calls):
                fail(script, f"does not set retention.ms on {t} when it already exists")
    for t in init_env.get("COMPACTED_TOPICS", "").split():
        if "cleanup.policy=compact" not in creates.get(t, ""):
            fail(script, f"does not create {t} compacted")
    unexpected = set(creates) - set(init_env.get("INPUT_TOPICS", "").split() + init_env.get("OUTPUT_TOPICS", "").split()
                                    + init_env.get("COMPACTED_TOPICS", "").split())
    if unexpected:
        fail(script, f"creates topics the compose file does not list: {sorted(unexpected)}")
    if inputs:
        r, _ = stand_in({t: (str(int(parts) + 1) if i == len(inputs) - 1 else parts) for i, t in enumerate(inputs)})
        if r.returncode == 0:
            fail(script, "accepted input topics with different partition counts")
    note(f"create-topics.sh: {len(creates)} topics created against the stand-in; unequal input partition counts refused")

# ---------------------------------------------------------------------------------------------
# 6. Kubernetes manifests.
k8s = os.path.join(deploy, "k8s")
objects = []   # (path, object)
for name in sorted(os.listdir(k8s)) if os.path.isdir(k8s) else []:
    path = os.path.join(k8s, name)
    for o in docs.get(path, []) if isinstance(docs.get(path), list) else []:
        if not isinstance(o, dict) or "kind" not in o or "apiVersion" not in o:
            fail(path, "a document without kind and apiVersion")
        else:
            objects.append((path, o))
def of_kind(kind):
    return [(p, o) for p, o in objects if o["kind"] == kind]
for kind in ("StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap"):
    if not of_kind(kind):
        fail(k8s, f"no {kind} in deploy/k8s/")
for p, kz in of_kind("Kustomization"):
    listed = set(kz.get("resources", []))
    present = {n for n in os.listdir(k8s) if n.endswith((".yaml", ".yml")) and not n.startswith("kustomization")}
    for n in sorted(listed - present):
        fail(p, f"lists {n}, which does not exist")
    for n in sorted(present - listed):
        fail(p, f"does not list {n}")
def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
for p, sts in of_kind("StatefulSet"):
    spec = sts.get("spec", {})
    pod = spec.get("template", {})
    pod_labels = pod.get("metadata", {}).get("labels", {})
    pod_spec = pod.get("spec", {})
    if not labels_match(spec.get("selector", {}).get("matchLabels"), pod_labels):
        fail(p, "spec.selector does not match the pod template's labels")
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    if not isinstance(grace, int) or grace < 60:
        fail(p, f"terminationGracePeriodSeconds {grace}: give the final checkpoint and publishing at least 60 s")
    ann = pod.get("metadata", {}).get("annotations", {})
    claims = {c.get("metadata", {}).get("name") for c in spec.get("volumeClaimTemplates", [])}
    if not claims:
        fail(p, "no volumeClaimTemplates: each pod needs its own volume for --state-dir")
    services_named = [o for _, o in of_kind("Service") if o["metadata"]["name"] == spec.get("serviceName")]
    if not services_named:
        fail(p, f"serviceName {spec.get('serviceName')} is no Service in deploy/k8s/")
    for svc in services_named:
        if svc.get("spec", {}).get("clusterIP") != "None":
            fail(p, f"Service {svc['metadata']['name']} is not headless (clusterIP: None)")
        if not labels_match(svc.get("spec", {}).get("selector"), pod_labels):
            fail(p, f"Service {svc['metadata']['name']}'s selector does not match the pods")
    volumes = {v.get("name"): v for v in pod_spec.get("volumes", [])}
    containers = pod_spec.get("containers", [])
    if not containers:
        fail(p, "no container")
    for c in containers:
        argv = [str(a) for a in (c.get("command", [])[1:] if c.get("command") else []) + c.get("args", [])]
        if argv[:1] != ["run"]:
            fail(p, f"container {c.get('name')}: args should start with run")
            continue
        run_commands.append((p, f"container {c.get('name')}", argv))
        http = flag_value(argv, "--http") or ""
        port = http.rsplit(":", 1)[-1]
        if not http.startswith("0.0.0.0:"):
            fail(p, "--http should be 0.0.0.0:PORT for the kubelet's probes")
        named_ports = {pp.get("name"): str(pp.get("containerPort")) for pp in c.get("ports", [])}
        if port not in named_ports.values():
            fail(p, f"no containerPort {port} (the --http port)")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = c.get(probe, {}).get("httpGet")
            if not get:
                fail(p, f"container {c.get('name')}: no {probe} httpGet")
                continue
            if get.get("path") != path:
                fail(p, f"container {c.get('name')}: {probe} path {get.get('path')}, expected {path}")
            probe_port = str(named_ports.get(get.get("port"), get.get("port")))
            if probe_port != port:
                fail(p, f"container {c.get('name')}: {probe} port {get.get('port')} is not the --http port {port}")
        if ann.get("prometheus.io/scrape") != "true" or str(ann.get("prometheus.io/port")) != port \
                or ann.get("prometheus.io/path", "/metrics") != "/metrics":
            fail(p, f"pod annotations should be prometheus.io/scrape \"true\", port \"{port}\", path /metrics")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts", [])}
        state_dir = flag_value(argv, "--state-dir")
        if mounts.get(state_dir) not in claims:
            fail(p, f"--state-dir {state_dir} is not mounted from a volumeClaimTemplate")
        rules = flag_value(argv, "--rules")
        if rules:
            d, key = os.path.split(rules)
            cm_name = volumes.get(mounts.get(d), {}).get("configMap", {}).get("name")
            cms = [(cp, o) for cp, o in of_kind("ConfigMap") if o["metadata"]["name"] == cm_name]
            if not cms:
                fail(p, f"--rules {rules}: {d} is not mounted from a ConfigMap of deploy/k8s/")
            for cp, cm in cms:
                text = cm.get("data", {}).get(key)
                if text is None:
                    fail(cp, f"ConfigMap {cm_name} has no key {key} (for --rules {rules} in {rel(p)})")
                    continue
                try:
                    if json.loads(text) != json.loads(read(os.path.join(deploy, "rules.example.json"))):
                        fail(cp, f"ConfigMap {cm_name}'s {key} differs from deploy/rules.example.json")
                except ValueError as e:
                    fail(cp, f"ConfigMap {cm_name}'s {key} is not JSON: {e}")
    for pp, pdb in of_kind("PodDisruptionBudget"):
        if pdb.get("spec", {}).get("maxUnavailable") != 1:
            fail(pp, "maxUnavailable should be 1")
        if not labels_match(pdb.get("spec", {}).get("selector", {}).get("matchLabels"), pod_labels):
            fail(pp, "the selector does not match the StatefulSet's pods")
if shutil.which("kubectl") and os.path.exists(os.path.join(k8s, "kustomization.yaml")):
    r = subprocess.run(["kubectl", "kustomize", k8s], capture_output=True, text=True)
    if r.returncode != 0:
        fail(k8s, f"kubectl kustomize failed: {r.stderr.strip()}")
    else:
        note("k8s: kubectl kustomize renders deploy/k8s/")
else:
    note("k8s: kubectl not found, kustomization not rendered")
note(f"k8s: {len(objects)} objects ({', '.join(sorted({o['kind'] for _, o in objects}))})")

# ---------------------------------------------------------------------------------------------
# 7. Prometheus scrapes the compose file's Vigil services, on their --http port.
prom_path = os.path.join(deploy, "prometheus.yml")
prom = doc("prometheus.yml") or {}
targets = []
for job in prom.get("scrape_configs", []) if isinstance(prom, dict) else []:
    if job.get("metrics_path", "/metrics") != "/metrics":
        fail(prom_path, f"job {job.get('job_name')}: metrics_path should be /metrics")
    for sc in job.get("static_configs", []):
        targets.extend(sc.get("targets", []))
scraped = set()
for t in targets:
    host, _, port = t.rpartition(":")
    if host not in vigil_services:
        fail(prom_path, f"target {t}: {host} is not a Vigil service of docker-compose.yml ({', '.join(sorted(vigil_services))})")
    elif port != http_ports.get(host):
        fail(prom_path, f"target {t}: {host} serves --http on port {http_ports.get(host)}")
    scraped.add(host)
for n in sorted(set(vigil_services) - scraped):
    fail(prom_path, f"does not scrape {n}")
prom_services = [n for n, s in services.items() if "prometheus.yml" in json.dumps(s.get("volumes", []))]
if not prom_services:
    fail(compose_path, "no service mounts prometheus.yml")
if shutil.which("promtool"):
    r = subprocess.run(["promtool", "check", "config", "--syntax-only", prom_path], capture_output=True, text=True)
    if r.returncode != 0:
        fail(prom_path, f"promtool check config: {(r.stdout + r.stderr).strip()}")
else:
    note("prometheus: promtool not found, config checked by this script only")
ds = doc("grafana/provisioning/datasources/prometheus.yml") or {}
for d in ds.get("datasources", []) if isinstance(ds, dict) else []:
    host = re.sub(r"^https?://", "", str(d.get("url", ""))).split(":")[0].split("/")[0]
    if host not in prom_services:
        fail(os.path.join(deploy, "grafana/provisioning/datasources/prometheus.yml"),
             f"url {d.get('url')}: {host} is not the compose file's Prometheus service")
prov = doc("grafana/provisioning/dashboards/vigil.yml") or {}
mount_dirs = {os.path.dirname(v.split(":")[1]) for s in services.values() for v in s.get("volumes", []) or []
              if isinstance(v, str) and v.split(":")[0].endswith("vigil-dashboard.json")}
for pr in prov.get("providers", []) if isinstance(prov, dict) else []:
    if pr.get("options", {}).get("path") not in mount_dirs:
        fail(os.path.join(deploy, "grafana/provisioning/dashboards/vigil.yml"),
             f"path {pr.get('options', {}).get('path')} is not where docker-compose.yml mounts the dashboard ({sorted(mount_dirs)})")
note(f"prometheus: targets {targets}")

# ---------------------------------------------------------------------------------------------
# 8. vigil.service's command, and with a binary: flags, rules file, runtime libraries.
unit = os.path.join(deploy, "vigil.service")
if os.path.exists(unit):
    m = re.search(r"^ExecStart=\S*vigil\s+(.*)$", read(unit), re.M)
    if m:
        run_commands.append((unit, "ExecStart", m.group(1).split()))
dockerfile = os.path.join(deploy, "Dockerfile")
dtext = read(dockerfile) if os.path.exists(dockerfile) else ""
if not dtext:
    fail(dockerfile, "missing")
else:
    if not re.search(r"^FROM debian:12\b", dtext, re.M):
        fail(dockerfile, "should build FROM debian:12")
    if "deploy/install-deps.sh" not in dtext or "cmake" not in dtext:
        fail(dockerfile, "should build with deploy/install-deps.sh and CMake")
if vigil:
    help_text = subprocess.run([vigil, "run", "--help"], capture_output=True, text=True)
    help_text = help_text.stdout + help_text.stderr
    if "--brokers" not in help_text:
        fail(vigil, "`run --help` does not list --brokers: is this vigil?")
    for path, where, argv in run_commands:
        for a in argv[1:]:
            if a.startswith("--"):
                flag = a.split("=", 1)[0]
                if not re.search(re.escape(flag) + r"(?![\w-])", help_text):
                    fail(path, f"{where}: vigil run has no flag {flag} (vigil run --help)")
    r = subprocess.run([vigil, "rules", "--check", os.path.join(deploy, "rules.example.json")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(os.path.join(deploy, "rules.example.json"), f"vigil rules --check: {(r.stdout + r.stderr).strip()}")
    # The runtime stage's packages (and what they depend on here) must provide every library.
    last_stage = re.split(r"^FROM ", dtext, flags=re.M)[-1].replace("\\\n", " ")
    runtime = set()
    for m in re.finditer(r"apt-get install (.*)", last_stage):
        for w in m.group(1).split("&&")[0].split():
            if not w.startswith("-"):
                runtime.add(w)
    if not runtime:
        fail(dockerfile, "no apt-get install in the runtime stage")
    closure, todo = set(), list(runtime | {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"})
    while todo:
        pkg = todo.pop()
        if pkg in closure:
            continue
        closure.add(pkg)
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Depends},${Pre-Depends}", pkg], capture_output=True, text=True)
        for dep in re.split(r"[,|]", r.stdout):
            name = dep.strip().split(" ")[0].split(":")[0]
            if name:
                todo.append(name)
    ldd = subprocess.run(["ldd", vigil], capture_output=True, text=True).stdout
    for lib in re.findall(r"=>\s*(/\S+)", ldd):
        r = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        if r.returncode != 0:
            r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        pkg = r.stdout.split(":")[0].strip()
        if pkg and pkg not in closure:
            fail(dockerfile, f"the runtime stage installs nothing that provides {os.path.basename(lib)} ({pkg})")
    note(f"flags of {len(run_commands)} vigil run command lines checked against `{vigil} run --help`; "
         "rules file and runtime libraries checked")
else:
    note("SKIPPED: vigil run flags, rules file and runtime libraries not checked (no vigil binary given: "
         "deploy/check.sh build/vigil)")

if errors:
    print(f"deploy/check.sh: FAILED, {len(errors)} problem(s):", file=sys.stderr)
    for e in errors:
        print(f"  {e}", file=sys.stderr)
    sys.exit(1)
print("deploy/check.sh: all deployment files check out (syntax and references; nothing was started)")
PY
