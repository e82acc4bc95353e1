//! Fuzz target `parse`: any bytes through the policy reader, for every kind and for the grammar
//! alone. Nothing may panic, and every accepted document must survive the canonical printer:
//! re-parsing the printed text gives an equal policy, and printing that again gives the same text.

#![no_main]

use castellan_policy::{Checked, Policy, PolicyKind, check, check_grammar};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in PolicyKind::ALL {
        round_trip(check(&text, kind), &text);
    }
    round_trip(check_grammar(&text), &text);
});

/// Checks the print/parse invariants on an accepted document.
fn round_trip(checked: Checked, input: &str) {
    assert_eq!(checked.policy.is_some(), checked.errors().next().is_none(), "a policy comes with no errors\n{input}");
    let Some(policy) = checked.policy else { return };
    let printed = policy.to_string();
    let again = Policy::parse_grammar(&printed);
    assert_eq!(again.as_ref(), Ok(&policy), "print/parse changed the policy\ninput:\n{input}\nprinted:\n{printed}");
    if let Ok(again) = again {
        assert_eq!(again.to_string(), printed, "printing is not idempotent\ninput:\n{input}");
    }
}
