"""Docker and Kubernetes do not run here, so their files are checked as data: they parse, and
they say what deploy/ promises (non-root, read-only, probes, limits, graceful termination, a
disruption budget and autoscaler per service, secrets, monitoring, one database per service in
production, a small build context, API docs the gateway can serve).

    check_manifests.py SOURCE_ROOT
"""
import os
import pathlib
import re
import sys

import yaml

source = pathlib.Path(sys.argv[1])
root = source / "deploy"
SERVICES = ["contacts", "pipeline", "tasks", "reporting", "gateway"]
DRAIN_SECONDS = 10
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


# Dockerfile: multi-stage, Debian 12 build, slim runtime, non-root.
dockerfile = (root / "docker/Dockerfile").read_text()
froms = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
check(froms[:1] == ["debian:12"] and froms[-1:] == ["debian:12-slim"], f"Dockerfile stages: {froms}")
user_lines = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
check(user_lines and not user_lines[-1].split()[1].startswith("0"), "Dockerfile runs as root")
for binary in SERVICES + ["crmctl"]:
    check(f"build/services/{binary}/{binary}" in dockerfile, f"Dockerfile does not ship {binary}")

# tzdata is a runtime dependency (time zones load from /usr/share/zoneinfo), listed, not inherited.
runtime_stage = dockerfile.split("\nFROM ")[-1]
runtime_commands = [line for line in runtime_stage.splitlines() if not line.startswith("#")]
check(any(re.search(r"\btzdata\b", line) for line in runtime_commands),
      "the runtime stage does not install tzdata")
stages = {}
for stage in dockerfile.split("\nFROM ")[1:]:
    header = stage.splitlines()[0].split()
    if len(header) == 3 and header[1] == "AS":
        stages[header[2]] = stage
for name, stage in stages.items():
    for line in re.findall(r"^COPY (?!--from)\S+ .*$", stage, re.M):
        copied = line.split()[1]
        check(copied == "." or copied in stage.split(line, 1)[1],
              f"the {name} stage copies {copied} and never uses it")


# The build context: the checkout as `docker build` sends it, after .dockerignore. Docker's rules:
# `*` and `?` stay within a path segment, `**` spans segments, a pattern that matches a directory
# excludes everything under it, and the last matching line decides (`!` re-includes).
def dockerignore_rules(text):
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((re.compile(regex + "(?:/.*)?"), include))
    return rules


def ignored(rules, path):
    verdict = False
    for regex, include in rules:
        if regex.fullmatch(path):
            verdict = not include
    return verdict


ignore_file = source / ".dockerignore"
check(ignore_file.exists(), "no .dockerignore: docker build would send build trees and .run/")
rules = dockerignore_rules(ignore_file.read_text() if ignore_file.exists() else "")
# Whatever the checkout holds right now, these never reach the build, and the sources always do.
for path in ["build/CMakeCache.txt", "build-asan/services/contacts/contacts", ".run/pg/PG_VERSION",
             ".deps/node_modules/swagger-ui-dist/swagger-ui-bundle.js", ".git/HEAD",
             "out/CMakeCache.txt", "out/CMakeFiles/Makefile.cmake", "docs/node_modules/x.js"]:
    check(ignored(rules, path), f".dockerignore lets {path} into the build context")
for path in ["CMakeLists.txt", "Makefile", "proto/crm/contacts/v1/contact.proto",
             "services/contacts/main.cc", "common/db/pool.cc", "cmake", "deploy/local/bootstrap_db.sql",
             "services/contacts/migrations/001_contacts.sql"]:
    check(not ignored(rules, path), f".dockerignore keeps {path} out of the build")
MAX_CONTEXT_BYTES = 32 << 20
context_bytes = 0
context_files = 0
for directory, subdirectories, files in os.walk(source):
    relative = os.path.relpath(directory, source)
    prefix = "" if relative == "." else relative + "/"
    # Pruning is exact only while no line re-includes something below an ignored directory.
    if not any(include for _, include in rules):
        subdirectories[:] = [d for d in subdirectories if not ignored(rules, prefix + d)]
    for name in files:
        path = prefix + name
        if ignored(rules, path):
            continue
        check(name != "CMakeCache.txt", f"the build context holds {path}")
        context_files += 1
        context_bytes += os.lstat(os.path.join(directory, name)).st_size
check(context_bytes <= MAX_CONTEXT_BYTES,
      f"the build context is {context_bytes >> 20} MB (at most {MAX_CONTEXT_BYTES >> 20} MB)")

# API docs: the files the gateway's /docs page loads are in the image, at the path every gateway
# deployment passes as --docs_dir, and the image pins the Swagger UI version `make run` installs.
docs_copy = re.search(r"^COPY --from=docs /out/ (\S+)$", dockerfile, re.M)
check(docs_copy is not None, "the image ships no Swagger UI (COPY --from=docs)")
docs_in_image = docs_copy.group(1).rstrip("/") if docs_copy else None
page = (source / "services/gateway/gateway_server.cc").read_text()
for asset in sorted(set(re.findall(r'"/docs/([\w.-]+\.(?:js|css))"', page))):
    check(f"/tmp/package/{asset}" in stages.get("docs", ""), f"the image lacks /docs/{asset}")
