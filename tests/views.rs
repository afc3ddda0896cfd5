//! Every view of every lab scenario reads right (issue 25): for each capture point a scenario
//! records, what `explain --json` must conclude, written from the scenario's setup in
//! fixtures/lab/lab.sh (which server, which router rule, which client), not from ftpscope's
//! output: the exit status, the causes its verdict counts, the sessions it cannot judge, and the
//! facts of the fixes (setting, value, rule target) that an operator would type. Where two
//! points cannot see the same thing (the server's LAN never sees a SYN that died outside), the
//! row says what that point can prove, and the verdicts do not contradict: no view of a failure
//! exits 0 while another calls it an error, unless it cannot see it at all (and then says so).
//!
//! Topology (fixtures/lab/lab.sh): client 192.168.1.10 behind its router (203.0.113.2, NAT),
//! server 10.0.0.20 behind its router (198.51.100.2, DNAT), public server 192.0.2.30 /
//! 2001:db8:5::30. Views: `client` (the client's interface), `router-wan` (the client router's
//! outside), `server` (the server's interface), `router-srv-any` (both sides of the server's
//! router), `public-client` (a client with a public address), `third-host`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

mod common;

/// What one view must conclude.
struct View {
    /// Scenario and capture point: the fixture's path under fixtures/.
    files: &'static [&'static str],
    /// Why, from the setup.
    why: &'static str,
    exit: i32,
    /// The causes the verdict counts (its `causes[].cause`), exactly.
    causes: &'static [&'static str],
    /// Sessions without a problem this point cannot judge (encrypted, no data connection seen).
    unread: u64,
    /// Fixes that must be given: the action, and facts each of its texts or lines must contain.
    fixes: &'static [(&'static str, &'static [&'static str])],
    /// Fixes that must not be given, or facts no fix may contain ("action" or "action:fact").
    never: &'static [&'static str],
}

