//! Amazon Resource Names and account ids.

use std::fmt;
use std::str::FromStr;

/// The partitions AWS runs; a resource ARN in a policy must name one of them or `*`.
pub const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/// Whether `partition` is one AWS runs.
pub fn is_partition(partition: &str) -> bool {
    PARTITIONS.contains(&partition)
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// It does not start with `arn:`.
    #[error("`{0}` does not start with `arn:`")]
    NotArn(String),
    /// It has fewer than six colon-separated parts.
    #[error("`{0}` does not have the six parts `arn:partition:service:region:account:resource`")]
    TooFewParts(String),
    /// The partition or the service is empty.
    #[error("`{0}` has an empty partition or service")]
    EmptyPart(String),
}

/// A concrete ARN: `arn:partition:service:region:account:resource`.
///
/// The resource part may itself contain colons. Components are stored as offsets into one
/// string, so an `Arn` is one allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    text: Box<str>,
    // End offsets of partition, service, region and account (each followed by a colon).
    ends: [u32; 4],
}

impl Arn {
    /// Parses an ARN; the six parts must be present and the partition and service non-empty.
    pub fn parse(text: &str) -> Result<Arn, ArnError> {
        let rest = text.strip_prefix("arn:").ok_or_else(|| ArnError::NotArn(text.to_owned()))?;
        let mut ends = [0u32; 4];
        let mut pos = 4usize;
        let mut remaining = rest;
        for end in &mut ends {
            let colon = remaining.find(':').ok_or_else(|| ArnError::TooFewParts(text.to_owned()))?;
            pos += colon;
            *end = u32::try_from(pos).map_err(|_| ArnError::TooFewParts(text.to_owned()))?;
            pos += 1;
            remaining = remaining.get(colon + 1..).unwrap_or_default();
        }
        let arn = Arn { text: text.into(), ends };
        if arn.partition().is_empty() || arn.service().is_empty() {
            return Err(ArnError::EmptyPart(text.to_owned()));
        }
        Ok(arn)
    }

    fn part(&self, index: usize) -> &str {
        let start = match index {
            0 => 4,
            i => self.ends.get(i - 1).map_or(0, |&e| e as usize + 1),
        };
        let end = self.ends.get(index).map_or(self.text.len(), |&e| e as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// `aws`, `aws-cn`, ...
    pub fn partition(&self) -> &str {
        self.part(0)
    }
    /// The service namespace: `iam`, `s3`, ...
    pub fn service(&self) -> &str {
        self.part(1)
    }
    /// The region; empty for global services.
    pub fn region(&self) -> &str {
        self.part(2)
    }
    /// The account id; empty for some services (S3 buckets).
    pub fn account(&self) -> &str {
        self.part(3)
    }
    /// Everything after the fifth colon.
    pub fn resource(&self) -> &str {
        self.part(4)
    }
}

impl FromStr for Arn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Arn, ArnError> {
        Arn::parse(s)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arn({:?})", self.text)
    }
}

/// A 12-digit AWS account id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 12]);

/// Why a string is not an account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a 12-digit account id")]
pub struct AccountIdError(pub String);

impl AccountId {
    /// Parses exactly twelve ASCII digits.
    pub fn parse(text: &str) -> Result<AccountId, AccountIdError> {
        let bytes: [u8; 12] = text.as_bytes().try_into().map_err(|_| AccountIdError(text.to_owned()))?;
        if bytes.iter().all(u8::is_ascii_digit) { Ok(AccountId(bytes)) } else { Err(AccountIdError(text.to_owned())) }
    }

    /// The twelve digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for AccountId {
    type Err = AccountIdError;
    fn from_str(s: &str) -> Result<AccountId, AccountIdError> {
        AccountId::parse(s)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let arn = Arn::parse("arn:aws:s3:::bucket/key:with:colons").unwrap();
        assert_eq!(arn.partition(), "aws");
        assert_eq!(arn.service(), "s3");
        assert_eq!(arn.region(), "");
        assert_eq!(arn.account(), "");
        assert_eq!(arn.resource(), "bucket/key:with:colons");
        let arn = Arn::parse("arn:aws-cn:iam::123456789012:user/a/b").unwrap();
        assert_eq!(arn.partition(), "aws-cn");
        assert_eq!(arn.account(), "123456789012");
        assert_eq!(arn.resource(), "user/a/b");
        assert_eq!(arn.to_string(), "arn:aws-cn:iam::123456789012:user/a/b");
    }

    #[test]
    fn rejects() {
        assert!(matches!(Arn::parse("aws:s3:::b"), Err(ArnError::NotArn(_))));
        assert!(matches!(Arn::parse("arn:aws:s3::b"), Err(ArnError::TooFewParts(_))));
        assert!(matches!(Arn::parse("arn::s3:::b"), Err(ArnError::EmptyPart(_))));
        assert!(matches!(Arn::parse("arn:aws::::b"), Err(ArnError::EmptyPart(_))));
    }

    #[test]
    fn account_ids() {
        assert_eq!(AccountId::parse("123456789012").unwrap().as_str(), "123456789012");
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("1234567890123").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
    }
}
