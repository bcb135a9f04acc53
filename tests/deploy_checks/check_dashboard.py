"""Checks deploy/grafana/crm.json: valid JSON with the fields Grafana's import needs, panels that
do not overlap, and queries that name only metrics some CRM process registers.

    check_dashboard.py DASHBOARD SOURCE_ROOT
"""
import json
import pathlib
import re
import sys

dashboard = json.loads(pathlib.Path(sys.argv[1]).read_text())
root = pathlib.Path(sys.argv[2])
for key in ("title", "uid", "panels", "schemaVersion"):
    assert key in dashboard, f"dashboard lacks {key}"
exported = set()
for source in list(root.glob("common/**/*.cc")) + list(root.glob("services/**/*.cc")):
    exported.update(re.findall(r'\.Name\("([a-z_]+)"\)', source.read_text()))
exported.update({"process_resident_memory_bytes", "process_cpu_seconds_total"})
cells = set()
for panel in dashboard["panels"]:
    assert panel.get("targets"), f"panel {panel.get('title')} has no query"
    grid = panel["gridPos"]
    for x in range(grid["x"], grid["x"] + grid["w"]):
        for y in range(grid["y"], grid["y"] + grid["h"]):
            assert (x, y) not in cells, f"panel {panel['title']} overlaps another"
            cells.add((x, y))
    for target in panel["targets"]:
        for name in re.findall(r"\b((?:crm|grpc|process)_[a-z_]+?)(?:_bucket|_sum|_count)?\b[\[{(]", target["expr"]):
            assert name in exported, f"panel {panel['title']}: no process exports {name}"
print(f"ok: {len(dashboard['panels'])} panels")
