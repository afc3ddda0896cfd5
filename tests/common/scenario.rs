//! What a lab scenario's report must say, as relations of its setup (not counts: the server
//! picks its passive ports at random, so a fresh recording has other ports and sessions), for
//! the committed captures (tests/servers.rs) and fresh ones (tests/lab_live.rs).

use serde_json::Value;

/// `pasv-range-partial-leak`, seen from outside the server's NAT (client, router-wan):
/// pyftpdlib leaking 10.0.0.20, its router forwarding 21 and only 40000-40004 of 40000-40009,
/// clients that trust the 227 and clients that dial the control address instead.
/// - a session that dialled the LAN address has the leak as its error (the leak is why);
/// - a session that worked around it never blames the leak, and each of its failures is its own
///   `data_connection_failed` error on a port the router does not forward;
/// - one server: LAN 10.0.0.20, the control port crossed, ports crossed all forwarded, ports that
///   never crossed all unforwarded, both seen; its block is the server's settings and the
///   forwarding, the range covering every port seen (a suggestion of at least 10), no line
///   opening 21 or a port that crossed; its transfers are the capture's, some ok, some failed.
pub fn leak_and_partial_range(v: &Value) -> Result<(), String> {
    let forwarded = 40000..=40004u64;
    let (mut trusted, mut worked_around_and_failed) = (0, 0);
    for s in v["sessions"].as_array().ok_or("no sessions[]")? {
        let findings = s["findings"].as_array().ok_or("no findings[]")?;
        let of = |kind: &str, sev: &str| findings.iter().filter(|f| f["kind"] == kind && f["severity"] == sev).count();
        let negotiations = s["negotiations"].as_array().ok_or("no negotiations[]")?;
        let dialled_lan =
            negotiations.iter().any(|n| n["data"]["connection"]["server"].as_str().is_some_and(|a| a.starts_with("10.0.0.20:")));
        if dialled_lan {
            trusted += 1;
            if of("private_address_leak", "error") == 0 {
                return Err(format!("session {} trusted the 227, the leak is not its error: {findings:?}", s["id"]));
            }
            continue;
        }
        if of("private_address_leak", "error") > 0 {
            return Err(format!("session {} worked around the leak, yet it is blamed: {findings:?}", s["id"]));
        }
        for f in findings.iter().filter(|f| f["kind"] == "data_connection_failed") {
            worked_around_and_failed += 1;
            if (f["severity"].as_str(), &f["caused_by"]) != (Some("error"), &Value::Null) {
                return Err(format!("a failure of its own port is its own error: {f}"));
            }
            let port: Option<u64> = f["details"]["connection"]["server"].as_str().and_then(|a| a.rsplit(':').next()?.parse().ok());
            if port.is_none_or(|p| forwarded.contains(&p)) {
                return Err(format!("a forwarded port failed: {f}"));
            }
        }
    }
    if trusted < 2 || worked_around_and_failed < 1 {
        return Err(format!("not the scenario: {trusted} trusting session(s), {worked_around_and_failed} failure(s) worked around"));
    }
    let servers = v["servers"].as_array().ok_or("no servers[]")?;
    let [s] = &servers[..] else { return Err(format!("one server, not {}", servers.len())) };
    let ports = |which: &str| -> Vec<u64> {
        s["ports"][which].as_array().map(|a| a.iter().filter_map(Value::as_u64).collect()).unwrap_or_default()
    };
    let (crossed, never, advertised) = (ports("crossed"), ports("never"), ports("advertised"));
    if s["lan_address"] != "10.0.0.20" || s["control_crossed"] != true {
        return Err(format!("the server's LAN address and its control port: {s}"));
    }
    if crossed.is_empty()
        || never.is_empty()
        || !crossed.iter().all(|p| forwarded.contains(p))
        || !never.iter().all(|p| (40005..=40009).contains(p))
    {
        return Err(format!("crossed {crossed:?}, never {never:?}"));
    }
    let fixes = s["fix"].as_array().ok_or("no fix[]")?;
    let actions: Vec<&str> = fixes.iter().filter_map(|f| f["action"].as_str()).collect();
    if actions != ["server_passive_settings", "forward_passive_range"] {
        return Err(format!("the block: {actions:?}"));
    }
    for f in fixes {
        let r = &f["setup"]["passive_ports"];
        let (lo, hi) = (r["value"]["lo"].as_u64().unwrap_or(0), r["value"]["hi"].as_u64().unwrap_or(0));
        if advertised.iter().chain(&crossed).chain(&never).any(|p| !(lo..=hi).contains(p)) || (r["from"] == "suggested" && hi - lo + 1 < 10)
        {
            return Err(format!("the range {lo}-{hi} ({}) does not cover every port seen with room", r["from"]));
        }
        for line in f["apply"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let words: Vec<&str> = line.split([' ', ',', ':']).collect();
            if line.contains("--dport 21 ")
                || line.contains("dports 21,")
                || crossed.iter().any(|p| words.contains(&p.to_string().as_str()))
            {
                return Err(format!("opens what crossed already: {line}"));
            }
        }
    }
    let t = &s["transfers"];
    if t != &v["capture"]["transfers"] || t["ok"].as_u64() == Some(0) || t["failed"].as_u64() == Some(0) {
        return Err(format!("its transfers {t}, the capture's {}", v["capture"]["transfers"]));
    }
    Ok(())
}
