//! AutoMTLS, the plugin side: a fresh self-signed certificate per process that Terraform
//! pins from the handshake line.
//!
//! No client certificate is requested: Terraform's is ECDSA P-521 with CA:TRUE, which
//! rustls either cannot verify (ring) or rejects as an end-entity certificate (aws-lc-rs).
//! The socket is private to the user and the server identity is pinned, which is what
//! protects the channel.

use anyhow::Context as _;
use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

pub struct ServerIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    /// DER of the certificate, base64 without padding, as the handshake line carries it.
    pub handshake_cert: String,
}

pub fn generate() -> anyhow::Result<ServerIdentity> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("generating the TLS key")?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).context("building the TLS certificate")?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    name.push(DnType::OrganizationName, "aqemia");
    params.distinguished_name = name;
    // Go's verifier treats the pinned certificate as its own root, so it must be a CA that
    // may sign, and must carry serverAuth since it has an EKU extension at all.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).context("signing the TLS certificate")?;
    Ok(ServerIdentity {
        handshake_cert: base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
