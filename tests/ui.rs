//! The macros' compile-time contract, checked with trybuild: what must
//! compile (and run), and what must fail with exactly the committed
//! diagnostics (`ui-tests/**/*.stderr`).
//!
//! - `ui-tests/pass/*.rs` compile and run (each has a `main` exercising it);
//! - `ui-tests/fail/*.rs` fail with the error in the matching `.stderr`;
//! - `ui-tests/off/`, run instead of both under the facade feature `off`:
//!   `pass_*.rs` shows `#[observe]` returning the item untouched and
//!   `#[metric]` declaring a metric that does nothing; `fail_*.rs` shows the
//!   arguments are still validated.
//!
//! Regenerate the `.stderr` files after a deliberate change with
//! `TRYBUILD=overwrite cargo test -p o11y --test ui` (and `--features off`; without
//! `-p o11y`, the examples package turns on integrations that skip them), then
//! read every diff.
//!
//! Skipped when a `profile-*` or integration feature is on: a profile only
//! changes the runtime's defaults and an integration (axum, reqwest, sqlx)
//! only adds runtime modules, never what the macros expand to nor the
//! diagnostics they give, so those runs would compile and check the same
//! cases again for nothing (trybuild builds the facade with the run's
//! features in a directory of its own: with sqlx, bundled SQLite and all,
//! twenty minutes on a loaded 2-core machine). scripts/test.sh runs them in
//! its default and `off` runs.

#![cfg(not(any(
    feature = "profile-dev",
    feature = "profile-prod",
    feature = "profile-test",
    feature = "axum",
    feature = "reqwest",
    feature = "sqlx"
)))]

#[cfg(not(feature = "off"))]
#[test]
fn ui_pass() {
    trybuild::TestCases::new().pass("ui-tests/pass/*.rs");
}

#[cfg(not(feature = "off"))]
#[test]
fn ui_fail() {
    trybuild::TestCases::new().compile_fail("ui-tests/fail/*.rs");
}

#[cfg(feature = "off")]
#[test]
fn ui_off() {
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/off/pass_*.rs");
    t.compile_fail("ui-tests/off/fail_*.rs");
}