version = re.search(r"ARG SWAGGER_UI_VERSION=(\S+)", dockerfile)
deps = (root / "local/deps.sh").read_text()
check(version is not None and f"swagger-ui-dist@{version.group(1)} " in deps,
      "the image and deploy/local/deps.sh pin different Swagger UI versions")


def docs_dirs(arguments):
    return [a.split("=", 1)[1].rstrip("/") for a in arguments if a.startswith("--docs_dir=")]


# compose: PostgreSQL, every service, the gateway and Prometheus.
compose = yaml.safe_load((root / "compose.yaml").read_text())
for name in ["postgres", "prometheus"] + SERVICES:
    check(name in compose["services"], f"compose lacks {name}")
for name in SERVICES:
    service = compose["services"].get(name, {})
    check(service.get("command", [None])[0] == name, f"compose {name} runs {service.get('command')}")
    check(service.get("read_only") is True, f"compose {name} is not read-only")
    check(str(service.get("user", "0")).split(":")[0] not in ("0", "root"), f"compose {name} is root")
for name in SERVICES:
    environment = compose["services"].get(name, {}).get("environment", {})
    check(("CRM_SERVICE_SECRET" in environment) == (name != "gateway"),
          f"compose {name}: the service secret belongs to backend services only")
check(docs_dirs(compose["services"]["gateway"].get("command", [])) == [docs_in_image],
      f"compose gateway does not serve the image's docs ({docs_in_image})")
for mount in compose["services"]["prometheus"]["volumes"]:
    check((root / mount.split(":")[0]).exists(), f"compose mounts a missing {mount}")

# Kubernetes base.
base = root / "k8s/base"
kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
docs = []
for resource in kustomization["resources"]:
    path = base / resource
    check(path.exists(), f"kustomization names a missing {resource}")
    if path.exists():
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
by_kind = {}
for doc in docs:
    by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
for name in SERVICES:
    deployment = by_kind.get("Deployment", {}).get(name)
    check(deployment is not None, f"no Deployment {name}")
    if deployment is None:
        continue
    pod = deployment["spec"]["template"]["spec"]
    check(pod.get("terminationGracePeriodSeconds", 30) > DRAIN_SECONDS,
          f"{name}: grace period not longer than the {DRAIN_SECONDS} s drain")
    for container in pod["containers"]:
        security = container.get("securityContext", {})
        check(security.get("runAsNonRoot") is True, f"{name}: may run as root")
        check(security.get("readOnlyRootFilesystem") is True, f"{name}: writable root filesystem")
        check(security.get("allowPrivilegeEscalation") is False, f"{name}: privilege escalation")
        for probe in ["readinessProbe", "livenessProbe"]:
            check(probe in container, f"{name}: no {probe}")
        if name != "gateway":
            check("grpc" in container.get("readinessProbe", {}), f"{name}: readiness is not gRPC health")
        env = {e["name"] for e in container.get("env", [])}
        env_from = {e.get("configMapRef", {}).get("name") for e in container.get("envFrom", [])}
        check("crm-auth" in env_from, f"{name}: user tokens not configured from crm-auth")
        check("CRM_JWT_SECRET" not in env, f"{name}: holds a token signing secret")
        # Only backend services hold the service identity's secret: never the internet-facing one.
        check(("CRM_SERVICE_SECRET" in env) == (name != "gateway"),
              f"{name}: service secret {'present' if name == 'gateway' else 'missing'}")
        if name == "gateway":
            check(docs_dirs(container.get("args", [])) == [docs_in_image],
                  f"gateway Deployment does not serve the image's docs ({docs_in_image})")
        resources = container.get("resources", {})
        check("requests" in resources and "limits" in resources, f"{name}: no requests/limits")
    check(name in by_kind.get("Service", {}), f"no Service {name}")
    check(by_kind.get("PodDisruptionBudget", {}).get(name, {}).get("spec", {}).get("minAvailable")
          is not None, f"no PodDisruptionBudget {name}")
    hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(name)
    check(hpa is not None and hpa["spec"]["scaleTargetRef"]["name"] == name, f"no HPA for {name}")
for secret in ["crm-service", "crm-db"]:
    check(secret in by_kind.get("Secret", {}), f"no Secret {secret}")
for config in ["crm-auth", "crm-jwks"]:
    check(config in by_kind.get("ConfigMap", {}), f"no ConfigMap {config}")
check("crm" in by_kind.get("ServiceMonitor", {}), "no ServiceMonitor")

# Production overlay: every database service on its own database.
overlay = root / "k8s/overlays/production"
production = yaml.safe_load((overlay / "kustomization.yaml").read_text())
check("../../base" in production["resources"], "overlay does not build on the base")
for patch in production.get("patches", []):
    if "target" in patch:
        check(patch["target"]["name"] in by_kind.get("Deployment", {}),
              f"overlay patches a missing {patch['target']['name']}")
    else:
        check((overlay / patch["path"]).exists(), f"overlay patch {patch['path']} missing")
databases = yaml.safe_load((overlay / "databases.yaml").read_text())["stringData"]
hosts = {url.split("host=")[1].split()[0] for url in databases.values()}
check(set(databases) == {"contacts", "pipeline", "tasks", "reporting"}, f"databases: {set(databases)}")
check(len(hosts) == len(databases), "production services share a database host")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"ok: {len(docs)} Kubernetes objects, {len(compose['services'])} compose services, "
      f"a build context of {context_files} files, {context_bytes >> 10} KiB")