fn views() -> Vec<View> {
    let v = |files, why, exit, causes, unread, fixes, never| View { files, why, exit, causes, unread, fixes, never };
    vec![
        // ---------------------------------------------------------------- passive mode
        v(
            &["pasv-ok-forwarded/client.pcap", "pasv-ok-forwarded/router-wan.pcap", "pasv-ok-forwarded/server.pcap"],
            "vsftpd behind NAT with pasv_address and a forwarded range: everything works",
            0,
            &[],
            0,
            &[],
            &["server_passive_settings", "forward_passive_range"],
        ),
        v(
            &["pasv-private-leak-fail/client.pcap", "pasv-private-leak-fail/router-wan.pcap"],
            "vsftpd behind NAT without pasv_address: the 227 names 10.0.0.20, a trusting client fails",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address=198.51.100.2"]), ("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &[],
        ),
        v(
            &["pasv-private-leak-fail/server.pcap"],
            "the same leak seen on the server's LAN: the public address is not in this capture (the operator's to give)",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address=<public IP>"]), ("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &[],
        ),
        v(
            &[
                "pasv-private-leak-unanswered/client.pcap",
                "pasv-private-leak-unanswered/router-wan.pcap",
                "pasv-private-leak-unanswered/server.pcap",
            ],
            "the leak with the internet dropping SYNs to private addresses silently",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address="]), ("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &[],
        ),
        v(
            &[
                "pasv-private-leak-workaround/client.pcap",
                "pasv-private-leak-workaround/router-wan.pcap",
                "pasv-private-leak-workaround/server.pcap",
            ],
            "the leak, but the clients ignore the 227's address: it works, strict clients would fail (a warning)",
            0,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address="]), ("forward_passive_range", &["10.0.0.20"])],
            &[],
        ),
        v(
            &["pasv-private-leak-pureftpd/client.pcap", "pasv-private-leak-pureftpd/router-wan.pcap"],
            "Pure-FTPd behind NAT without -P",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["-P 198.51.100.2"])],
            &[],
        ),
        v(
            &["pasv-private-leak-pyftpdlib/client.pcap", "pasv-private-leak-pyftpdlib/router-wan.pcap"],
            "pyftpdlib behind NAT without masquerade_address",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["masquerade_address = '198.51.100.2'"])],
            &[],
        ),
        v(
            &["pasv-private-leak-proftpd/client.pcap", "pasv-private-leak-proftpd/router-wan.pcap"],
            "ProFTPD behind NAT without MasqueradeAddress",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["MasqueradeAddress 198.51.100.2"])],
            &[],
        ),
        v(
            &["pasv-private-leak-pureftpd/server.pcap", "pasv-private-leak-pyftpdlib/server.pcap", "pasv-private-leak-proftpd/server.pcap"],
            "the same leaks from the server's LAN: an error too (the transfer failed), the public address the operator's",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["<public IP>"])],
            &[],
        ),
        v(
            &["pasv-range-dropped/client.pcap", "pasv-range-dropped/router-wan.pcap"],
            "vsftpd with pasv_address, the router forwards port 21 only and drops the rest",
            1,
            &["passive_port_dropped"],
            0,
            &[("forward_passive_range", &["198.51.100.2"])],
            &["server_passive_settings"],
        ),
        v(
            &["pasv-range-dropped/server.pcap"],
            "the same from the server's LAN: no SYN arrives; the router is to forward the range to 10.0.0.20",
            1,
            &["passive_port_not_reached"],
            0,
            &[("forward_passive_range", &["-d 198.51.100.2", "--to-destination 10.0.0.20"])],
            &["server_passive_settings", "allow_passive_range"],
        ),
        v(
            &["pasv-range-rejected/client.pcap", "pasv-range-rejected/router-wan.pcap"],
            "the router answers the passive ports with a reset",
            1,
            &["passive_port_refused"],
            0,
            &[("forward_passive_range", &["198.51.100.2"])],
            &[],
        ),
        v(
            &["pasv-range-rejected/server.pcap", "pasv-range-mismatch/server.pcap", "pasv-range-partial/server.pcap"],
            "from the server's LAN, connections that never arrived: forward to 10.0.0.20",
            1,
            &["passive_port_not_reached"],
            0,
            &[("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &[],
        ),
        v(
            &["pasv-range-mismatch/client.pcap", "pasv-range-mismatch/router-wan.pcap"],
            "the server uses 40000-40009, the router forwards 50000-50009: the SYNs vanish; one range for both, covering \
             the ports seen",
            1,
            &["passive_port_dropped"],
            0,
            &[("forward_passive_range", &["-d 198.51.100.2", "40004"]), ("server_passive_range", &["pasv_min_port=40004"])],
            &[],
        ),
        v(
            &["pasv-range-partial/client.pcap", "pasv-range-partial/router-wan.pcap"],
            "the router forwards 40000-40004 of the server's 40000-40009: some listings work, others not",
            1,
            &["part_of_range"],
            0,
            &[("forward_passive_range", &["40009"])],
            &["forward_passive_range:dports 40000", "forward_passive_range:dport 40000"],
        ),
        v(
            &["pasv-range-partial-leak/client.pcap", "pasv-range-partial-leak/router-wan.pcap"],
            "pyftpdlib leaking 10.0.0.20 behind a half-forwarded range: both causes, one fix block",
            1,
            &["part_of_range", "passive_port_dropped", "server_nat_private_address"],
            0,
            &[("server_passive_settings", &["masquerade_address"]), ("forward_passive_range", &["10.0.0.20"])],
            &[],
        ),
        v(
            &["pasv-range-partial-leak/server.pcap"],
            "the same from the server's LAN: the leak is what it can see",
            1,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["masquerade_address"]), ("forward_passive_range", &["10.0.0.20"])],
            &[],
        ),
        v(
            &["pasv-lftp-fallback/client.pcap", "pasv-lftp-fallback/router-wan.pcap"],
            "lftp's defaults: the leaked 227 replaced by the control address, refused there; lftp logs in again with PORT \
             from behind its NAT (refused): the fix for the PORT is the server's passive mode, which the client tried first",
            1,
            &["passive_port_refused", "server_nat_private_address", "client_nat_active_mode"],
            0,
            &[("forward_passive_range", &["--to-destination 10.0.0.20"]), ("fix_passive_first", &["session 0", "fell back"])],
            &["use_passive_mode"],
        ),
        v(
            &["pasv-lftp-fallback-public/client.pcap"],
            "the same lftp from a public address ('from the office'): passive refused, then active mode works (an info, \
             fell_back_to_active, tests below); the fix is still the server's passive setup",
            1,
            &["passive_port_refused", "server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address=198.51.100.2"]), ("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &["use_passive_mode", "client_router_helper"],
        ),
        v(
            &["pasv-lftp-fallback-public/server.pcap"],
            "the same from the server's LAN: the passive connection never came, then the server's active one went out",
            1,
            &["server_nat_private_address"],
            0,
            &[("forward_passive_range", &["--to-destination 10.0.0.20"])],
            &["use_passive_mode", "client_router_helper"],
        ),
        v(
            &["pasv-lftp-fallback/server.pcap"],
            "the same from the server's LAN: the passive connection never came, the client gave up, then its PORT",
            1,
            &["server_nat_private_address", "client_nat_active_mode"],
            0,
            &[("forward_passive_range", &["--to-destination 10.0.0.20"]), ("fix_passive_first", &["session 0, frame 28"])],
            &["use_passive_mode"],
        ),
        v(
            &["pasv-firewall-dropped/client.pcap", "pasv-firewall-dropped/router-wan.pcap"],
            "a public server whose firewall drops the passive range: from outside, NAT or not cannot be told",
            1,
            &["passive_port_dropped"],
            0,
            &[("allow_passive_range", &["192.0.2.30"])],
            &[],
        ),
        v(
            &["pasv-firewall-dropped/server.pcap"],
            "captured on the public server's own interface: it holds 192.0.2.30 itself, so no NAT router to forward on",
            1,
            &["passive_port_not_reached"],
            0,
            &[("allow_passive_range", &["-d 192.0.2.30"]), ("server_passive_range", &["pasv_min_port="])],
            &["forward_passive_range"],
        ),
        v(
            &["pasv-nat-pool/client.pcap", "pasv-nat-pool/router-wan.pcap", "pasv-nat-pool/server.pcap"],
            "the client's router spreads connections over two addresses; vsftpd refuses data from the other one",
            1,
            &["data_from_other_address"],
            0,
            &[("same_nat_address", &["pasv_promiscuous=YES"])],
            &[],
        ),
        v(
            &["epsv-nat/client.pcap", "epsv-nat/router-wan.pcap", "epsv-nat/server.pcap"],
            "EPSV through a forwarded range: no address in the reply, nothing to leak",
            0,
            &[],
            0,
            &[],
            &["server_passive_settings"],
        ),
        // ---------------------------------------------------------------- active mode
        v(
            &["active-refused/client.pcap", "active-refused/router-wan.pcap", "active-refused/server.pcap"],
            "a client behind NAT sends its private PORT; vsftpd refuses it (500 Illegal PORT)",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[]), ("keep_anti_bounce", &["port_promiscuous=NO"])],
            &["refuse_foreign_address"],
        ),
        v(
            &["active-unreachable/client.pcap"],
            "pyftpdlib takes the private PORT and connects: ICMP unreachable on the way; the client cannot see whom the server trusts",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[])],
            &["refuse_foreign_address"],
        ),
        v(
            &["active-unreachable/router-wan.pcap", "active-unreachable/server.pcap"],
            "the same seen outside the client's NAT: the server took a PORT for another address than the client's",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[]), ("refuse_foreign_address", &[])],
            &[],
        ),
        v(
            &["active-unanswered/client.pcap"],
            "vsftpd with port_promiscuous=YES connects to the private address; the internet drops it",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[]), ("client_router_helper", &["--helper ftp"])],
            &["refuse_foreign_address"],
        ),
        v(
            &["active-unanswered/router-wan.pcap", "active-unanswered/server.pcap"],
            "the same outside the client's NAT: port_promiscuous=YES is pointed out",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[]), ("refuse_foreign_address", &["port_promiscuous=NO"])],
            &[],
        ),
        v(
            &["active-oops/client.pcap"],
            "vsftpd (port_promiscuous=YES) takes the private PORT and fails to connect back",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[])],
            &["refuse_foreign_address"],
        ),
        v(
            &["active-oops/router-wan.pcap", "active-oops/server.pcap"],
            "the same outside the client's NAT",
            1,
            &["client_nat_active_mode"],
            0,
            &[("use_passive_mode", &[]), ("refuse_foreign_address", &[])],
            &[],
        ),
        v(
            &["active-port20-dropped/server.pcap"],
            "a firewall upstream of the public server drops what leaves from port 20: every client's active data",
            1,
            &["active_blocked"],
            0,
            &[("allow_active_data", &["-s 192.0.2.30 --sport 20"])],
            &["allow_active_data:203.0.113.2 -j", "allow_active_data:-d 203.0.113.2", "client_router_helper"],
        ),
        v(
            &["active-port20-dropped/public-client.pcap"],
            "the public client's view: its own address in PORT, vsftpd's 425, no SYN arrived: the same firewall",
            1,
            &["active_blocked"],
            0,
            &[("allow_active_data", &["-s 192.0.2.30"])],
            &["allow_active_data:-d 203.0.113.2", "client_router_helper"],
        ),
        v(
            &["active-nonstandard-port/client.pcap", "active-nonstandard-port/router-wan.pcap", "active-nonstandard-port/server.pcap"],
            "active mode from behind NAT to port 2121: the router's helper follows port 21 only",
            1,
            &["client_nat_active_mode"],
            0,
            &[("attach_helper", &["--dport 2121"]), ("use_passive_mode", &[])],
            &[],
        ),
        v(
            &["ipv6-eprt-firewalled/client.pcap", "ipv6-eprt-firewalled/router-wan.pcap", "ipv6-eprt-firewalled/server.pcap"],
            "IPv6, no NAT: the client router's stateful firewall drops the server's active SYN",
            1,
            &["active_blocked"],
            0,
            &[("allow_active_data", &["ip6tables", "-s 2001:db8:5::30"])],
            &["client_router_helper"],
        ),
        v(
            &["ipv6-eprt-epsv/client.pcap", "ipv6-eprt-epsv/router-wan.pcap", "ipv6-eprt-epsv/server.pcap"],
            "IPv6 routed, the helper lets the active SYN in: everything works",
            0,
            &[],
            0,
            &[],
            &[],
        ),
        v(
            &["ipv6-ula-eprt/client.pcap", "ipv6-ula-eprt/router-wan.pcap", "ipv6-ula-eprt/server.pcap"],
            "a unique-local client routed without NAT66: EPRT's fd00:c::10 is reached, no leak",
            0,
            &[],
            0,
            &[],
            &["use_passive_mode", "client_router_helper"],
        ),
        // ---------------------------------------------------------------- helpers, TLS, ports
        v(
            &["alg-active/client.pcap"],
            "the client router's helper rewrites the private PORT: works in clear text, a warning for TLS",
            0,
            &["client_nat_active_mode"],
            0,
            &[("prepare_for_tls", &[])],
            &["client_router_helper"],
        ),
        v(
            &["alg-active/router-wan.pcap", "alg-active/server.pcap"],
            "outside the client's router the PORT already names 203.0.113.2: nothing to see",
            0,
            &[],
            0,
            &[],
            &[],
        ),
        v(
            &["alg-passive/client.pcap", "alg-passive/router-wan.pcap"],
            "the server router's helper rewrites the 227: the client sees the public address",
            0,
            &[],
            0,
            &[],
            &[],
        ),
        v(
            &["alg-passive/server.pcap", "alg-passive/router-srv-any.pcap"],
            "behind the helper the 227 names 10.0.0.20: it works, a warning (TLS would break it)",
            0,
            &["server_nat_private_address"],
            0,
            &[("server_passive_settings", &["pasv_address="])],
            &[],
        ),
        v(
            &["alg-blind-tls/client.pcap", "alg-blind-tls/router-wan.pcap"],
            "AUTH TLS: the helper cannot rewrite the encrypted 227, the passive SYN dies",
            1,
            &["helper_blind_under_tls"],
            0,
            &[("server_passive_settings", &["pasv_address=198.51.100.2"])],
            &[],
        ),
        v(
            &["alg-blind-tls/server.pcap"],
            "the server's LAN never sees the failed SYN and cannot read the encrypted commands: not judged, not healthy",
            0,
            &[],
            1,
            &[],
            &[],
        ),
        v(
            &["alg-blind-tls-active/client.pcap", "alg-blind-tls-active/router-wan.pcap", "alg-blind-tls-active/server.pcap"],
            "active mode under TLS: vsftpd refuses the private PORT inside TLS, no data connection anywhere: not judged",
            0,
            &[],
            1,
            &[],
            &[],
        ),
        v(
            &["ftps-ok/client.pcap", "ftps-ok/router-wan.pcap", "ftps-ok/server.pcap"],
            "explicit FTPS with pasv_address and a forwarded range: data connections seen established",
            0,
            &[],
            0,
            &[],
            &[],
        ),
        v(
            &["nonstandard-port-2121/client.pcapng", "nonstandard-port-2121/server.pcap", "nonstandard-port-2121/router-srv-any.pcap"],
            "Pure-FTPd on 21 reached at 2121 with -P and a forwarded range: works",
            0,
            &[],
            0,
            &[],
            &[],
        ),
        v(
            &["bounce/client.pcap", "bounce/server.pcap"],
            "PORT names the third host 192.0.2.66 and vsftpd (port_promiscuous=YES) connects there",
            0,
            &["bounce"],
            0,
            &[("refuse_foreign_address", &["port_promiscuous=NO"])],
            &[],
        ),
        v(&["bounce/third-host.pcap"], "the bounced connection alone, no control channel", 0, &[], 0, &[], &[]),
        // ---------------------------------------------------------------- capture and transfers
        v(&["lossy-control/client.pcap", "lossy-control/router-wan.pcap"], "loss on the control path, retransmitted", 0, &[], 0, &[], &[]),
        v(&["many-sessions/client.pcapng"], "20 healthy sessions", 0, &[], 0, &[], &[]),
        v(&["large-transfer/client.pcap"], "one large download", 0, &[], 0, &[], &[]),
        v(
            &["transfer-refused/client.pcap", "transfer-refused/server.pcap"],
            "vsftpd read-only: RETR of a missing file and STOR get 550; nothing in the network to fix",
            1,
            &["server_refused_transfer"],
            0,
            &[],
            &["forward_passive_range", "use_passive_mode"],
        ),
        v(
            &["control-unreachable/client.pcap"],
            "no route to the server: the control connection never opens",
            1,
            &[],
            0,
            &[("reach_control_port", &[])],
            &[],
        ),
        // ---------------------------------------------------------------- before any data
        v(
            &["login-anonymous-only/client.pcap", "login-anonymous-only/router-wan.pcap", "login-anonymous-only/server.pcap"],
            "vsftpd anonymous-only (local_enable=NO) refuses a local user",
            1,
            &["login_refused"],
            0,
            &[("allow_local_logins", &["local_enable=YES"])],
            &[],
        ),
        v(
            &["login-anonymous-refused/client.pcap", "login-anonymous-refused/router-wan.pcap", "login-anonymous-refused/server.pcap"],
            "vsftpd with anonymous_enable=NO refuses anonymous",
            1,
            &["login_refused"],
            0,
            &[("allow_anonymous", &["anonymous_enable=YES"])],
            &[],
        ),
        v(
            &["login-denied-user/client.pcap", "login-denied-user/router-wan.pcap", "login-denied-user/server.pcap"],
            "vsftpd's user_list denies the user before its password",
            1,
            &["login_refused"],
            0,
            &[("unlist_user", &["/etc/vsftpd.user_list"])],
            &[],
        ),
        v(
            &[
                "login-wrong-password/client.pcap",
                "login-wrong-password/router-wan.pcap",
                "login-wrong-password/server.pcap",
                "login-incorrect-proftpd/client.pcap",
                "login-incorrect-proftpd/router-wan.pcap",
                "login-incorrect-proftpd/server.pcap",
            ],
            "a wrong password, then the right one: the credentials, nothing on the server",
            1,
            &["login_refused"],
            0,
            &[("check_credentials", &[])],
            &["allow_local_logins", "allow_anonymous"],
        ),
        v(
            &["login-guessing/client.pcap", "login-guessing/router-wan.pcap", "login-guessing/server.pcap"],
            "24 refused logins from one address within a minute: guessing, told once for the capture",
            1,
            &["login_refused"],
            0,
            &[("check_credentials", &[])],
            &[],
        ),
        v(
            &["login-oops-chroot/client.pcap", "login-oops-chroot/router-wan.pcap", "login-oops-chroot/server.pcap"],
            "vsftpd chroot_local_user into a writable home: 500 OOPS after the password",
            1,
            &["service_refused"],
            0,
            &[("allow_writable_chroot", &["allow_writeable_chroot=YES"])],
            &[],
        ),
        v(
            &["login-tls-required/client.pcap", "login-tls-required/router-wan.pcap", "login-tls-required/server.pcap"],
            "vsftpd with force_local_logins_ssl: a clear-text login is refused",
            1,
            &["tls_required"],
            0,
            &[("client_explicit_tls", &[]), ("allow_clear_logins", &["force_local_logins_ssl=NO"])],
            &[],
        ),
        v(
            &[
                "service-max-per-ip/client.pcap",
                "service-max-per-ip/router-wan.pcap",
                "service-max-per-ip/server.pcap",
                "service-max-per-ip-pureftpd/client.pcap",
                "service-max-per-ip-pureftpd/router-wan.pcap",
                "service-max-per-ip-pureftpd/server.pcap",
            ],
            "three sessions at once against a limit of one per address",
            1,
            &["service_refused"],
            0,
            &[("raise_connection_limit", &[])],
            &[],
        ),
        v(
            &["login-ok-local/client.pcap", "login-ok-local/router-wan.pcap", "login-ok-local/server.pcap"],
            "the control: a local user logs in and lists",
            0,
            &[],
            0,
            &[],
            &[],
        ),
    ]
}

