//! Attribute macros of [o11y](https://docs.rs/o11y). Use them through the
//! `o11y` crate, which re-exports them next to the runtime they call into.
//!
//! The attributes (`#[observe]`, `#[metric]`, `#[task_traced]`) arrive with
//! their own issues; this crate is their home in the workspace layout.
