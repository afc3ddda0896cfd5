//! The NAT lab's committed captures (fixtures/*/): for each file listed in fixtures/expected.json
//! (facts read from the captures with tshark, see fixtures/README.md), the report must show the
//! same sessions, negotiations, data-connection outcomes and finding kinds.

mod common;

#[test]
fn lab_captures_match_their_verified_expectations() {
    let dir = common::root().join("fixtures");
    let captures = common::expected(&dir.join("expected.json"));
    assert!(captures.len() >= 20, "the lab's fixtures are listed in fixtures/expected.json");
    let diffs = common::check_all(&dir, &captures);
    assert!(diffs.is_empty(), "{} difference(s):\n{}", diffs.len(), diffs.join("\n"));
}
