#!/usr/bin/env python3
"""Check that k8s/base says what the Helm chart says with its default values.

Usage: same-as-chart.py KUSTOMIZE_OUTPUT HELM_DEFAULTS_OUTPUT

Both are multi-document YAML files. Objects are matched by kind and name and compared after
removing what only one side can have: Helm's bookkeeping labels and the checksum annotations,
kustomize's managed-by label, the chart's Secret (k8s/base ships a template instead) and the
Namespace (the chart leaves it to `--create-namespace`). Exits 1 listing every difference.
"""
import sys

import yaml

HELM_ONLY_LABELS = {"helm.sh/chart", "app.kubernetes.io/managed-by"}
SKIP_KINDS = {"Secret", "Namespace"}


def strip_metadata(meta):
    labels = meta.get("labels") or {}
    for key in HELM_ONLY_LABELS:
        labels.pop(key, None)
    annotations = meta.get("annotations") or {}
    for key in [k for k in annotations if k.startswith("checksum/")]:
        del annotations[key]
    if "annotations" in meta and not annotations:
        del meta["annotations"]


def load(path):
    objects = {}
    with open(path, encoding="utf-8") as stream:
        for doc in yaml.safe_load_all(stream):
            if not doc or doc["kind"] in SKIP_KINDS:
                continue
            if (doc.get("metadata", {}).get("annotations") or {}).get("helm.sh/hook"):
                continue  # helm test pods have no kustomize counterpart
            strip_metadata(doc["metadata"])
            template = doc.get("spec", {}).get("template")
            if template:
                strip_metadata(template["metadata"])
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def differences(left, right, path=""):
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else key
            if key not in right:
                yield f"{where}: only in k8s/base ({left[key]!r})"
            elif key not in left:
                yield f"{where}: only in the chart ({right[key]!r})"
            else:
                yield from differences(left[key], right[key], where)
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right)):
            yield from differences(a, b, f"{path}[{index}]")
    elif left != right:
        yield f"{path}: k8s/base has {left!r}, the chart {right!r}"


def main():
    kustomize, chart = load(sys.argv[1]), load(sys.argv[2])
    problems = []
    for key in sorted(set(kustomize) | set(chart)):
        name = "/".join(key)
        if key not in chart:
            problems.append(f"{name}: only in k8s/base")
        elif key not in kustomize:
            problems.append(f"{name}: only in the chart's default render")
        else:
            problems += [f"{name} {d}" for d in differences(kustomize[key], chart[key])]
    for problem in problems:
        print(problem)
    print(f"{len(chart)} objects compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
