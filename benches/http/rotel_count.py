"""rotel trace processor for scripts/bench-http.sh: counts the spans that
arrived, by service.name, and rewrites $O11Y_BENCH_COUNTS (a JSON object
{service: count}) after every batch. Standard library only (rotel embeds
Debian's libpython3.11); counting instead of writing every span keeps the
collector cheap enough not to be what limits the run.

For the services of the prod-tail configuration (tail sampling), it also
keeps each trace's shape under "traces": {service: {trace_id: [spans,
reason, failed, root_ms]}}: how many of its spans arrived, their
`o11y.sampling.reason`, whether one has an error status, and how long its
root (the span without a parent) took. Only there: reading every span's
attributes would make a 100%-sampled run's collector the bottleneck.
"""

import json
import os
import threading

_LOCK = threading.Lock()
_COUNTS = {}
_TRACES = {}
_STATUS_ERROR = 2


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


def _status_code(span):
    status = getattr(span, "status", None)
    code = getattr(status, "code", 0) if status is not None else 0
    try:
        return int(code)
    except (TypeError, ValueError):
        return _STATUS_ERROR if str(code).lower().endswith("error") else 0


def _reason(span):
    for kv in _iter(span.attributes):
        if kv.key == "o11y.sampling.reason":
            value = kv.value
            return str(getattr(value, "value", value))
    return ""


def _shapes(resource_spans, traces):
    """Adds the spans of a batch to the shapes of their traces."""
    for scope_spans in _iter(resource_spans.scope_spans):
        for span in _iter(scope_spans.spans):
            trace_id = bytes(span.trace_id).hex()
            shape = traces.setdefault(trace_id, [0, "", 0, None])
            shape[0] += 1
            shape[1] = shape[1] or _reason(span)
            if _status_code(span) == _STATUS_ERROR:
                shape[2] = 1
            if not span.parent_span_id or not bytes(span.parent_span_id).strip(b"\0"):
                ns = span.end_time_unix_nano - span.start_time_unix_nano
                shape[3] = round(ns / 1e6, 3)


def process_spans(resource_spans):
    spans = 0
    for scope_spans in _iter(resource_spans.scope_spans):
        spans += _len(scope_spans.spans)
    service = _service(resource_spans)
    path = os.environ["O11Y_BENCH_COUNTS"]
    with _LOCK:
        _COUNTS[service] = _COUNTS.get(service, 0) + spans
        if "-prod-tail-" in service:
            _shapes(resource_spans, _TRACES.setdefault(service, {}))
            _COUNTS["traces"] = _TRACES
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_COUNTS, f)
        os.replace(tmp, path)
