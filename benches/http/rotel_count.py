"""rotel trace processor for scripts/bench-http.sh: counts the spans that
arrived, by service.name, and rewrites $O11Y_BENCH_COUNTS (a JSON object
{service: count}) after every batch. Standard library only (rotel embeds
Debian's libpython3.11); counting instead of writing every span keeps the
collector cheap enough not to be what limits the run.
"""

import json
import os
import threading

_LOCK = threading.Lock()
_COUNTS = {}


def _iter(seq):
    if seq is None:
        return []
    try:
        return list(iter(seq))
    except TypeError:
        out = []
        i = 0
        while True:
            try:
                out.append(seq[i])
            except (IndexError, KeyError):
                return out
            i += 1


def _service(resource_spans):
    resource = getattr(resource_spans, "resource", None)
    if resource is None:
        return ""
    for kv in _iter(getattr(resource, "attributes", None)):
        if kv.key == "service.name":
            value = kv.value
            return str(getattr(value, "value", value))
    return ""


def _len(seq):
    # len() when the list supports it: materialising every span as a Python
    # object made this processor the slowest part of a 100%-sampled run.
    try:
        return len(seq)
    except TypeError:
        return len(_iter(seq))


def process_spans(resource_spans):
    spans = 0
    for scope_spans in _iter(resource_spans.scope_spans):
        spans += _len(scope_spans.spans)
    service = _service(resource_spans)
    path = os.environ["O11Y_BENCH_COUNTS"]
    with _LOCK:
        _COUNTS[service] = _COUNTS.get(service, 0) + spans
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_COUNTS, f)
        os.replace(tmp, path)
