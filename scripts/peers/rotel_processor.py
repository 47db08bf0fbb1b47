"""rotel processor: append what arrived to JSONL files, one flat object per item.

Loaded by rotel-agent (scripts/peers/rotel.sh passes this one file to all three
of --otlp-with-trace-processor / --otlp-with-logs-processor /
--otlp-with-metrics-processor). Standard library only: rotel embeds Debian's
libpython3.11 and its `rotel_sdk` object model (see the rotel-sdk .pyi stubs).

Output directory: $O11Y_ROTEL_OUT_DIR (set by rotel.sh to the peer's workdir).

Files and shapes (ids are lowercase hex, "" when absent; bytes values are hex strings;
array attribute values are JSON lists, kvlist values JSON objects):

spans.jsonl, one object per span:
  {"trace_id": hex32, "span_id": hex16, "parent_span_id": hex16 or "",
   "trace_state", "flags", "name",
   "kind": "unspecified"|"internal"|"server"|"client"|"producer"|"consumer",
   "kind_int": 0..5, "start_time_unix_nano", "end_time_unix_nano",
   "attributes": {k: v}, "resource": {k: v}, "scope": name, "scope_version",
   "status_code": "unset"|"ok"|"error", "status_message",
   "events": [{"name", "time_unix_nano", "attributes"}],
   "links": [{"trace_id", "span_id", "trace_state", "attributes"}]}

logs.jsonl, one object per log record:
  {"trace_id", "span_id", "severity_text", "severity_number", "body",
   "attributes", "resource", "scope", "scope_version", "event_name", "flags",
   "time_unix_nano", "observed_time_unix_nano"}

metrics.jsonl, one object per data point:
  common: {"name", "description", "unit",
           "type": "gauge"|"sum"|"histogram"|"exponential_histogram"|"summary",
           "attributes", "resource", "scope", "scope_version",
           "start_time_unix_nano", "time_unix_nano", "flags", "exemplars":
           [{"trace_id", "span_id", "value", "time_unix_nano", "filtered_attributes"}]}
  gauge / sum: "value" (int or float); sum also "is_monotonic" and
           "temporality": "delta"|"cumulative"|"unspecified"
  histogram: "count", "sum" (or null), "bucket_counts", "explicit_bounds",
           "min", "max", "temporality"
  exponential_histogram: "count", "sum", "scale", "zero_count", "zero_threshold",
           "positive": {"offset", "bucket_counts"}, "negative": {...}, "min",
           "max", "temporality"
  summary: "count", "sum", "quantiles": [{"quantile", "value"}]

A processor error is appended to processor-errors.log in the same directory
(and re-raised so rotel logs it too).
"""

import json
import os
import threading
import traceback

_LOCK = threading.Lock()


def _out_dir():
    d = os.environ.get("O11Y_ROTEL_OUT_DIR")
    if d:
        return d
    try:
        return os.path.dirname(os.path.abspath(__file__))
    except NameError:
        return os.getcwd()


def _append(file_name, objs):
    if not objs:
        return
    data = "".join(json.dumps(o, separators=(",", ":"), default=str) + "\n" for o in objs)
    path = os.path.join(_out_dir(), file_name)
    with _LOCK:
        # One write of whole lines, then flush: a reader never sees a torn
        # object except possibly a trailing line without its newline.
        with open(path, "a", encoding="utf-8") as f:
            f.write(data)
            f.flush()


def _error(what):
    try:
        path = os.path.join(_out_dir(), "processor-errors.log")
        with _LOCK:
            with open(path, "a", encoding="utf-8") as f:
                f.write("error in %s:\n%s\n" % (what, traceback.format_exc()))
                f.flush()
    except Exception:  # noqa: BLE001 - never mask the original error
        pass


def _hex(b):
    if not b:
        return ""
    try:
        return bytes(b).hex()
    except Exception:  # noqa: BLE001
        return str(b)


def _iter(seq):
    """Iterate an SDK list wrapper (supports iteration or only __getitem__)."""
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


def _variant_inner(obj):
    """Inner value of a pyo3 tuple-variant enum (e.g. MetricData.Gauge(g))."""
    for attr in ("_0",):
        if hasattr(obj, attr):
            return getattr(obj, attr)
    try:
        return obj[0]
    except Exception:  # noqa: BLE001
        return obj


