//! MFA codes presented to STS (`SerialNumber` and `TokenCode`), checked against the virtual MFA
//! devices the store keeps.

use castellan_credentials::{Clock, Sealer};
use castellan_store::{Owner, OwnerName};

use crate::assume_role::Accounts;

/// Checks an MFA code presented with `SerialNumber` and `TokenCode`.
pub trait MfaVerifier {
    /// Whether `code` is a valid, unused code at the clock's time of the device
    /// `serial_number`, enabled for `owner_arn` (an IAM user's ARN or an account's root ARN).
    /// A successful check spends the code.
    fn verify(&self, owner_arn: &str, serial_number: &str, code: &str, clock: &dyn Clock) -> bool;
}

/// The store's virtual MFA devices as an [`MfaVerifier`]: the device is looked up by serial
/// number in the owner's account and must be enabled for that user (or the root user); the code
/// is checked with `MfaDevice::authenticate`, and the device's new state (last step spent,
/// failure count) is saved back whether the code passed or not. A save that fails refuses the
/// code, so that a code is never accepted without being spent.
#[derive(Clone, Copy)]
pub struct StoreMfaVerifier<'a> {
    /// The accounts' stores.
    pub accounts: &'a dyn Accounts,
    /// The sealer of the devices' seeds (`None` when seeds are stored in the clear).
    pub sealer: Option<&'a Sealer>,
}

/// The account and owner an MFA owner ARN names: `arn:P:iam::ACCT:root` or
/// `arn:P:iam::ACCT:user/PATH/NAME`.
pub(crate) fn mfa_owner(arn: &str) -> Option<(&str, Owner<'_>)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if resource == "root" {
        return Some((account, Owner::Root));
    }
    let name = resource.strip_prefix("user/")?.rsplit('/').next()?;
    (!name.is_empty()).then_some((account, Owner::User(name)))
}

impl MfaVerifier for StoreMfaVerifier<'_> {
    fn verify(&self, owner_arn: &str, serial_number: &str, code: &str, clock: &dyn Clock) -> bool {
        let Some((account, owner)) = mfa_owner(owner_arn) else { return false };
        let Some(store) = self.accounts.store(account) else { return false };
        let Ok(record) = store.mfa_device(serial_number) else { return false };
        let owned = match (&record.owner, owner) {
            (Some(OwnerName::Root), Owner::Root) => true,
            (Some(OwnerName::User(name)), Owner::User(user)) => name.eq_ignore_ascii_case(user),
            _ => false,
        };
        // Another owner's device is not touched: its failure count is its owner's business.
        if !owned || !record.device.is_enabled() {
            return false;
        }
        let mut device = record.device;
        let passed = device.authenticate(self.sealer, code, clock).is_ok();
        let saved = store.save_mfa_device(device).is_ok();
        passed && saved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_arns() {
        assert_eq!(mfa_owner("arn:aws:iam::111122223333:root"), Some(("111122223333", Owner::Root)));
        assert_eq!(mfa_owner("arn:aws:iam::111122223333:user/a/b/Alice"), Some(("111122223333", Owner::User("Alice"))));
        assert_eq!(mfa_owner("arn:aws:sts::111122223333:assumed-role/R/s"), None);
        assert_eq!(mfa_owner("arn:aws:iam::111122223333:role/R"), None);
        assert_eq!(mfa_owner("arn:aws:iam::111122223333:user/"), None);
        assert_eq!(mfa_owner("nonsense"), None);
    }
}
