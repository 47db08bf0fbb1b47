//! Grafana's dashboard JSON model, as much of it as the generated
//! dashboards use: a dashboard with its `__inputs` (the Prometheus
//! datasource asked for on import), template variables, and panels
//! (time series, stat, table) laid out on the 24-column grid, each with
//! its Prometheus targets.

use serde_json::{Value, json};

/// The dashboard schema version written: Grafana 11's.
pub(super) const SCHEMA_VERSION: u32 = 39;

/// The Prometheus datasource as panels and variables reference it: the
/// `datasource` variable, whose value the import input `DS_PROMETHEUS` sets.
fn prometheus() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// How a panel shows its queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    TimeSeries,
    /// The last value, large.
    Stat,
    /// An instant query's series as rows.
    Table,
}

/// One query of a panel.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) expr: String,
    pub(super) legend: String,
}

pub(super) fn target(expr: impl Into<String>, legend: impl Into<String>) -> Target {
    Target {
        expr: expr.into(),
        legend: legend.into(),
    }
}

/// A panel before it is placed.
#[derive(Debug, Clone)]
pub(super) struct Panel {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) kind: Kind,
    /// Grafana's unit id: `reqps`, `s`, `percentunit`, `short`, `ops`.
    pub(super) unit: &'static str,
    pub(super) targets: Vec<Target>,
    /// A latency panel: its queries ask for exemplars, which link to the
    /// trace of a sampled call in the `traces` datasource.
    pub(super) exemplars: bool,
    /// Columns of 24.
    pub(super) width: u32,
}

pub(super) fn panel(
    title: impl Into<String>,
    description: impl Into<String>,
    unit: &'static str,
    targets: Vec<Target>,
) -> Panel {
    Panel {
        title: title.into(),
        description: description.into(),
        kind: Kind::TimeSeries,
        unit,
        targets,
        exemplars: false,
        width: 12,
    }
}

impl Panel {
    pub(super) fn with_exemplars(mut self) -> Panel {
        self.exemplars = true;
        self
    }

    pub(super) fn kind(mut self, kind: Kind, width: u32) -> Panel {
        self.kind = kind;
        self.width = width;
        self
    }
}

/// A template variable.
pub(super) enum Variable {
    /// Values of `label` on `series` (`label_values(series, label)`),
    /// several at once or all (`.*`).
    Label {
        name: &'static str,
        label: &'static str,
        series: String,
    },
}

/// A dashboard being built: panels are placed left to right, rows of
/// height 8, a new row when the next one does not fit.
pub(super) struct Board {
    uid: String,
    title: String,
    description: String,
    tags: Vec<String>,
    variables: Vec<Value>,
    panels: Vec<Value>,
    x: u32,
    y: u32,
    row_height: u32,
}

impl Board {
    pub(super) fn new(uid: String, title: String, description: &str, service: &str) -> Board {
        Board {
            uid,
            title,
            description: description.to_owned(),
            tags: vec!["o11y".to_owned(), service.to_owned()],
            variables: vec![
                json!({
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                    "skipUrlSync": false,
                }),
                json!({
                    "name": "traces",
                    "label": "Traces",
                    "description": "Where the exemplars' trace ids are opened",
                    "type": "datasource",
                    "query": "tempo",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                    "skipUrlSync": false,
                }),
            ],
            panels: Vec::new(),
            x: 0,
            y: 0,
            row_height: 0,
        }
    }

    pub(super) fn variable(&mut self, variable: Variable) {
        let Variable::Label {
            name,
            label,
            series,
        } = variable;
        let query = format!("label_values({series}, {label})");
        self.variables.push(json!({
            "name": name,
            "label": label,
            "type": "query",
            "datasource": prometheus(),
            "definition": query,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "includeAll": true,
            "allValue": ".*",
            "multi": true,
            "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
            "refresh": 2,
            "sort": 1,
            "regex": "",
            "hide": 0,
            "options": [],
            "skipUrlSync": false,
        }));
    }

