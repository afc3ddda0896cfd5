//! The capture filter: the default one, and a warning for a user filter that would hide the
//! data connections (whose ports are chosen at run time, so a filter on the control port sees
//! negotiations but never what became of them).

/// What the analysis needs and no more: TCP (control and data connections) and ICMP/ICMPv6
/// (unreachable errors about data connections), VLAN-tagged too. libpcap's `vlan` keyword
/// shifts the offsets for what follows it, so the tagged case is written out again after it.
pub const DEFAULT_FILTER: &str = "tcp or icmp or icmp6 or (vlan and (tcp or icmp or icmp6))";

/// Why `filter` may hide data connections, or None. A port primitive (`port 21`,
/// `tcp dst port 2121`, `portrange`) selects connections by port: the data connections, on
/// ports negotiated at run time, are then missing and their outcomes read `unknown`.
pub fn data_connections_warning(filter: &str) -> Option<String> {
    let words: Vec<String> = filter
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '!')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let by_port = words.iter().any(|w| w == "port" || w == "portrange");
    // "port ... or portrange 1024-65535" would let them through, but a filter that names ports
    // at all most likely narrows what is seen: warn, it costs one line.
    by_port.then(|| {
        "the filter selects ports: data connections use ports negotiated at run time, so the filter probably hides them \
         and their outcomes will read `unknown` (the default filter keeps all TCP and ICMP)"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_filters_are_warned_about() {
        assert!(data_connections_warning("port 21").is_some());
        assert!(data_connections_warning("tcp and (dst PORT 2121)").is_some());
        assert!(data_connections_warning("tcp portrange 40000-40009").is_some());
        assert!(data_connections_warning(DEFAULT_FILTER).is_none());
        assert!(data_connections_warning("host 10.0.0.5 and tcp").is_none());
        // "transport" is not a port primitive.
        assert!(data_connections_warning("tcp and not host transport.example").is_none());
    }
}
