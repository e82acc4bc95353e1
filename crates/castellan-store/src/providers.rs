//! Identity providers an account trusts: OpenID Connect providers (for
//! `AssumeRoleWithWebIdentity`) and SAML providers (for `AssumeRoleWithSAML`).
//!
//! AWS fetches an OIDC provider's signing keys from the issuer over the network. Castellan never
//! does: the keys (a JSON Web Key Set) are registered with the provider record
//! ([`crate::Store::set_oidc_signing_keys`], a Castellan extension), so token checks work
//! offline.

use castellan_credentials::UnixTime;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, StoreError};
use crate::names::Tag;

/// OIDC providers per account.
pub const MAX_OIDC_PROVIDERS: usize = 100;
/// SAML providers per account.
pub const MAX_SAML_PROVIDERS: usize = 100;
/// Client ids (audiences) per OIDC provider.
pub const MAX_CLIENT_IDS: usize = 100;
/// Thumbprints per OIDC provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// An OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// The issuer URL (`https://HOST/PATH`).
    pub url: String,
    /// The audiences tokens may carry (`aud`).
    pub client_ids: Vec<String>,
    /// Certificate thumbprints (40 hex digits each); kept, not used (no TLS fetch happens).
    pub thumbprints: Vec<String>,
    /// The signing keys, a JSON Web Key Set (`{"keys":[...]}`); `None` until registered.
    pub signing_keys: Option<String>,
    /// When the provider was created.
    #[serde(with = "crate::store::unix_time")]
    pub create_date: UnixTime,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// What `CreateOpenIDConnectProvider` takes.
#[derive(Debug, Clone, Default)]
pub struct NewOidcProvider {
    /// The issuer URL; must start with `https://`.
    pub url: String,
    /// The audiences.
    pub client_ids: Vec<String>,
    /// Certificate thumbprints.
    pub thumbprints: Vec<String>,
    /// The signing keys (JSON Web Key Set), if known now.
    pub signing_keys: Option<String>,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// A SAML provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlProvider {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub arn: String,
    /// The name.
    pub name: String,
    /// The IdP's SAML metadata document.
    pub metadata_document: String,
    /// When the provider was created.
    #[serde(with = "crate::store::unix_time")]
    pub create_date: UnixTime,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// The IAM resources other than users and roles that carry tags, by what names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable<'a> {
    /// A customer managed policy, by ARN.
    Policy(&'a str),
    /// An instance profile, by name.
    InstanceProfile(&'a str),
    /// A virtual MFA device, by serial number.
    MfaDevice(&'a str),
    /// An OIDC provider, by ARN.
    OidcProvider(&'a str),
    /// A SAML provider, by ARN.
    SamlProvider(&'a str),
}

/// Checks an OIDC issuer URL and returns the ARN suffix (`HOST/PATH`, without the scheme and
/// a trailing slash).
pub(crate) fn oidc_url(url: &str) -> Result<String, StoreError> {
    if !(1..=255).contains(&url.len()) {
        return Err(StoreError::validation(url, "url", "have length less than or equal to 255"));
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(StoreError::invalid("Invalid URL: the URL must begin with https://."));
    };
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
        && !rest.contains(['?', '#', ' ']);
    if !host_ok {
        return Err(StoreError::invalid(format!("Invalid URL: {url}")));
    }
    Ok(rest.to_owned())
}

pub(crate) fn check_client_ids(ids: &[String]) -> Result<(), StoreError> {
    if ids.len() > MAX_CLIENT_IDS {
        return Err(StoreError::quota("ClientIDsPerOpenIdConnectProvider", MAX_CLIENT_IDS));
    }
    for id in ids {
        if !(1..=255).contains(&id.len()) {
            return Err(StoreError::validation(id, "clientIDList", "have length between 1 and 255"));
        }
    }
    Ok(())
}

pub(crate) fn check_thumbprints(thumbprints: &[String]) -> Result<(), StoreError> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(StoreError::quota("ThumbprintsPerOpenIdConnectProvider", MAX_THUMBPRINTS));
    }
    for t in thumbprints {
        if t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::validation(t, "thumbprintList", "have length 40 and be hexadecimal"));
        }
    }
    Ok(())
}

/// A JSON Web Key Set: a JSON object with a `keys` array of objects, each with a `kty`.
pub(crate) fn check_signing_keys(jwks: &str) -> Result<(), StoreError> {
    let bad = |why: &str| StoreError::invalid(format!("The signing keys are not a JSON Web Key Set: {why}."));
    let value: serde_json::Value = serde_json::from_str(jwks).map_err(|e| bad(&e.to_string()))?;
    let keys = value.get("keys").and_then(serde_json::Value::as_array).ok_or_else(|| bad("no \"keys\" array"))?;
    if keys.iter().any(|k| k.get("kty").and_then(serde_json::Value::as_str).is_none()) {
        return Err(bad("a key has no \"kty\""));
    }
    Ok(())
}

pub(crate) fn check_saml_name(name: &str) -> Result<(), StoreError> {
    let ok = (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if ok { Ok(()) } else { Err(StoreError::validation(name, "name", "satisfy regular expression pattern: [\\w._-]+")) }
}

pub(crate) fn check_saml_metadata(document: &str) -> Result<(), StoreError> {
    if !(1000..=10_000_000).contains(&document.len()) {
        return Err(StoreError::validation(
            "(the metadata document)",
            "sAMLMetadataDocument",
            "have length between 1000 and 10000000",
        ));
    }
    if !document.contains("EntityDescriptor") {
        return Err(StoreError::invalid("Could not parse metadata"));
    }
    Ok(())
}

pub(crate) fn no_such_provider(arn: &str) -> StoreError {
    StoreError::new(ErrorCode::NoSuchEntity, format!("The provider {arn} cannot be found."))
}
