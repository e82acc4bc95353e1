//! Full-stack tests: whole stories told through the `castellan` facade only, with a fixed clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod admin_denied;
mod audit;
mod authenticate;
mod common;
mod more_admin;
mod org_guardrails;
mod organizations;
mod simulate;
mod stories;
mod test_endpoint;
