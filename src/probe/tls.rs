//! `--tls`: explicit FTPS as a client does it (AUTH TLS, then PBSZ 0 and PROT P, every data
//! channel in TLS too), with rustls. The server's certificate is checked against the system's
//! roots; a failure (expired, wrong name, self-signed) stops the probe as a finding unless
//! `--insecure` accepts it, and either way is reported.
//!
//! Owns the TLS configuration and the wire a control or data connection is, clear or in TLS.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, Error, RootCertStore, SignatureScheme, StreamOwned};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

/// A connection as the probe reads and writes it.
pub enum Wire {
    Clear(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Wire {
    /// The TCP connection underneath (timeouts, addresses).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Wire::Clear(s) => s,
            Wire::Tls(s) => &s.sock,
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Clear(s) => s.read(buf),
            Wire::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Wire::Clear(s) => s.write(buf),
            Wire::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Wire::Clear(s) => s.flush(),
            Wire::Tls(s) => s.flush(),
        }
    }
}

/// The client's TLS setup for one server: the control connection and every data connection
/// use it (so that data connections resume the control connection's session, as servers that
/// require it check).
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    /// Why the certificate did not verify, once a handshake found it.
    pub certificate_problem: Arc<Mutex<Option<String>>>,
}

impl Tls {
    /// For `host` (a name or an address, as the URL gave it); `insecure` accepts a certificate
    /// that does not verify (it is still reported).
    pub fn new(host: &str, insecure: bool) -> Result<Tls, String> {
        let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: not a TLS server name ({e})"))?;
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            // A system root rustls cannot parse is left out, as browsers do.
            let _ = roots.add(cert);
        }
        // ring: pure Rust and assembly, no C toolchain for aws-lc. rustls deprecates it for
        // want of post-quantum key exchange, which a probe of an FTP server does not need.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = if roots.is_empty() {
            None
        } else {
            Some(WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider)).build().map_err(|e| e.to_string())?)
        };
        let problem = Arc::new(Mutex::new(None));
        let verifier = Arc::new(Noting { webpki, provider: Arc::clone(&provider), insecure, problem: Arc::clone(&problem) });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Tls { config: Arc::new(config), name, certificate_problem: problem })
    }

    /// `tcp` in TLS; the handshake happens on the first read or write, within the socket's
    /// timeouts.
    pub fn wrap(&self, tcp: TcpStream) -> Result<Wire, String> {
        let conn = ClientConnection::new(Arc::clone(&self.config), self.name.clone()).map_err(|e| e.to_string())?;
        Ok(Wire::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    pub fn problem(&self) -> Option<String> {
        self.certificate_problem.lock().ok().and_then(|p| p.clone())
    }
}

/// Verifies with the system's roots and notes why a certificate fails; `insecure` goes on.
#[derive(Debug)]
struct Noting {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    insecure: bool,
    problem: Arc<Mutex<Option<String>>>,
}

impl ServerCertVerifier for Noting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verified = match &self.webpki {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(Error::General("no trusted root certificates on this system".into())),
        };
        match verified {
            Ok(v) => Ok(v),
            Err(e) => {
                if let Ok(mut p) = self.problem.lock() {
                    *p = Some(words(&e));
                }
                if self.insecure {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A certificate's problem as a person says it.
fn words(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. }) => "expired".into(),
        Error::InvalidCertificate(CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }) => "not valid yet".into(),
        Error::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }) => {
            "issued for another name".into()
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "self-signed, or signed by an issuer the system does not trust".into()
        }
        Error::InvalidCertificate(CertificateError::Revoked) => "revoked".into(),
        // webpki's words for a certificate that signs itself (a CA used as the server's own).
        Error::InvalidCertificate(CertificateError::Other(o)) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
            "self-signed (a CA certificate used as the server's own)".into()
        }
        other => other.to_string(),
    }
}
