"""Parses Prometheus text exposition with the reference client's parser (prometheus-client from
PyPI) and prints, as JSON, each sample name's sum over its label sets, plus the label sets seen
per sample name. A file the parser refuses exits non-zero with the parser's error."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

totals, labels, types = {}, {}, {}
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for sample in family.samples:
        totals[sample.name] = totals.get(sample.name, 0) + sample.value
        labels.setdefault(sample.name, []).append(sample.labels)
print(json.dumps({"totals": totals, "labels": labels, "types": types}, sort_keys=True))
