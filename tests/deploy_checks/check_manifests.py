"""Docker and Kubernetes do not run here, so their files are checked as data: they parse, and
they say what deploy/ promises (non-root, read-only, probes, limits, graceful termination, a
disruption budget and autoscaler per service, secrets, monitoring, one database per service in
production).

    check_manifests.py SOURCE_ROOT
"""
import pathlib
import sys

import yaml

root = pathlib.Path(sys.argv[1]) / "deploy"
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
print(f"ok: {len(docs)} Kubernetes objects, {len(compose['services'])} compose services")
