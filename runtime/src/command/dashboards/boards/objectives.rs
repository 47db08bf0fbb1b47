//! The objectives: error budget left, burn rates over the alert windows,
//! error ratio against the objective, from the recording rules of `rules`.

use super::board;
use crate::command::dashboards::grafana::{Board, Kind, Variable, panel, target};
use crate::command::inventory::{Inventory, number};
use crate::command::slos::{self, Sli};

pub(super) fn objectives(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "slo",
        "Objectives",
        "Service level objectives: error budget left over 30 days, burn rate over the alert windows, error ratio against the objective",
    );
    let slos = slos::slos(inventory);
    if slos.is_empty() {
        return board;
    }
    board.variable(Variable::Label {
        name: "slo",
        label: "slo",
        series: slos::OBJECTIVE.to_owned(),
    });
    let chosen = "slo=~\"$slo\"";
    board.panel(
        panel(
            "Error budget left (30 days)",
            "The share of the 30-day error budget not spent yet; below 0 the objective is missed",
            "percentunit",
            vec![target(
                format!("{}{{{chosen}}}", slos::BUDGET_REMAINING),
                "{{slo}} {{sli}} {{job}}",
            )],
        )
        .kind(Kind::Stat, 24),
    );
    let burn = |window: &str| {
        format!(
            "{}{{{chosen}}} / on (slo, sli) group_left () (1 - {}{{{chosen}}})",
            slos::error_ratio(window),
            slos::OBJECTIVE
        )
    };
    board.panel(panel(
        "Burn rate (page windows: 1h, 6h)",
        "How many times faster than the objective allows the budget burns; a page at 14.4 over 1h (and 5m) or 6 over 6h (and 30m)",
        "short",
        vec![
            target(burn("1h"), "1h {{slo}} {{sli}}"),
            target(burn("6h"), "6h {{slo}} {{sli}}"),
        ],
    ));
    board.panel(panel(
        "Burn rate (ticket windows: 1d, 3d)",
        "A ticket at 3 over 1d (and 2h) or 1 over 3d (and 6h)",
        "short",
        vec![
            target(burn("1d"), "1d {{slo}} {{sli}}"),
            target(burn("3d"), "3d {{slo}} {{sli}}"),
        ],
    ));
    board.panel(panel(
        "Error ratio (5m) and the objective's budget",
        "The share of bad calls over 5 minutes, against 1 - objective",
        "percentunit",
        vec![
            target(
                format!("{}{{{chosen}}}", slos::error_ratio("5m")),
                "{{slo}} {{sli}}",
            ),
            target(
                format!("1 - {}{{{chosen}}}", slos::OBJECTIVE),
                "budget {{slo}} {{sli}}",
            ),
        ],
    ));
    let listed: Vec<String> = slos
        .iter()
        .map(|slo| {
            let what = match slo.sli {
                Sli::Availability => "success",
                Sli::Latency => "latency",
            };
            format!("{} {what} {}%", slo.name, number(slo.target * 100.0))
        })
        .collect();
    board.panel(
        panel(
            "Objectives",
            format!("Declared objectives: {}", listed.join("; ")),
            "percentunit",
            vec![target(
                format!("{}{{{chosen}}}", slos::OBJECTIVE),
                "{{slo}} {{sli}}",
            )],
        )
        .kind(Kind::Table, 12),
    );
    board
}
