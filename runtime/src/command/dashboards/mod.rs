//! The `dashboards` command: Grafana dashboards (JSON, one file each)
//! for what the program's catalog holds, with a panel only for a metric
//! the catalog lists and a dashboard only when it has panels. Each asks
//! for its Prometheus datasource on import (`__inputs`, `DS_PROMETHEUS`),
//! has a `datasource` and a `traces` variable (where exemplars open), and
//! the variables of its own metrics' labels. The dashboards themselves
//! are in [`boards`], the JSON model in [`grafana`].

mod boards;
mod grafana;

use std::path::Path;

use serde_json::Value;

use super::args::{Args, Failure};
use super::inventory::Inventory;
use super::{Context, Outcome, Output};

pub(super) const USAGE: &str = "\
usage: cargo o11y dashboards [--example NAME | --bin NAME | -p PACKAGE] --out DIR
       O11Y_COMMAND=dashboards O11Y_COMMAND_ARGS='--out DIR' <program>

Writes Grafana dashboards (JSON, schema version 39) for the metrics the
program can emit (its link-time catalog): overview (HTTP), functions,
database, tasks, the application's own metrics, o11y itself, and the
objectives (error budget, burn rate). Import them in Grafana (Dashboards >
New > Import: it asks for the Prometheus datasource), or provision them.

  --out DIR  the directory to write them to (created if missing)";

pub(super) fn run(
    args: &mut Args,
    context: &Context<'_>,
    output: &mut Output<'_>,
) -> Result<Outcome, Failure> {
    let dir = args.value("--out")?;
    args.finish(&["--out"])?;
    let Some(dir) = dir else {
        return Err(Failure::Usage(
            "--out DIR is required: the directory to write the dashboards to".to_owned(),
        ));
    };
    let inventory = match Inventory::gather(context.config) {
        Ok(inventory) => inventory,
        Err(problem) => {
            writeln!(output.err, "o11y dashboards: {problem}")?;
            return Ok(Outcome::Failed);
        }
    };
    let written = match write_dashboards(&inventory, Path::new(&dir)) {
        Ok(written) => written,
        Err(problem) => {
            writeln!(output.err, "o11y dashboards: {problem}")?;
            return Ok(Outcome::Failed);
        }
    };
    for (file, title) in &written {
        writeln!(output.out, "{file}  {title}")?;
    }
    writeln!(output.out, "{} dashboards written to {dir}", written.len())?;
    Ok(Outcome::Passed)
}

/// Every dashboard of `inventory`, as `(file name, JSON)`.
pub(super) fn dashboards(inventory: &Inventory) -> Vec<(String, Value)> {
    boards::all(inventory)
        .into_iter()
        .map(|(slug, board)| (format!("o11y-{slug}.json"), board))
        .collect()
}

/// Writes each dashboard to `dir`; answers `(file, title)` of each.
pub(super) fn write_dashboards(
    inventory: &Inventory,
    dir: &Path,
) -> Result<Vec<(String, String)>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (file, board) in dashboards(inventory) {
        let path = dir.join(&file);
        let text = serde_json::to_string_pretty(&board).map_err(|e| e.to_string())? + "\n";
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let title = board["title"].as_str().unwrap_or_default().to_owned();
        written.push((file, title));
    }
    Ok(written)
}
