use super::*;

fn v4(s: &str) -> SocketAddrV4 {
    s.parse().expect("test address")
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

// ---- commands ----

#[test]
fn command_with_argument() {
    let cmd = parse_command(b"PORT 10,0,0,1,4,1").expect("command");
    assert_eq!(cmd.verb, Verb::Port);
    assert_eq!(cmd.name, b"PORT");
    assert_eq!(cmd.arg, b"10,0,0,1,4,1");
}

#[test]
fn lower_case_port() {
    let cmd = parse_command(b"port 10,0,0,1,4,1").expect("command");
    assert_eq!((cmd.verb, cmd.name), (Verb::Port, &b"port"[..]));
    assert_eq!(parse_port(cmd.arg), Ok(v4("10.0.0.1:1025")));
}

#[test]
fn port_with_spaces_in_the_list() {
    let cmd = parse_command(b"PORT 10, 0, 0, 1, 4, 1").expect("command");
    assert_eq!(cmd.arg, b"10, 0, 0, 1, 4, 1");
    assert_eq!(parse_port(cmd.arg), Ok(v4("10.0.0.1:1025")));
}

#[test]
fn command_without_argument_and_trailing_spaces() {
    let cmd = parse_command(b"PASV").expect("command");
    assert_eq!((cmd.verb, cmd.arg), (Verb::Pasv, &b""[..]));
    let cmd = parse_command(b"CCC").expect("command");
    assert_eq!(cmd.verb, Verb::Ccc);
    let cmd = parse_command(b"EPSV  ").expect("command");
    assert_eq!((cmd.verb, cmd.arg), (Verb::Epsv, &b""[..]));
    let cmd = parse_command(b"USER bob  ").expect("command");
    assert_eq!(cmd.arg, b"bob");
}

#[test]
fn other_verbs_keep_their_name() {
    let cmd = parse_command(b"XMKD").expect("command");
    assert_eq!((cmd.verb, cmd.name), (Verb::Other, &b"XMKD"[..]));
    let cmd = parse_command(b"mkd /pub").expect("command");
    assert_eq!((cmd.verb, cmd.name, cmd.arg), (Verb::Other, &b"mkd"[..], &b"/pub"[..]));
}

#[test]
fn not_commands() {
    for line in [&b""[..], b"PO", b"PORTS 1", b"PORT\t1", b"220 ready", b" PORT 1", b"P0RT 1", b"\xff", b"\xff\xf4\xff"] {
        assert_eq!(parse_command(line), None, "{line:?}");
    }
}

#[test]
fn telnet_interrupt_before_abor() {
    let cmd = parse_command(b"\xff\xf4\xff\xf2ABOR").expect("command");
    assert_eq!((cmd.verb, cmd.name), (Verb::Abor, &b"ABOR"[..]));
    let cmd = parse_command(b"\xf2ABOR").expect("command");
    assert_eq!(cmd.name, b"ABOR");
    let cmd = parse_command(b"\xff\xfb\x01QUIT").expect("command");
    assert_eq!(cmd.verb, Verb::Quit);
}

#[test]
fn every_known_verb_in_any_case() {
    for (name, verb) in VERBS {
        assert_eq!(Verb::from_name(name), verb);
        assert_eq!(Verb::from_name(&name.to_ascii_lowercase()), verb);
    }
    // Names packed into one number must not meet another's: padding, length, a fifth letter.
    for other in [&b"\0CWD"[..], b"CWD\0", b"CW", b"RETRX", b"", b"CWDX", b"\xe3WD"] {
        assert_eq!(Verb::from_name(other), Verb::Other, "{other:?}");
    }
}

// ---- PORT ----

#[test]
fn port_values() {
    assert_eq!(parse_port(b"192,168,1,10,19,137"), Ok(v4("192.168.1.10:5001")));
    assert_eq!(parse_port(b"  10,0,0,1,4,1 \r"), Ok(v4("10.0.0.1:1025")));
    assert_eq!(parse_port(b"010,000,000,001,004,001"), Ok(v4("10.0.0.1:1025")));
}

#[test]
fn port_malformed() {
    let bad = |arg: &[u8]| parse_port(arg).expect_err("malformed");
    assert_eq!(bad(b"10,0,0,257,4,1"), Malformed("value over 255 in address"));
    assert_eq!(bad(b"10,0,0,1,256,1"), Malformed("value over 255 in port"));
    assert_eq!(bad(b"10,0,0,1,4,99999999999999999999"), Malformed("value over 255 in port"));
    assert_eq!(bad(b"10,0,0,1,0,0"), Malformed("port 0"));
    assert_eq!(bad(b"10,0,0,1,4"), Malformed("PORT needs six comma-separated numbers"));
    assert_eq!(bad(b"10,0,0,1,4,1,7"), Malformed("PORT needs six comma-separated numbers"));
    assert_eq!(bad(b"10,0,0,1,4,1,"), Malformed("unexpected text in the comma-separated address"));
    assert_eq!(bad(b"10,0,0,1,4,1 x"), Malformed("unexpected text in the comma-separated address"));
    assert_eq!(bad(b"10,,0,0,1,4,1"), Malformed("unexpected text in the comma-separated address"));
    assert_eq!(bad(b"|1|10.0.0.1|2000|"), Malformed("address does not start with a number"));
    assert_eq!(bad(b""), Malformed("PORT without an address"));
    assert_eq!(bad(b"   "), Malformed("PORT without an address"));
}

#[test]
fn port_truncated_at_every_length() {
    let full: &[u8] = b"10,0,0,1,4,1";
    for len in 0..full.len() {
        assert!(parse_port(&full[..len]).is_err(), "{len}");
    }
}

// ---- EPRT ----

#[test]
fn eprt_forms() {
    assert_eq!(parse_eprt(b"|1|132.235.1.2|6275|"), Ok(sa("132.235.1.2:6275")));
    assert_eq!(parse_eprt(b"|2|1080::8:800:200C:417A|5282|"), Ok(sa("[1080::8:800:200c:417a]:5282")));
    assert_eq!(parse_eprt(b"!1!10.0.0.1!2000!"), Ok(sa("10.0.0.1:2000")));
    assert_eq!(parse_eprt(b" |1|10.0.0.1|2000| "), Ok(sa("10.0.0.1:2000")));
    assert_eq!(parse_eprt(b"|2|::ffff:10.0.0.1|2000|"), Ok(sa("[::ffff:10.0.0.1]:2000")));
}

#[test]
fn eprt_from_a_command_line() {
    let cmd = parse_command(b"EPRT !1!10.0.0.1!2000!").expect("command");
    assert_eq!(cmd.verb, Verb::Eprt);
    assert_eq!(parse_eprt(cmd.arg), Ok(sa("10.0.0.1:2000")));
}

#[test]
fn eprt_malformed() {
    let bad = |arg: &[u8]| parse_eprt(arg).expect_err("malformed");
    assert_eq!(bad(b"|1|fe80::1|5282|"), Malformed("EPRT family 1 with an IPv6 address"));
    assert_eq!(bad(b"|2|10.0.0.1|5282|"), Malformed("EPRT family 2 with an IPv4 address"));
    assert_eq!(bad(b"|1|10.0.0.1|65536|"), Malformed("port over 65535"));
    assert_eq!(bad(b"|1|10.0.0.1|99999999999|"), Malformed("port over 65535"));
    assert_eq!(bad(b"|1|10.0.0.1|0|"), Malformed("port 0"));
    assert_eq!(bad(b"|1|10.0.0.1|-1|"), Malformed("port is not a number"));
    assert_eq!(bad(b"|1|10.0.0.1||"), Malformed("missing port"));
    assert_eq!(bad(b"|3|10.0.0.1|2000|"), Malformed("EPRT address family is neither 1 (IPv4) nor 2 (IPv6)"));
    assert_eq!(bad(b"||10.0.0.1|2000|"), Malformed("EPRT without an address family"));
    assert_eq!(bad(b"|1||2000|"), Malformed("EPRT without an address"));
    assert_eq!(bad(b"|1|10.0.0.256|2000|"), Malformed("EPRT address is neither IPv4 nor IPv6"));
    assert_eq!(bad(b"|1|10.0.0.1|2000|x"), Malformed("text after the EPRT port"));
    assert_eq!(bad(b"|1|10.0.0.1|2000||"), Malformed("text after the EPRT port"));
    assert_eq!(bad(b"1|10.0.0.1|2000|"), Malformed("EPRT delimiter is not a printable non-digit character"));
    assert_eq!(bad(b"\x7f1\x7f10.0.0.1\x7f2000\x7f"), Malformed("EPRT delimiter is not a printable non-digit character"));
    assert_eq!(bad(b""), Malformed("EPRT without an address"));
}

#[test]
fn eprt_truncated_at_every_length() {
    let full: &[u8] = b"|1|10.0.0.1|2000|";
    for len in 0..full.len() {
        assert!(parse_eprt(&full[..len]).is_err(), "{len}");
    }
}

// ---- LPRT ----

#[test]
fn lprt_v4() {
    let cmd = parse_command(b"LPRT 4,4,132,235,1,2,2,24,131").expect("command");
    assert_eq!(cmd.verb, Verb::Lprt);
    assert_eq!(parse_lprt(cmd.arg), Ok(sa("132.235.1.2:6275")));
}

#[test]
fn lprt_v6() {
    let arg = b"6,16,16,128,0,0,0,0,0,0,0,8,8,0,32,12,65,122,2,20,162";
    assert_eq!(parse_lprt(arg), Ok(sa("[1080::8:800:200c:417a]:5282")));
}

#[test]
fn lprt_malformed() {
    let bad = |arg: &[u8]| parse_lprt(arg).expect_err("malformed");
    assert_eq!(bad(b"4,16,132,235,1,2,2,24,131"), Malformed("long address family 4 with a length other than 4"));
    assert_eq!(bad(b"6,4,132,235,1,2,2,24,131"), Malformed("long address family 6 with a length other than 16"));
    assert_eq!(bad(b"5,4,132,235,1,2,2,24,131"), Malformed("long address family is neither 4 nor 6"));
    assert_eq!(bad(b"4,4,132,235,1,2,2,24"), Malformed("long address has the wrong number of values"));
    assert_eq!(bad(b"4,4,132,235,1,2,2,24,131,9"), Malformed("long address has the wrong number of values"));
    assert_eq!(bad(b"4,4,132,235,1,2"), Malformed("long address without a port"));
    assert_eq!(bad(b"4,4,132,235"), Malformed("long address cut short"));
    assert_eq!(bad(b"4"), Malformed("long address without a length"));
    assert_eq!(bad(b"4,4,132,235,1,2,3,24,131,1"), Malformed("long address port length is not 2"));
    assert_eq!(bad(b"4,4,132,235,1,300,2,24,131"), Malformed("value over 255 in address"));
    assert_eq!(bad(b"4,4,132,235,1,2,2,24,256"), Malformed("value over 255 in port"));
    assert_eq!(bad(b"4,4,132,235,1,2,2,0,0"), Malformed("port 0"));
    assert_eq!(bad(b""), Malformed("LPRT without an address"));
    // More values than any valid form: counted, never stored out of bounds.
    let long = [b"6,16,".as_slice(), &b"1,".repeat(40), b"1"].concat();
    assert_eq!(bad(&long), Malformed("long address has the wrong number of values"));
}

#[test]
fn lprt_truncated_at_every_length() {
    let full: &[u8] = b"4,4,132,235,1,2,2,24,131";
    for len in 0..full.len() {
        // "...,2,24,13" has the right count but another port, so only check it does not panic.
        let _ = parse_lprt(&full[..len]);
    }
    assert!(parse_lprt(&full[..full.len() - 3]).is_err());
}

// ---- 227 ----

#[test]
fn pasv_227_forms() {
    let cases: [(&[u8], &str); 10] = [
        (b"Entering Passive Mode (192,168,1,2,4,5)", "192.168.1.2:1029"),
        (b"227 Entering Passive Mode (192,168,1,2,4,5)", "192.168.1.2:1029"),
        (b"Entering Passive Mode (192,168,1,2,4,5).", "192.168.1.2:1029"),
        (b"227 Entering Passive Mode (192,168,1,2,4,5).", "192.168.1.2:1029"),
        (b"Entering passive mode. 127,0,0,1,4,51", "127.0.0.1:1075"),
        (b"227 Data transfer will passively listen to 127,0,0,1,4,51", "127.0.0.1:1075"),
        (b"227 192,168,178,39,184,244", "192.168.178.39:47348"),
        (b"192,168,178,39,184,244", "192.168.178.39:47348"),
        (b"227 =192,168,1,2,4,5", "192.168.1.2:1029"),
        (b"Entering Passive Mode (10, 0, 0, 1, 4, 1)", "10.0.0.1:1025"),
    ];
    for (text, addr) in cases {
        assert_eq!(parse_227(text), Ok(v4(addr)), "{:?}", String::from_utf8_lossy(text));
    }
}

#[test]
fn pasv_227_any_address_parses() {
    // Classifying 0.0.0.0 as "the server advertised any" is the analyzer's job.
    assert_eq!(parse_227(b"Entering Passive Mode (0,0,0,0,163,121)"), Ok(v4("0.0.0.0:41849")));
}

#[test]
fn pasv_227_multi_line() {
    assert_eq!(parse_227(b"listen socket created\n(127,0,0,1,154,21)"), Ok(v4("127.0.0.1:39445")));
    assert_eq!(parse_227(b"227-listen socket created\n227 (127,0,0,1,154,21)"), Ok(v4("127.0.0.1:39445")));
    assert_eq!(parse_227(b"227-listen socket created\r\n227 (127,0,0,1,154,21)\r\n"), Ok(v4("127.0.0.1:39445")));
}

#[test]
fn pasv_227_prose_numbers_before_the_address() {
    assert_eq!(parse_227(b"Entering Passive Mode v2 (10,0,0,1,4,1)"), Ok(v4("10.0.0.1:1025")));
    assert_eq!(parse_227(b"227 Entering Passive Mode 10 , 0,0,1,4,1"), Ok(v4("10.0.0.1:1025")));
}

#[test]
fn pasv_227_malformed() {
    let bad = |text: &[u8]| parse_227(text).expect_err("malformed");
    assert_eq!(bad(b"Entering Passive Mode (192,168,1,257,4,5)"), Malformed("value over 255 in address"));
    assert_eq!(bad(b"227 Entering Passive Mode (192,168,1,2,4,300)"), Malformed("value over 255 in port"));
    assert_eq!(bad(b"227 Entering Passive Mode ("), Malformed("no h1,h2,h3,h4,p1,p2 address in 227 reply"));
    assert_eq!(bad(b"Entering Passive Mode ("), Malformed("no h1,h2,h3,h4,p1,p2 address in 227 reply"));
    assert_eq!(bad(b""), Malformed("no h1,h2,h3,h4,p1,p2 address in 227 reply"));
    assert_eq!(bad(b"227"), Malformed("no h1,h2,h3,h4,p1,p2 address in 227 reply"));
    assert_eq!(bad(b"Entering Passive Mode (192,168,1,2)"), Malformed("fewer than six numbers in 227 address"));
    assert_eq!(bad(b"Entering Passive Mode (1,2,3,4,5,6,7)"), Malformed("more than six numbers in 227 address"));
    assert_eq!(bad(b"Entering Passive Mode (10,0,0,1,0,0)"), Malformed("port 0"));
}

#[test]
fn pasv_227_truncated_at_every_length() {
    let full: &[u8] = b"227 Entering Passive Mode (192,168,1,2,4,5).";
    for len in 0..full.len() {
        let result = parse_227(&full[..len]);
        // Complete once the last digit of p2 is in.
        assert_eq!(result.is_ok(), len >= full.len() - 2, "{len}: {result:?}");
    }
}

// ---- 229 ----

#[test]
fn epsv_229_forms() {
    let port_only = |port| Ok(Epsv { addr: None, port });
    assert_eq!(parse_229(b"Entering Extended Passive Mode (|||6446|)"), port_only(6446));
    assert_eq!(parse_229(b"229 Entering Extended Passive Mode (|||6446|)"), port_only(6446));
    assert_eq!(parse_229(b"(|||6446|)"), port_only(6446));
    assert_eq!(parse_229(b"Entering Extended Passive Mode (|||48758|)."), port_only(48758));
    assert_eq!(parse_229(b"Entering Extended Passive Mode (!!!6446!)"), port_only(6446));
    assert_eq!(parse_229(b"Entering Extended Passive Mode |||6446|"), port_only(6446));
    assert_eq!(parse_229(b"EPSV ok (EPSV) (|||6446|)"), port_only(6446));
    assert_eq!(
        parse_229(b"Entering Extended Passive Mode (|1|10.0.0.5|4000|)"),
        Ok(Epsv { addr: Some("10.0.0.5".parse().expect("ip")), port: 4000 })
    );
    assert_eq!(parse_229(b"(|2|2001:db8::5|4000|)"), Ok(Epsv { addr: Some("2001:db8::5".parse().expect("ip")), port: 4000 }));
    assert_eq!(parse_229(b"229-Extended passive\n229 (|||6446|)"), port_only(6446));
}

#[test]
fn epsv_229_malformed() {
    let bad = |text: &[u8]| parse_229(text).expect_err("malformed");
    let delimiters = Malformed("229 reply needs four delimiters around the port (|||port|)");
    assert_eq!(bad(b"Entering Extended Passive Mode (||6446|)"), delimiters);
    assert_eq!(bad(b"Entering Extended Passive Mode (|||6446"), delimiters);
    assert_eq!(bad(b"Entering Extended Passive Mode (|||0|)"), Malformed("port 0"));
    assert_eq!(bad(b"Entering Extended Passive Mode (|||70000|)"), Malformed("port over 65535"));
    assert_eq!(bad(b"Entering Extended Passive Mode (||||)"), Malformed("missing port"));
    assert_eq!(bad(b"(|1|fe80::1|4000|)"), Malformed("229 family 1 with an IPv6 address"));
    assert_eq!(bad(b"Entering Extended Passive Mode"), Malformed("no (|||port|) in 229 reply"));
    assert_eq!(bad(b"Entering Extended Passive Mode ("), Malformed("no (|||port|) in 229 reply"));
    assert_eq!(bad(b""), Malformed("no (|||port|) in 229 reply"));
}

#[test]
fn epsv_229_truncated_at_every_length() {
    let full: &[u8] = b"229 Entering Extended Passive Mode (|||6446|).";
    for len in 0..full.len() {
        let result = parse_229(&full[..len]);
        // Complete once the fourth delimiter is in.
        assert_eq!(result.is_ok(), len >= full.len() - 2, "{len}: {result:?}");
    }
}

#[test]
fn pasv_and_epsv_answered_by_the_other_reply() {
    // The analyzer picks the parser from the reply code, not from the command sent.
    assert_eq!(parse_227(b"227 Entering Passive Mode (10,0,0,1,4,1)"), Ok(v4("10.0.0.1:1025")));
    assert!(parse_227(b"Entering Extended Passive Mode (|||6446|)").is_err());
    assert!(parse_229(b"Entering Passive Mode (10,0,0,1,4,1)").is_err());
}

// ---- 228 ----

#[test]
fn lpsv_228_forms() {
    assert_eq!(parse_228(b"228 Entering Long Passive Mode (4,4,132,235,1,2,2,24,131)"), Ok(sa("132.235.1.2:6275")));
    assert_eq!(parse_228(b"Entering Long Passive Mode (4,4,132,235,1,2,2,24,131)"), Ok(sa("132.235.1.2:6275")));
    assert_eq!(
        parse_228(b"Entering Long Passive Mode (6,16,16,128,0,0,0,0,0,0,0,8,8,0,32,12,65,122,2,20,162)"),
        Ok(sa("[1080::8:800:200c:417a]:5282"))
    );
}

#[test]
fn lpsv_228_malformed() {
    let bad = |text: &[u8]| parse_228(text).expect_err("malformed");
    assert_eq!(bad(b"Entering Long Passive Mode ("), Malformed("no long address (4,4,...,2,p1,p2) in 228 reply"));
    assert_eq!(bad(b"Entering Long Passive Mode (4,4,132,235,1,2,2,24)"), Malformed("long address has the wrong number of values"));
    assert_eq!(bad(b"Entering Long Passive Mode (4,4,132,235,1,999,2,24,131)"), Malformed("value over 255 in address"));
}

#[test]
fn epsv_229_prose_ellipsis_before_bare_port() {
    let port_only = |port| Ok(Epsv { addr: None, port });
    assert_eq!(parse_229(b"Entering Extended Passive Mode... |||6446|"), port_only(6446));
}

#[test]
fn epsv_229_a_later_parenthesis_holds_the_port() {
    let port_only = |port| Ok(Epsv { addr: None, port });
    assert_eq!(parse_229(b"229 ((|||6446|)"), port_only(6446));
    assert_eq!(parse_229(b"229 Mode (x) (|||6446|)"), port_only(6446));
    assert_eq!(parse_229(b"229 (|||6446|) (|||7000|)"), port_only(6446));
    // The fields end at the first `)` after the `(`, wherever the delimiters go on.
    assert_eq!(parse_229(b"229 (||)|6446|"), Err(Malformed("229 reply needs four delimiters around the port (|||port|)")));
}

#[test]
fn longest_address_text_still_parses() {
    let longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
    let ip: IpAddr = longest.parse().expect("ip");
    assert_eq!(longest.len(), MAX_ADDRESS_TEXT);
    let reply = format!("229 Entering Extended Passive Mode (|2|{longest}|4000|)");
    assert_eq!(parse_229(reply.as_bytes()), Ok(Epsv { addr: Some(ip), port: 4000 }));
    assert_eq!(parse_eprt(format!("|2| {longest} |4000|").as_bytes()), Ok(SocketAddr::new(ip, 4000)));
    let longer = format!("|2|0{longest}|4000|");
    assert_eq!(parse_eprt(longer.as_bytes()), Err(Malformed("EPRT address is neither IPv4 nor IPv6")));
}

#[test]
fn parsers_take_linear_time_on_hostile_lines() {
    // Each line is what a peer could send to make a parser scan it again from many places.
    type Case = (&'static str, fn(usize) -> Vec<u8>, fn(&[u8]));
    let cases: [Case; 13] = [
        ("229 ((((", |n| repeated(b"229 ", b"(", n), |l| drop_it(parse_229(l))),
        ("229 (|(|", |n| repeated(b"229 ", b"(|", n), |l| drop_it(parse_229(l))),
        ("229 ||||", |n| repeated(b"229 ", b"|", n), |l| drop_it(parse_229(l))),
        ("229 every delimiter, then a long field", every_delimiter_then_filler, |l| drop_it(parse_229(l))),
        ("229 lines of (", |n| repeated(b"", b"229 (\n", n), |l| drop_it(parse_229(l))),
        ("227 1,1,", |n| repeated(b"227 ", b"1,", n), |l| drop_it(parse_227(l))),
        ("227 1,,1,,", |n| repeated(b"227 ", b"1,,", n), |l| drop_it(parse_227(l))),
        ("227 1 x", |n| repeated(b"227 ", b"1    x", n), |l| drop_it(parse_227(l))),
        ("227 lines", |n| repeated(b"", b"1\n", n), |l| drop_it(parse_227(l))),
        ("228 1,1,", |n| repeated(b"228 ", b"1,", n), |l| drop_it(parse_228(l))),
        ("PORT and LPRT 1,1,", |n| repeated(b"", b"1,", n), |l| drop_it((parse_port(l), parse_lprt(l)))),
        ("EPRT |2|1:1:", |n| repeated(b"|2|", b"1:", n), |l| drop_it(parse_eprt(l))),
        ("command IAC", |n| repeated(b"", b"\xff", n), |l| drop_it(parse_command(l))),
    ];
    for (name, line, parse) in cases {
        let Some(ratio) = crate::growth::growth(10_000, 40_000, line, |line| parse(line)) else { return };
        // Linear work gives about 4, quadratic about 16.
        assert!(ratio < 8.0, "{name}: 4x the bytes took {ratio:.1}x the time");
    }
}

/// Keeps a parser's result from being optimised away.
fn drop_it<T>(result: T) {
    std::hint::black_box(result);
}

/// `prefix`, then `unit` again and again up to `n` bytes.
fn repeated(prefix: &[u8], unit: &[u8], n: usize) -> Vec<u8> {
    prefix.iter().chain(unit.iter().cycle()).take(n).copied().collect()
}

/// `(` and each delimiter twice, then filler: every delimiter starts a candidate whose third
/// delimiter, searched for one candidate at a time, would be searched for to the end of the line.
fn every_delimiter_then_filler(n: usize) -> Vec<u8> {
    let mut line = b"229 ".to_vec();
    for d in (33..=126u8).filter(|&d| is_extended_delimiter(d) && d != b')') {
        line.extend_from_slice(&[b'(', d, d]);
    }
    line.resize(n, b'x');
    line
}

proptest::proptest! {
    /// No input makes a parser panic (they are fed whatever a peer sends).
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(proptest::sample::select(
        b"0123456789,|!().:- \n\r\xffaAfP".to_vec()), 0..64)) {
        let _ = parse_command(&bytes);
        let _ = parse_port(&bytes);
        let _ = parse_eprt(&bytes);
        let _ = parse_lprt(&bytes);
        let _ = parse_227(&bytes);
        let _ = parse_228(&bytes);
        let _ = parse_229(&bytes);
    }

    #[test]
    fn any_port_round_trips(a: u8, b: u8, c: u8, d: u8, port in 1u16..) {
        let text = format!("{a},{b},{c},{d},{},{}", port >> 8, port & 0xff);
        let expected = SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port);
        proptest::prop_assert_eq!(parse_port(text.as_bytes()), Ok(expected));
        let reply = format!("227 Entering Passive Mode ({text}).");
        proptest::prop_assert_eq!(parse_227(reply.as_bytes()), Ok(expected));
    }
}

#[test]
fn malformed_displays_its_reason() {
    assert_eq!(Malformed("port 0").to_string(), "port 0");
}