/// Every fix of the explanation, as (action, its text and lines joined).
fn fixes(capture: &Value) -> Vec<(String, String)> {
    let mut all: Vec<&Value> = Vec::new();
    for server in capture["servers"].as_array().into_iter().flatten() {
        all.extend(server["fix"].as_array().into_iter().flatten());
    }
    for problem in capture["problems"].as_array().into_iter().flatten() {
        for finding in problem["session"]["findings"].as_array().into_iter().flatten() {
            all.extend(finding["fix"].as_array().into_iter().flatten());
        }
    }
    for finding in capture["findings"].as_array().into_iter().flatten() {
        all.extend(finding["fix"].as_array().into_iter().flatten());
    }
    all.iter()
        .map(|f| {
            let lines: Vec<&str> = f["apply"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            (
                f["action"].as_str().unwrap_or_default().to_string(),
                format!("{} {}", f["text"].as_str().unwrap_or_default(), lines.join("\n")),
            )
        })
        .collect()
}

fn check(file: &str, view: &View) -> Vec<String> {
    let path = common::root().join("fixtures").join(file);
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").arg("--json").arg(&path).output().expect("ftpscope runs");
    let mut wrong = Vec::new();
    let code = out.status.code().unwrap_or(-1);
    if code != view.exit {
        wrong.push(format!("exit {code}, want {}", view.exit));
    }
    let doc: Value = serde_json::from_slice(&out.stdout).expect("explain --json is JSON");
    let capture = &doc["captures"][0];
    let causes: BTreeSet<&str> =
        capture["verdict"]["causes"].as_array().into_iter().flatten().filter_map(|c| c["cause"].as_str()).collect();
    let want: BTreeSet<&str> = view.causes.iter().copied().collect();
    if causes != want {
        wrong.push(format!("causes {causes:?}, want {want:?}"));
    }
    let unread = capture["verdict"]["unread"].as_u64().unwrap_or(0);
    if unread != view.unread {
        wrong.push(format!("{unread} session(s) not judged, want {}", view.unread));
    }
    let given = fixes(capture);
    for (action, facts) in view.fixes {
        let of_action: Vec<&String> = given.iter().filter(|(a, _)| a == action).map(|(_, t)| t).collect();
        if of_action.is_empty() {
            wrong.push(format!("no {action} fix"));
        }
        // A session's fix names the action and defers to its server's block for the values:
        // one of them (the block's) must carry every fact.
        if !of_action.is_empty() && !of_action.iter().any(|t| facts.iter().all(|fact| t.contains(fact))) {
            wrong.push(format!("no {action} fix with all of {facts:?}"));
        }
    }
    for never in view.never {
        let (action, fact) = never.split_once(':').unwrap_or((never, ""));
        if given.iter().any(|(a, t)| a == action && t.contains(fact)) {
            wrong.push(format!("a {action} fix{}", if fact.is_empty() { String::new() } else { format!(" with {fact:?}") }));
        }
    }
    wrong
}

#[test]
fn every_view_of_every_lab_scenario_reads_right() {
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for view in views() {
        for file in view.files {
            assert!(seen.insert(*file), "{file} is in two rows");
            let problems = check(file, &view);
            if !problems.is_empty() {
                wrong.push(format!("{file} ({}):\n    {}", view.why, problems.join("\n    ")));
            }
        }
    }
    assert!(wrong.is_empty(), "{} view(s) read wrong:\n{}", wrong.len(), wrong.join("\n"));
}

/// The matrix covers every capture the lab records: a new scenario or view needs its row.
#[test]
fn the_matrix_covers_every_lab_capture() {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(common::root().join("fixtures/expected.json")).unwrap()).unwrap();
    let in_matrix: BTreeSet<&str> = views().iter().flat_map(|v| v.files.iter().copied()).collect();
    let lab: Vec<&str> = expected["captures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["file"].as_str())
        .filter(|f| !f.starts_with("crafted/") && !f.starts_with("no-control/"))
        .collect();
    let missing: Vec<&&str> = lab.iter().filter(|f| !in_matrix.contains(**f)).collect();
    assert!(missing.is_empty(), "lab captures without a row: {missing:?}");
}

/// "It works from the office": lftp from a public address fell back to active mode after its
/// passive connection was refused, and the listing crossed. The session that worked says so in
/// an info, whose fix is the server's passive mode, at both capture points.
#[test]
fn a_fallback_to_active_that_worked_is_a_note_pointing_at_passive_mode() {
    for file in ["pasv-lftp-fallback-public/client.pcap", "pasv-lftp-fallback-public/server.pcap"] {
        let path = common::root().join("fixtures").join(file);
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg("--json").arg(&path).output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sessions = doc["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2, "{file}");
        // Where passive mode failed: the refused SYN at the client; at the server, which never
        // saw it, the 227.
        let pasv = &sessions[0]["negotiations"][0];
        let failed_frame = pasv["data"]["connection"]["syn_frame"].as_u64().or(pasv["reply_frame"].as_u64());
        let notes: Vec<&Value> = sessions[1]["findings"].as_array().unwrap().iter().collect();
        assert_eq!(notes.len(), 1, "{file}: {notes:#?}");
        let note = notes[0];
        assert_eq!((note["kind"].as_str(), note["severity"].as_str()), (Some("fell_back_to_active"), Some("info")), "{file}");
        assert_eq!(
            (note["details"]["failed_session"].as_u64(), note["details"]["failed_frame"].as_u64()),
            (Some(0), failed_frame),
            "{file}"
        );
        assert_eq!(note["fix"][0]["action"], "fix_passive_first", "{file}");
        assert_eq!(sessions[1]["negotiations"][0]["data"]["outcome"], "established", "{file}");
    }
}
