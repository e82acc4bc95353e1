//! The test-only `POST /_castellan/reset`: returns the server to its bootstrap state
//! ([`Iam::reset_to_bootstrap`]). Served only when the facade was opened with test resets
//! enabled (`castellan serve --test-reset`); otherwise the path answers 404 like any unknown
//! one. It answers loopback callers only (403 for others, and for requests a browser sends on a
//! web page's behalf, which carry `Origin`) and needs no signature: the flag is for a test
//! suite's own local server, never for a server anyone relies on.

use std::net::SocketAddr;

use castellan::credentials::sigv4::Request as SignedRequest;
use castellan::{Iam, IamError};
use serde_json::json;

use crate::Reply;
use crate::pdp::{SERVICE, error_reply};

/// The path of the reset.
pub(crate) const RESET_PATH: &str = "/_castellan/reset";

const ACTION: &str = "Reset";

/// `POST /_castellan/reset`.
pub(crate) fn reset(iam: &Iam, request: &SignedRequest, peer: SocketAddr) -> Reply {
    let result = (|| {
        if !iam.test_reset_enabled() {
            return Err(IamError::new("NotFound", 404, format!("{RESET_PATH} is not served")));
        }
        if !peer.ip().to_canonical().is_loopback() {
            return Err(IamError::new("AccessDenied", 403, "the test reset answers loopback callers only"));
        }
        if request.first_header("origin").is_some() {
            // A web page open in a browser on this machine can POST here without asking (a
            // "simple" cross-origin request), but its browser always says where it comes from;
            // test suites, curl and the SDKs send no `Origin`.
            return Err(IamError::new("AccessDenied", 403, "the test reset does not answer requests from web pages"));
        }
        if request.method != "POST" {
            return Err(IamError::new("MethodNotAllowed", 405, format!("{RESET_PATH} accepts only POST")));
        }
        iam.reset_to_bootstrap()?;
        tracing::warn!("test reset: the server is back to its bootstrap state");
        Ok(json!({"reset": true, "accounts": iam.directory().account_ids()}))
    })();
    match result {
        Ok(value) => Reply {
            status: 200,
            content_type: "application/json",
            body: value.to_string(),
            service: SERVICE,
            action: ACTION.to_owned(),
            error_code: None,
        },
        Err(e) => error_reply(ACTION, &e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use castellan::store::NewUser;
    use castellan::{Caller, Iam};
    use serde_json::Value;

    use super::*;

    fn iam(test_reset: bool) -> Iam {
        Iam::builder().seed(3).account_id("111122223333").test_reset(test_reset).open().unwrap()
    }

    fn post() -> SignedRequest {
        SignedRequest::new("POST", RESET_PATH, "").header("host", "localhost")
    }

    fn loopback() -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000)
    }

    fn code(reply: &Reply) -> String {
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        body["__type"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn without_test_resets_the_path_is_not_served() {
        let reply = reset(&iam(false), &post(), loopback());
        assert_eq!(reply.status, 404);
        assert_eq!(code(&reply), "NotFound");
    }

    #[test]
    fn a_caller_off_loopback_is_refused() {
        let iam = iam(true);
        let root = Caller::root("111122223333");
        iam.create_user(&root, NewUser { name: "kept".into(), ..NewUser::default() }).unwrap();
        for peer in [
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), 50_000),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), 50_000),
        ] {
            let reply = reset(&iam, &post(), peer);
            assert_eq!(reply.status, 403, "{peer}");
            assert_eq!(code(&reply), "AccessDenied");
        }
        // Nothing was reset.
        assert!(iam.get_user(&root, Some("kept")).is_ok());
    }

    #[test]
    fn a_request_from_a_web_page_is_refused() {
        let iam = iam(true);
        let root = Caller::root("111122223333");
        iam.create_user(&root, NewUser { name: "kept".into(), ..NewUser::default() }).unwrap();
        let reply = reset(&iam, &post().header("origin", "https://example.com"), loopback());
        assert_eq!((reply.status, code(&reply).as_str()), (403, "AccessDenied"));
        assert!(iam.get_user(&root, Some("kept")).is_ok());
    }

    #[test]
    fn an_ipv4_caller_of_a_dual_stack_listener_is_loopback() {
        let mapped = SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 50_000);
        let reply = reset(&iam(true), &post(), mapped);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    #[test]
    fn only_post_resets() {
        let iam = iam(true);
        let reply = reset(&iam, &SignedRequest::new("GET", RESET_PATH, "").header("host", "localhost"), loopback());
        assert_eq!(reply.status, 405);
    }

    #[test]
    fn a_loopback_post_resets() {
        let iam = iam(true);
        let root = Caller::root("111122223333");
        iam.create_user(&root, NewUser { name: "gone".into(), ..NewUser::default() }).unwrap();
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 50_000);
        let reply = reset(&iam, &post(), v6);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["accounts"], serde_json::json!(["111122223333"]));
        assert_eq!(iam.get_user(&root, Some("gone")).unwrap_err().code(), "NoSuchEntity");
    }
}
