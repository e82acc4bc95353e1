//! Test resets: returning an `Iam` to its bootstrap state (`castellan serve --test-reset`).
//!
//! The state as bootstrapped is a store [`Checkpoint`] (every account's records, the
//! organization, the primary account), kept in memory or read from the data directory's
//! `bootstrap.json`. A reset restores it in one step (one SQLite transaction in a data
//! directory), forgets the last-used data kept in memory, and refuses the session tokens issued
//! before it. Only for test suites: it deletes everything made since the bootstrap.

use std::sync::{PoisonError, RwLock};

use castellan_credentials::UnixTime;
use castellan_store::Checkpoint;
use castellan_sts::SessionClaims;

use crate::error::IamError;
use crate::iam::Iam;

/// The state a test reset returns to, and when the last reset happened.
pub(crate) struct ResetPoint {
    checkpoint: Checkpoint,
    /// Sessions issued in an earlier second than this are refused (tokens record their issue
    /// time in whole seconds).
    sessions_not_before: RwLock<Option<i64>>,
}

impl ResetPoint {
    pub(crate) fn new(checkpoint: Checkpoint) -> ResetPoint {
        ResetPoint { checkpoint, sessions_not_before: RwLock::new(None) }
    }

    /// Whether a session was issued before the last reset.
    pub(crate) fn revokes(&self, claims: &SessionClaims) -> bool {
        self.sessions_not_before
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|not_before| claims.issued_at.seconds < not_before)
    }
}

impl Iam {
    /// Whether [`Iam::reset_to_bootstrap`] is enabled (`IamBuilder::test_reset`).
    pub fn test_reset_enabled(&self) -> bool {
        self.reset.is_some()
    }

    /// Returns everything to the state as bootstrapped: the bootstrap accounts (same ids), their
    /// root users with the same access keys, the organization as bootstrapped (with the members'
    /// `OrganizationAccountAccessRole`), and nothing else — every user, group, role, policy,
    /// key, MFA device, provider, alias and organization change made since is gone, accounts
    /// created since are removed, the last-used data kept in memory is forgotten, and session
    /// tokens issued in an earlier second than the reset are refused from then on (until the
    /// process restarts). In a data directory the change is one transaction: it happens whole or
    /// not at all. For test suites only; `NotFound` unless enabled.
    pub fn reset_to_bootstrap(&self) -> Result<(), IamError> {
        let Some(point) = &self.reset else {
            return Err(IamError::new("NotFound", 404, "test resets are not enabled"));
        };
        self.directory.restore(&point.checkpoint)?;
        self.activity.clear();
        let now: UnixTime = self.clock.now();
        *point.sessions_not_before.write().unwrap_or_else(PoisonError::into_inner) = Some(now.seconds);
        Ok(())
    }
}
