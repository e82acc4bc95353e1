//! `GetCallerIdentity` and `GetAccessKeyInfo`, and the temporary access key ids that carry
//! their account.
//!
//! A temporary key id (`ASIA` and 16 characters of the base32 alphabet, 80 bits) holds the
//! session's 12-digit account in its first 40 bits and 40 random bits after them, so that
//! `GetAccessKeyInfo` can answer for a temporary key without a lookup (AWS's key ids also carry
//! their account). The account is not a secret (`GetAccessKeyInfo` tells it to anyone who may
//! call it), and nothing trusts it: a request signed with a temporary key is authenticated by
//! its session token alone, which names its key id. Long-term keys (`AKIA...`) are looked up in
//! the directory of accounts.

use castellan_credentials::access_key::ID_ALPHABET;
use castellan_credentials::{AccessKeyId, AccessKeyKind};
use castellan_eval::Context;
use rand::{CryptoRng, Rng};

use crate::assume_role::{Caller, Sts, invalid_token};
use crate::error::{StsError, StsErrorCode};
use crate::session::{CallerIdentity, caller_identity};
use crate::token::{SessionKind, TokenError};

/// Bits of a temporary key id that hold the account.
const ACCOUNT_BITS: u32 = 40;

/// A fresh temporary key id (`ASIA...`) carrying `account` (random throughout when `account`
/// is not 12 digits).
pub fn temporary_access_key_id<R: Rng + CryptoRng + ?Sized>(account: &str, rng: &mut R) -> AccessKeyId {
    let Some(number) = account_number(account) else {
        return AccessKeyId::generate(AccessKeyKind::Temporary, rng);
    };
    let random: u64 = rng.random::<u64>() & ((1 << ACCOUNT_BITS) - 1);
    let value = (u128::from(number) << ACCOUNT_BITS) | u128::from(random);
    let mut text = String::from("ASIA");
    for i in (0..16u32).rev() {
        let symbol = usize::try_from((value >> (i * 5)) & 31).unwrap_or_default();
        text.push(char::from(ID_ALPHABET.get(symbol).copied().unwrap_or(b'A')));
    }
    AccessKeyId::parse(&text).unwrap_or_else(|_| AccessKeyId::generate(AccessKeyKind::Temporary, rng))
}

/// The account a temporary key id carries, if it carries one.
pub fn temporary_key_account(access_key_id: &str) -> Option<String> {
    let body = access_key_id.strip_prefix("ASIA")?;
    if body.len() != 16 {
        return None;
    }
    let mut value: u128 = 0;
    for b in body.bytes() {
        let symbol = ID_ALPHABET.iter().position(|&c| c == b)?;
        value = (value << 5) | u128::try_from(symbol).ok()?;
    }
    let number = u64::try_from(value >> ACCOUNT_BITS).ok()?;
    (number < 1_000_000_000_000).then(|| format!("{number:012}"))
}

fn account_number(account: &str) -> Option<u64> {
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.parse().ok()).flatten()
}

impl Sts<'_> {
    /// `GetCallerIdentity`: who the caller is. It needs no permission and cannot be denied; a
    /// caller that no longer exists (or a session that has expired) is refused as when it signs
    /// any request.
    pub fn get_caller_identity(&self, caller: &Caller) -> Result<CallerIdentity, StsError> {
        if let Caller::Session(claims) = caller
            && claims.kind == SessionKind::FederatedUser
        {
            if claims.is_expired(self.clock.now()) {
                return Err(TokenError::Expired { expired_at: claims.expires_at }.to_sts_error());
            }
            self.snapshot(&claims.account).ok_or_else(invalid_token)?;
            return Ok(CallerIdentity {
                user_id: claims.principal_id.clone(),
                account: claims.account.clone(),
                arn: claims.principal_arn.clone(),
            });
        }
        let side = self.caller_side(caller, "sts:GetCallerIdentity", "*")?;
        caller_identity(&side.principal)
            .ok_or_else(|| StsError::new(StsErrorCode::ServiceFailure, "the caller has no identity to show"))
    }

    /// `GetAccessKeyInfo`: the account that owns `access_key_id`. The caller needs
    /// `sts:GetAccessKeyInfo` allowed by its identity policies (and its account's SCPs); the
    /// root user needs no policy. A long-term key is looked up among the accounts (a deleted or
    /// unknown one is `ValidationError`); a temporary key's account is read from the id itself.
    pub fn get_access_key_info(
        &self,
        caller: &Caller,
        access_key_id: &str,
        context: &Context,
    ) -> Result<String, StsError> {
        let len = access_key_id.chars().count();
        if !(16..=128).contains(&len) {
            return Err(StsError::constraint(access_key_id, "accessKeyId", "have length between 16 and 128"));
        }
        if !access_key_id.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(StsError::constraint(
                access_key_id,
                "accessKeyId",
                r"satisfy regular expression pattern: [\w]*",
            ));
        }
        self.authorize_own(caller, "sts:GetAccessKeyInfo", context)?;
        let account = if access_key_id.starts_with("ASIA") {
            temporary_key_account(access_key_id)
        } else {
            self.accounts.access_key_account(access_key_id)
        };
        account.ok_or_else(|| StsError::validation(format!("The access key ID {access_key_id} is not valid.")))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn temporary_key_ids_carry_their_account() {
        let mut rng = StdRng::seed_from_u64(1);
        for account in ["000000000000", "111122223333", "999999999999", "000000000001"] {
            let a = temporary_access_key_id(account, &mut rng);
            let b = temporary_access_key_id(account, &mut rng);
            assert!(a.as_str().starts_with("ASIA"));
            assert_ne!(a, b, "the low bits are random");
            assert_eq!(temporary_key_account(a.as_str()).as_deref(), Some(account));
        }
        // Not an account: random, and says nothing reliable.
        let r = temporary_access_key_id("not-an-account", &mut rng);
        assert!(r.as_str().starts_with("ASIA"));
        assert_eq!(temporary_key_account("AKIAAAAAAAAAAAAAAAAA"), None);
        assert_eq!(temporary_key_account("ASIA7777777777777777"), None, "above 10^12 - 1");
        assert_eq!(temporary_key_account("ASIAshort"), None);
    }
}
