//! Test resets: returning an `Iam` to its bootstrap state (`castellan serve --test-reset`).
//!
//! The state as bootstrapped is a store [`Checkpoint`] (every account's records, the
//! organization, the primary account), kept in memory or read from the data directory's
//! `bootstrap.json`. A reset restores it in one step (one SQLite transaction in a data
//! directory), forgets the last-used data kept in memory, and replaces the session-token key so
//! that every session issued before it is refused. Only for test suites: it deletes everything
//! made since the bootstrap.

use castellan_store::Checkpoint;

use crate::error::IamError;
use crate::iam::Iam;

/// The state a test reset returns to.
pub(crate) struct ResetPoint {
    checkpoint: Checkpoint,
}

impl ResetPoint {
    pub(crate) fn new(checkpoint: Checkpoint) -> ResetPoint {
        ResetPoint { checkpoint }
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
    /// created since are removed, the last-used data kept in memory is forgotten, and every
    /// session token issued before the reset is refused (the session-token key is replaced; in
    /// a data directory, in `master.keys` too). In a data directory the store's change is one
    /// transaction: it happens whole or not at all. For test suites only; `NotFound` unless
    /// enabled.
    pub fn reset_to_bootstrap(&self) -> Result<(), IamError> {
        let Some(point) = &self.reset else {
            return Err(IamError::new("NotFound", 404, "test resets are not enabled"));
        };
        // Should the restore fail, old sessions are refused all the same and the state is as
        // it was, which a retried reset mends.
        self.with_new_session_key(|| {
            self.directory.restore(&point.checkpoint)?;
            self.activity.clear();
            Ok(())
        })
    }
}