    /// A collapsed-less row header across the grid.
    pub(super) fn row(&mut self, title: &str) {
        self.next_line();
        let id = self.panels.len() + 1;
        self.panels.push(json!({
            "id": id,
            "type": "row",
            "title": title,
            "collapsed": false,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            "panels": [],
        }));
        self.y += 1;
    }

    fn next_line(&mut self) {
        if self.x > 0 {
            self.y += self.row_height;
            self.x = 0;
            self.row_height = 0;
        }
    }

    pub(super) fn panel(&mut self, panel: Panel) {
        let (width, height) = (panel.width.min(24), 8);
        if self.x + width > 24 {
            self.next_line();
        }
        let id = self.panels.len() + 1;
        let grid = json!({"h": height, "w": width, "x": self.x, "y": self.y});
        self.x += width;
        self.row_height = self.row_height.max(height);
        self.panels.push(render(panel, id, grid));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.panels.iter().all(|p| p["type"] == "row")
    }

    /// The dashboard JSON.
    pub(super) fn finish(self) -> Value {
        json!({
            "__inputs": [{
                "name": "DS_PROMETHEUS",
                "label": "Prometheus",
                "description": "The Prometheus that scrapes the service",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            }],
            "__requires": [
                {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "11.0.0"},
                {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
                {"type": "panel", "id": "table", "name": "Table", "version": ""},
            ],
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "editable": true,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": "now-1h", "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "refresh": "30s",
            "fiscalYearStartMonth": 0,
            "liveNow": false,
            "weekStart": "",
            "links": [{
                "title": "o11y dashboards",
                "type": "dashboards",
                "tags": ["o11y"],
                "asDropdown": true,
                "includeVars": true,
                "keepTime": true,
            }],
            "annotations": {"list": [{
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": true,
                "hide": true,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }]},
            "templating": {"list": self.variables},
            "panels": self.panels,
        })
    }
}

/// Exemplars link to their trace in the `traces` datasource.
fn exemplar_link() -> Value {
    json!({
        "title": "Open the trace",
        "url": "/explore?left={\"datasource\":\"${traces}\",\"queries\":[{\"refId\":\"A\",\"queryType\":\"traceql\",\"query\":\"${__data.fields.trace_id}\"}]}",
        "targetBlank": false,
    })
}

fn render(panel: Panel, id: usize, grid: Value) -> Value {
    let instant = panel.kind != Kind::TimeSeries;
    let targets: Vec<Value> = panel
        .targets
        .iter()
        .enumerate()
        .map(|(i, target)| {
            let mut value = json!({
                "refId": ref_id(i),
                "datasource": prometheus(),
                "expr": target.expr,
                "legendFormat": target.legend,
                "range": !instant,
                "instant": instant,
                "exemplar": panel.exemplars,
                "editorMode": "code",
            });
            if panel.kind == Kind::Table {
                value["format"] = json!("table");
            }
            value
        })
        .collect();
    let mut defaults = json!({"unit": panel.unit});
    if panel.exemplars {
        defaults["links"] = json!([exemplar_link()]);
    }
    let (kind, options) = match panel.kind {
        Kind::TimeSeries => {
            defaults["custom"] = json!({"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": false});
            (
                "timeseries",
                json!({
                    "legend": {"displayMode": "table", "placement": "bottom", "showLegend": true, "calcs": ["mean", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"},
                }),
            )
        }
        Kind::Stat => (
            "stat",
            json!({
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
                "colorMode": "value",
                "graphMode": "area",
                "textMode": "auto",
                "orientation": "auto",
                "justifyMode": "auto",
            }),
        ),
        Kind::Table => (
            "table",
            json!({"showHeader": true, "sortBy": [{"displayName": "Value", "desc": true}]}),
        ),
    };
    let mut value = json!({
        "id": id,
        "type": kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": prometheus(),
        "gridPos": grid,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": targets,
    });
    if panel.kind == Kind::Table {
        value["transformations"] = json!([{
            "id": "organize",
            "options": {"excludeByName": {"Time": true}},
        }]);
    }
    value
}

/// `A`, `B`, … as Grafana names a panel's queries.
fn ref_id(index: usize) -> String {
    char::from(b'A' + (index % 26) as u8).to_string()
}