def _val(x):
    """Convert an AnyValue (or what its .value holds) to plain JSON."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).hex()
    name = type(x).__name__
    if name == "AnyValue":
        return _val(getattr(x, "value", None))
    if name == "KeyValue":
        return {x.key: _val(x.value)}
    if name == "KeyValueList":
        return _attrs(x)
    if name == "ArrayValue":
        return [_val(v) for v in _iter(x)]
    if isinstance(x, (list, tuple)):
        # rotel hands a bytes AnyValue over as a plain list of ints.
        if all(isinstance(v, int) and not isinstance(v, bool) for v in x):
            return bytes(x).hex()
        return [_val(v) for v in x]
    return str(x)


def _attrs(kvs):
    out = {}
    for kv in _iter(kvs):
        out[kv.key] = _val(kv.value)
    return out


def _resource(holder):
    res = getattr(holder, "resource", None)
    if res is None:
        return {}
    return _attrs(getattr(res, "attributes", None))


def _scope(scoped):
    sc = getattr(scoped, "scope", None)
    if sc is None:
        return "", ""
    return getattr(sc, "name", "") or "", getattr(sc, "version", "") or ""


_KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"]
_STATUS = ["unset", "ok", "error"]


def _int_of(v, default=0):
    if v is None:
        return default
    try:
        return int(v)
    except (TypeError, ValueError):
        s = str(v).lower()
        for i, name in enumerate(_STATUS):
            if s.endswith(name):
                return i
        return default


def _span(sp, resource, scope, scope_version):
    kind = _int_of(getattr(sp, "kind", 0))
    status = getattr(sp, "status", None)
    code = _int_of(getattr(status, "code", 0)) if status is not None else 0
    return {
        "trace_id": _hex(sp.trace_id),
        "span_id": _hex(sp.span_id),
        "parent_span_id": _hex(sp.parent_span_id),
        "trace_state": getattr(sp, "trace_state", "") or "",
        "flags": getattr(sp, "flags", 0),
        "name": sp.name,
        "kind": _KINDS[kind] if 0 <= kind < len(_KINDS) else str(kind),
        "kind_int": kind,
        "start_time_unix_nano": sp.start_time_unix_nano,
        "end_time_unix_nano": sp.end_time_unix_nano,
        "attributes": _attrs(sp.attributes),
        "resource": resource,
        "scope": scope,
        "scope_version": scope_version,
        "status_code": _STATUS[code] if 0 <= code < len(_STATUS) else str(code),
        "status_message": (getattr(status, "message", "") or "") if status is not None else "",
        "events": [
            {
                "name": ev.name,
                "time_unix_nano": ev.time_unix_nano,
                "attributes": _attrs(ev.attributes),
            }
            for ev in _iter(sp.events)
        ],
        "links": [
            {
                "trace_id": _hex(ln.trace_id),
                "span_id": _hex(ln.span_id),
                "trace_state": getattr(ln, "trace_state", "") or "",
                "attributes": _attrs(ln.attributes),
            }
            for ln in _iter(getattr(sp, "links", None))
        ],
    }


def process_spans(resource_spans):
    try:
        resource = _resource(resource_spans)
        out = []
        for ss in _iter(resource_spans.scope_spans):
            scope, scope_version = _scope(ss)
            for sp in _iter(ss.spans):
                out.append(_span(sp, resource, scope, scope_version))
        _append("spans.jsonl", out)
    except Exception:
        _error("process_spans")
        raise


def process_logs(resource_logs):
    try:
        resource = _resource(resource_logs)
        out = []
        for sl in _iter(resource_logs.scope_logs):
            scope, scope_version = _scope(sl)
            for lr in _iter(sl.log_records):
                out.append(
                    {
                        "trace_id": _hex(lr.trace_id),
                        "span_id": _hex(lr.span_id),
                        "severity_text": lr.severity_text or "",
                        "severity_number": _int_of(lr.severity_number),
                        "body": _val(lr.body),
                        "attributes": _attrs(lr.attributes),
                        # As sent, repeats included (the dict above keeps one).
                        "attribute_keys": [kv.key for kv in _iter(lr.attributes)],
                        "resource": resource,
                        "scope": scope,
                        "scope_version": scope_version,
                        "event_name": getattr(lr, "event_name", "") or "",
                        "flags": getattr(lr, "flags", 0),
                        "time_unix_nano": lr.time_unix_nano,
                        "observed_time_unix_nano": getattr(lr, "observed_time_unix_nano", 0),
                    }
                )
        _append("logs.jsonl", out)
    except Exception:
        _error("process_logs")
        raise


def _temporality(t):
    if t is None:
        return "unspecified"
    try:
        s = t.as_str_name()
    except Exception:  # noqa: BLE001
        s = str(t)
    s = s.lower()
    for name in ("cumulative", "delta"):
        if name in s:
            return name
    if isinstance(t, int):
        return {1: "delta", 2: "cumulative"}.get(t, "unspecified")
    return "unspecified"


def _number(v):
    """NumberDataPointValue / ExemplarValue (AsInt / AsDouble) -> number."""
    if v is None or isinstance(v, (int, float)):
        return v
    inner = _variant_inner(v)
    if isinstance(inner, (int, float)):
        return inner
    return _val(inner)


def _opt_float(v):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _exemplars(dp):
    return [
        {
            "trace_id": _hex(getattr(ex, "trace_id", b"")),
            "span_id": _hex(getattr(ex, "span_id", b"")),
            "value": _number(getattr(ex, "value", None)),
            "time_unix_nano": getattr(ex, "time_unix_nano", 0),
            "filtered_attributes": _attrs(getattr(ex, "filtered_attributes", None)),
        }
        for ex in _iter(getattr(dp, "exemplars", None))
    ]


def _base(m, kind, dp, resource, scope, scope_version):
    return {
        "name": m.name,
        "description": m.description or "",
        "unit": m.unit or "",
        "type": kind,
        "attributes": _attrs(dp.attributes),
        "resource": resource,
        "scope": scope,
        "scope_version": scope_version,
        "start_time_unix_nano": getattr(dp, "start_time_unix_nano", 0),
        "time_unix_nano": getattr(dp, "time_unix_nano", 0),
        "flags": getattr(dp, "flags", 0),
        "exemplars": _exemplars(dp),
    }


def _metric_points(m, resource, scope, scope_version):
    data = getattr(m, "data", None)
    if data is None:
        return []
    variant = type(data).__name__  # e.g. "MetricData_Gauge"
    inner = _variant_inner(data)
    if variant.startswith("MetricData_"):
        variant = variant[len("MetricData_"):]
    else:
        variant = type(inner).__name__
    out = []
    if variant in ("Gauge", "Sum"):
        for dp in _iter(inner.data_points):
            o = _base(m, variant.lower(), dp, resource, scope, scope_version)
            o["value"] = _number(dp.value)
            if variant == "Sum":
                o["is_monotonic"] = bool(getattr(inner, "is_monotonic", False))
                o["temporality"] = _temporality(getattr(inner, "aggregation_temporality", None))
            out.append(o)
    elif variant == "Histogram":
        for dp in _iter(inner.data_points):
            o = _base(m, "histogram", dp, resource, scope, scope_version)
            o["count"] = dp.count
            o["sum"] = _opt_float(dp.sum)
            o["bucket_counts"] = [int(c) for c in _iter(dp.bucket_counts)]
            o["explicit_bounds"] = [float(b) for b in _iter(dp.explicit_bounds)]
            o["min"] = _opt_float(getattr(dp, "min", None))
            o["max"] = _opt_float(getattr(dp, "max", None))
            o["temporality"] = _temporality(getattr(inner, "aggregation_temporality", None))
            out.append(o)
    elif variant == "ExponentialHistogram":
        for dp in _iter(inner.data_points):
            o = _base(m, "exponential_histogram", dp, resource, scope, scope_version)
            o["count"] = dp.count
            o["sum"] = _opt_float(dp.sum)
            o["scale"] = dp.scale
            o["zero_count"] = dp.zero_count
            o["zero_threshold"] = _opt_float(getattr(dp, "zero_threshold", None))
            for side in ("positive", "negative"):
                b = getattr(dp, side, None)
                o[side] = (
                    None
                    if b is None
                    else {"offset": b.offset, "bucket_counts": [int(c) for c in _iter(b.bucket_counts)]}
                )
            o["min"] = _opt_float(getattr(dp, "min", None))
            o["max"] = _opt_float(getattr(dp, "max", None))
            o["temporality"] = _temporality(getattr(inner, "aggregation_temporality", None))
            out.append(o)
    elif variant == "Summary":
        for dp in _iter(inner.data_points):
            o = _base(m, "summary", dp, resource, scope, scope_version)
            o["count"] = dp.count
            o["sum"] = _opt_float(dp.sum)
            o["quantiles"] = [
                {"quantile": q.quantile, "value": q.value} for q in _iter(dp.quantile_values)
            ]
            out.append(o)
    else:
        out.append(
            {
                "name": m.name,
                "description": m.description or "",
                "unit": m.unit or "",
                "type": "unknown:" + variant,
                "attributes": {},
                "resource": resource,
                "scope": scope,
                "scope_version": scope_version,
            }
        )
    return out


def process_metrics(resource_metrics):
    try:
        resource = _resource(resource_metrics)
        out = []
        for sm in _iter(resource_metrics.scope_metrics):
            scope, scope_version = _scope(sm)
            for m in _iter(sm.metrics):
                out.extend(_metric_points(m, resource, scope, scope_version))
        _append("metrics.jsonl", out)
    except Exception:
        _error("process_metrics")
        raise
