//! Partitions: a request signed for a region of another partition than `aws` (`cn-*`,
//! `us-gov-*`, `us-iso-*`, `us-isob-*`) sees ARNs of that partition, as AWS's services there
//! answer.
//!
//! Castellan keeps one state, in the `aws` partition's terms: every ARN the store, STS and the
//! evaluator hold or build starts `arn:aws:`. The partition of a request applies at the edge, in
//! both directions: its parameters (Query) and its JSON input (Organizations) have
//! `arn:PARTITION:` read as `arn:aws:` before the facade sees them (so policies written with the
//! partition's ARNs are stored, and decide, in the one state's terms), and its answer has
//! `arn:aws:` written as `arn:PARTITION:` (plain, and percent-encoded as in IAM's policy
//! documents). A client of one partition thus sees its partition's ARNs everywhere — in entity
//! ARNs, in the policies it reads back, in error messages — and its policies match as they would
//! there. What differs from AWS (docs/compatibility.md): the state is one, seen from every
//! partition; a policy written from a non-`aws` partition that names an `aws` ARN reads it as its
//! own partition's.

use std::borrow::Cow;

use castellan::credentials::sigv4::Request as SignedRequest;

use crate::query::credential_scope;

/// An AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Partition {
    /// `aws`: every commercial region.
    Aws,
    /// `aws-cn`: `cn-north-1`, `cn-northwest-1`.
    China,
    /// `aws-us-gov`: `us-gov-west-1`, `us-gov-east-1`.
    GovCloud,
    /// `aws-iso`: `us-iso-*`.
    Iso,
    /// `aws-iso-b`: `us-isob-*`.
    IsoB,
}

impl Partition {
    /// The partition of `region`.
    pub(crate) fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else if region.starts_with("us-isob-") {
            Partition::IsoB
        } else if region.starts_with("us-iso-") {
            Partition::Iso
        } else {
            Partition::Aws
        }
    }

    /// The partition of the region a request is signed for (`aws` when unsigned).
    pub(crate) fn of_request(request: &SignedRequest) -> Partition {
        credential_scope(request).map_or(Partition::Aws, |(region, _)| Partition::of_region(&region))
    }

    /// The partition's name, as in ARNs.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
            Partition::Iso => "aws-iso",
            Partition::IsoB => "aws-iso-b",
        }
    }

    /// `text` with this partition's ARNs read as the one state's (`arn:aws:`).
    pub(crate) fn canonical(self, text: &str) -> Cow<'_, str> {
        if self == Partition::Aws {
            return Cow::Borrowed(text);
        }
        let own = format!("arn:{}:", self.id());
        if text.contains(&own) { Cow::Owned(text.replace(&own, "arn:aws:")) } else { Cow::Borrowed(text) }
    }

    /// An answer's `body` with the one state's ARNs written in this partition, plain and
    /// percent-encoded.
    pub(crate) fn localize(self, body: String) -> String {
        if self == Partition::Aws || !(body.contains("arn:aws:") || body.contains("arn%3Aaws%3A")) {
            return body;
        }
        body.replace("arn:aws:", &format!("arn:{}:", self.id()))
            .replace("arn%3Aaws%3A", &format!("arn%3A{}%3A", self.id()))
    }

    /// Every string of a JSON input with this partition's ARNs read as the one state's.
    pub(crate) fn canonical_json(self, value: &mut serde_json::Value) {
        if self == Partition::Aws {
            return;
        }
        match value {
            serde_json::Value::String(text) => {
                if let Cow::Owned(canonical) = self.canonical(text) {
                    *text = canonical;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.canonical_json(v)),
            serde_json::Value::Object(members) => members.values_mut().for_each(|v| self.canonical_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_name_their_partition() {
        let cases = [
            ("us-east-1", "aws"),
            ("eu-west-3", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
        ];
        for (region, id) in cases {
            assert_eq!(Partition::of_region(region).id(), id, "{region}");
        }
    }

    #[test]
    fn arns_cross_the_edge_both_ways() {
        let cn = Partition::China;
        assert_eq!(cn.canonical("arn:aws-cn:iam::111122223333:user/a"), "arn:aws:iam::111122223333:user/a");
        // Another partition's ARN, and text without ARNs, are left alone.
        assert_eq!(cn.canonical("arn:aws-us-gov:s3:::b"), "arn:aws-us-gov:s3:::b");
        assert!(matches!(cn.canonical("alice"), Cow::Borrowed(_)));
        assert_eq!(
            cn.localize("<Arn>arn:aws:iam::1:user/a</Arn><Doc>arn%3Aaws%3As3%3A%3A%3Ab</Doc>".to_owned()),
            "<Arn>arn:aws-cn:iam::1:user/a</Arn><Doc>arn%3Aaws-cn%3As3%3A%3A%3Ab</Doc>"
        );
        assert_eq!(Partition::Aws.localize("arn:aws:x".to_owned()), "arn:aws:x");
        assert_eq!(Partition::IsoB.localize("arn:aws:x".to_owned()), "arn:aws-iso-b:x");
        let mut json = serde_json::json!({"TargetId": "arn:aws-iso:organizations::1:ou/o-a/ou-b", "Tags": [{"Value": "arn:aws-iso:x"}]});
        Partition::Iso.canonical_json(&mut json);
        assert_eq!(json["TargetId"], "arn:aws:organizations::1:ou/o-a/ou-b");
        assert_eq!(json["Tags"][0]["Value"], "arn:aws:x");
    }
}
