//! HTTPS for `kubespec serve`: a certificate authority and a serving certificate made at start,
//! and a loop that serves the [`router`](crate::router) over TLS. See [`Identity::generate`] and
//! [`serve`].
//!
//! Why TLS at all on loopback: client-go (so kubectl and every Go controller) sends a
//! kubeconfig's bearer token only over TLS, so a plain-HTTP server must either accept anonymous
//! requests or be unusable from kubectl. kind and k3s solve it the same way: a throwaway CA whose
//! PEM goes into the kubeconfig as `certificate-authority-data`.
//!
//! **API boundary:** nothing here knows about Kubernetes; [`crate::router`] stays usable in
//! process (a kube-rs `Client` over the tower `Service`) with no TLS at all.

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What can go wrong setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot make the {what} certificate")]
    Certificate {
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot build the TLS server configuration")]
    Config(#[source] rustls::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A fresh CA and a serving certificate it signed, with the serving key.
///
/// **Invariant:** the serving certificate names `127.0.0.1`, `::1`, `localhost` and every extra
/// host given to [`Identity::generate`], so a client that trusts [`Identity::ca_pem`] accepts
/// the server under any of those names.
pub struct Identity {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Identity")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Makes a CA (`kubespec-ca`) and a serving certificate (`kubespec`) for the loopback names
    /// plus `hosts` (the address the server listens on, say). Keys are ECDSA P-256; the
    /// certificates use rcgen's default validity, which outlives any server process.
    ///
    /// # Errors
    ///
    /// [`Error::Certificate`] when rcgen cannot make a key or sign (it has no other cause here).
    pub fn generate(hosts: &[IpAddr]) -> Result<Self> {
        let cert_err = |what| move |source| Error::Certificate { what, source };

        let mut ca = CertificateParams::default();
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name
            .push(DnType::CommonName, "kubespec-ca");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(cert_err("CA"))?;
        let ca = CertifiedIssuer::self_signed(ca, ca_key).map_err(cert_err("CA"))?;

        let mut names = vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ];
        for host in hosts {
            let host = host.to_string();
            if !names.contains(&host) {
                names.push(host);
            }
        }
        let mut leaf = CertificateParams::new(names).map_err(cert_err("serving"))?;
        leaf.distinguished_name = DistinguishedName::new();
        leaf.distinguished_name.push(DnType::CommonName, "kubespec");
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().map_err(cert_err("serving"))?;
        let leaf = leaf
            .signed_by(&leaf_key, &ca)
            .map_err(cert_err("serving"))?;

        Ok(Identity {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        })
    }

    /// The CA certificate, PEM encoded: what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate as a kubeconfig's `certificate-authority-data`: base64 of the PEM.
    pub fn ca_data(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes())
    }

    /// A rustls server configuration on the ring provider (the one kube-rs uses by default),
    /// offering HTTP/1.1 only over ALPN: watches are long-lived responses, which HTTP/1.1 serves
    /// one per connection without any stream limit to tune.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when rustls refuses the key (it does not for keys made here).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(Error::Config)?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(Error::Config)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A client that does not finish its handshake in this time is dropped, so a stuck or hostile
/// client holds no task for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may wait for the headers of its next request, idle time between
/// keep-alive requests included. hyper's default is 30 s, shorter than clients keep idle
/// connections pooled (90 s in hyper-util, kube-rs and client-go), so a client could pick a
/// connection the server was closing and fail with "connection closed before message
/// completed". Longer than 90 s, the client always closes an idle connection first, as it
/// must be for clients that do not retry such a request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Serves `app` over TLS on `listener` until `shutdown` completes; then stops accepting, asks
/// every open connection to close once its current response is done, and returns when they all
/// have. NOTE: a watch is one response that never ends, so callers bound that last wait
/// (`kubespec serve` gives it one second).
///
/// A failed handshake or a broken connection ends that connection only (logged at debug level).
///
/// # Errors
///
/// Only when accepting on `listener` fails for a reason that will not go away by retrying.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Reap finished connections so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_transient(&e) => {
                    // Out of file descriptors, say: back off instead of spinning.
                    tracing::debug!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let service = TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(IDLE_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                // The async block drops the watch guard (not Send) before the branch runs.
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Accept errors that concern one connection or a passing shortage, not the listener.
fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | OutOfMemory
    ) || e.raw_os_error().is_some_and(|c| c == 23 || c == 24) // ENFILE, EMFILE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppState, Config};
    use kubespec_engine::{Cluster, ClusterConfig};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client_trusting(ca: &Identity) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.chain[1].clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// GET `path` over TLS to `addr` under the server name `name`; the status line and body.
    async fn get(
        connector: &tokio_rustls::TlsConnector,
        addr: std::net::SocketAddr,
        name: &'static str,
        path: &str,
        token: Option<&str>,
    ) -> std::io::Result<String> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut tls = connector
            .connect(ServerName::try_from(name).unwrap(), tcp)
            .await?;
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        tls.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {name}\r\n{auth}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        let mut response = String::new();
        tls.read_to_string(&mut response).await?;
        Ok(response)
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_is_served_and_the_token_is_still_required() {
        let identity = Identity::generate(&[]).unwrap();
        assert!(identity.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let state = AppState::new(
            Cluster::new(ClusterConfig::default()),
            Config {
                token: Some("secret".into()),
                ..Config::default()
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            crate::router(state),
            identity.server_config().unwrap(),
            async {
                let _ = stopped.await;
            },
        ));
        let trusting = client_trusting(&identity);
        for name in ["127.0.0.1", "localhost"] {
            let r = get(&trusting, addr, name, "/api", None).await.unwrap();
            assert!(r.starts_with("HTTP/1.1 401 "), "{r}");
            assert!(r.contains("\"reason\":\"Unauthorized\""), "{r}");
            let r = get(&trusting, addr, name, "/api", Some("secret"))
                .await
                .unwrap();
            assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
            assert!(r.contains("\"kind\":\"APIVersions\""), "{r}");
        }
        // Another server's CA does not vouch for this one.
        let other = Identity::generate(&[]).unwrap();
        let err = get(&client_trusting(&other), addr, "127.0.0.1", "/api", None)
            .await
            .expect_err("the handshake fails");
        assert!(err.to_string().contains("certificate"), "{err}");
        // A name the certificate does not carry is refused too.
        let err = get(&trusting, addr, "example.com", "/api", None)
            .await
            .expect_err("the handshake fails");
        assert!(err.to_string().contains("certificate"), "{err}");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    #[test]
    fn the_serving_certificate_names_the_listen_address() {
        let addr: IpAddr = "10.1.2.3".parse().unwrap();
        let identity = Identity::generate(&[addr]).unwrap();
        let config = identity.server_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        // The address is in the leaf's DER as its four bytes (an iPAddress SAN).
        let leaf = identity.chain[0].as_ref();
        assert!(leaf.windows(4).any(|w| w == [10, 1, 2, 3]));
        let loopback = Identity::generate(&[]).unwrap();
        assert!(
            !loopback.chain[0]
                .as_ref()
                .windows(4)
                .any(|w| w == [10, 1, 2, 3])
        );
    }
}
