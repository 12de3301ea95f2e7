//! Certificates: the TLS CA and server certificate, the PCA hierarchy, chain verification.

use crate::util::parse_pem_blocks;
use crate::PcaCredentials;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::net::IpAddr;
use std::sync::Arc;

/// The TLS material of the server.
pub(crate) struct TlsMaterial {
    pub config: Arc<rustls::ServerConfig>,
    pub ca_pem: String,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "idaas-emulator");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

fn server_config(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("TLS certificate/key: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Generates a CA and a server certificate for 127.0.0.1, ::1, localhost and `bind`.
pub(crate) fn generate_tls(bind: IpAddr) -> Result<TlsMaterial, String> {
    let err = |e: rcgen::Error| format!("cannot generate the TLS CA: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca = ca_params("idaas-emulator local CA")
        .self_signed(&ca_key)
        .map_err(err)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    p.distinguished_name = dn;
    let mut sans = vec![
        SanType::IpAddress("127.0.0.1".parse().expect("literal IP")),
        SanType::IpAddress("::1".parse().expect("literal IP")),
        SanType::DnsName("localhost".try_into().map_err(err)?),
    ];
    if !bind.is_unspecified() && !bind.is_loopback() {
        sans.push(SanType::IpAddress(bind));
    }
    p.subject_alt_names = sans;
    p.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(err)?;
    let cert = p.signed_by(&key, &ca, &ca_key).map_err(err)?;
    let chain = vec![cert.der().clone()];
    let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    Ok(TlsMaterial {
        config: server_config(chain, key_der)?,
        ca_pem: ca.pem(),
    })
}

/// Loads a server certificate chain and key from PEM text (files given by the user).
pub(crate) fn load_tls(
    cert_pem: &str,
    key_pem: &str,
    ca_pem: Option<String>,
) -> Result<TlsMaterial, String> {
    let certs: Vec<_> = parse_pem_blocks(cert_pem)
        .map_err(|e| format!("tls certificate: {e}"))?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| rustls_pki_types::CertificateDer::from(b.der))
        .collect();
    if certs.is_empty() {
        return Err("tls certificate: no CERTIFICATE block".into());
    }
    let kb = parse_pem_blocks(key_pem).map_err(|e| format!("tls key: {e}"))?;
    let b = kb.into_iter().next().ok_or("tls key: no PEM block")?;
    let key = match b.label.as_str() {
        "PRIVATE KEY" => rustls_pki_types::PrivateKeyDer::Pkcs8(b.der.into()),
        "RSA PRIVATE KEY" => rustls_pki_types::PrivateKeyDer::Pkcs1(b.der.into()),
        "EC PRIVATE KEY" => rustls_pki_types::PrivateKeyDer::Sec1(b.der.into()),
        other => return Err(format!("tls key: unsupported PEM label {other}")),
    };
    Ok(TlsMaterial {
        config: server_config(certs, key)?,
        ca_pem: ca_pem.unwrap_or_else(|| cert_pem.to_string()),
    })
}

/// The PCA hierarchy: a root CA (trusted by the token endpoint) and an intermediate that
/// issues client certificates.
pub(crate) struct Pca {
    root: Certificate,
    inter: Certificate,
    inter_key: KeyPair,
    /// DER of the root, for chain verification.
    pub root_der: Vec<u8>,
}

impl Pca {
    /// Generates the hierarchy.
    pub fn generate() -> Result<Pca, String> {
        let err = |e: rcgen::Error| format!("cannot generate the PCA hierarchy: {e}");
        let root_key = KeyPair::generate().map_err(err)?;
        let root = ca_params("idaas-emulator PCA root")
            .self_signed(&root_key)
            .map_err(err)?;
        let inter_key = KeyPair::generate().map_err(err)?;
        let mut ip = ca_params("idaas-emulator PCA intermediate");
        ip.use_authority_key_identifier_extension = true;
        let inter = ip.signed_by(&inter_key, &root, &root_key).map_err(err)?;
        Ok(Pca {
            root_der: root.der().to_vec(),
            root,
            inter,
            inter_key,
        })
    }

    /// PEM of the PCA root.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// Issues a P-256 client certificate for `cn`.
    pub fn issue(&self, cn: &str) -> Result<PcaCredentials, String> {
        let err = |e: rcgen::Error| format!("cannot issue a PCA certificate: {e}");
        let key = KeyPair::generate().map_err(err)?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.use_authority_key_identifier_extension = true;
        let cert = p
            .signed_by(&key, &self.inter, &self.inter_key)
            .map_err(err)?;
        Ok(PcaCredentials {
            cert_pem: cert.pem(),
            chain_pem: self.inter.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Verifies that `leaf_pem` chains to the PCA root through `chain_pem` (signatures and
    /// validity dates); returns the leaf's public key and its subject common name.
    pub fn verify_chain(
        &self,
        leaf_pem: &str,
        chain_pem: &str,
    ) -> Result<(crate::jwt::PublicKeyInfo, String), String> {
        let leaf_blocks = parse_pem_blocks(leaf_pem).map_err(|e| format!("client_x509: {e}"))?;
        let leaf_der = leaf_blocks
            .into_iter()
            .find(|b| b.label == "CERTIFICATE")
            .ok_or("client_x509: no CERTIFICATE block")?
            .der;
        let chain_ders: Vec<Vec<u8>> = if chain_pem.trim().is_empty() {
            Vec::new()
        } else {
            parse_pem_blocks(chain_pem)
                .map_err(|e| format!("client_x509_chain: {e}"))?
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.der)
                .collect()
        };
        let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der)
            .map_err(|e| format!("client_x509: not a certificate: {e}"))?;
        let mut chain = Vec::new();
        for (i, d) in chain_ders.iter().enumerate() {
            let (_, c) = x509_parser::parse_x509_certificate(d)
                .map_err(|e| format!("client_x509_chain[{i}]: not a certificate: {e}"))?;
            chain.push(c);
        }
        let (_, root) = x509_parser::parse_x509_certificate(&self.root_der)
            .map_err(|e| format!("PCA root: {e}"))?;
        if !leaf.validity().is_valid() {
            return Err("client_x509: certificate is expired or not yet valid".into());
        }
        let mut current = &leaf;
        for _depth in 0..8 {
            if current.issuer().as_raw() == root.subject().as_raw()
                && current.verify_signature(Some(root.public_key())).is_ok()
            {
                let key = crate::jwt::PublicKeyInfo::from_spki(leaf.public_key())?;
                let cn = leaf
                    .subject()
                    .iter_common_name()
                    .next()
                    .and_then(|c| c.as_str().ok())
                    .unwrap_or("")
                    .to_string();
                return Ok((key, cn));
            }
            let next = chain.iter().find(|c| {
                c.subject().as_raw() == current.issuer().as_raw()
                    && current.verify_signature(Some(c.public_key())).is_ok()
            });
            match next {
                Some(n) => {
                    if !n.is_ca() {
                        return Err("client_x509_chain: an issuing certificate is not a CA".into());
                    }
                    if !n.validity().is_valid() {
                        return Err(
                            "client_x509_chain: a certificate is expired or not yet valid".into()
                        );
                    }
                    current = n;
                }
                None => {
                    return Err(
                        "client_x509 does not chain to the trusted PCA root (signature or issuer mismatch)"
                            .into(),
                    )
                }
            }
        }
        Err("client_x509_chain: chain too long".into())
    }
}
