//! The templates crate's public behaviour: one test binary, a module per
//! area.

mod alert;
mod budget;
mod errors;
mod escapes;
mod fuzz;
mod params;
mod syntax;

use herald_templates::{Escape, render};
use serde_json::{Value, json};

/// The variables ingest passes, with a typical alert context.
fn vars() -> Value {
    json!({
        "context": {
            "host": "web-1",
            "reason": "disk full",
            "count": 3,
            "ratio": 0.25,
            "whole": 2.0,
            "up": false,
            "ok": true,
            "zero": 0,
            "empty": "",
            "nothing": null,
            "tags": ["prod", "eu"],
            "none": [],
            "labels": {"team": "ops", "tier": 1},
            "alerts": [
                {"id": "a1", "host": "web-1", "value": 91},
                {"id": "a2", "value": 97},
            ],
        },
        "action": {"id": "act-1", "index": 0},
        "account": {"id": "ops-slack", "name": "Ops", "type": "slack"},
    })
}

#[track_caller]
fn plain(template: &str) -> String {
    render(template, &vars(), Escape::None).expect("template renders")
}
