//! Sprig's certificate functions: `genCA`, `genSelfSignedCert` and `genSignedCert`, whose
//! results have `.Cert` and `.Key` in PEM. Charts use them for webhook certificates. Keys are
//! ECDSA P-256 where Sprig makes RSA 2048 (a kept difference: see README); like Sprig's, each
//! render makes new keys.

use std::net::IpAddr;
use std::rc::Rc;

use p256::ecdsa::signature::Signer;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, PublicKeyData,
    SanType, SignatureAlgorithm, SigningKey, PKCS_ECDSA_P256_SHA256,
};

use super::super::exec::Engine;
use super::super::value::{Object, Value};
use super::{strval, table};

/// Sprig's `certificate`: a PEM certificate and its PEM private key.
#[derive(Debug)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }

    fn go_string(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

fn days(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

/// An ECDSA P-256 key that rcgen signs with.
struct P256Key {
    secret: p256::ecdsa::SigningKey,
    /// The uncompressed SEC1 point, as a certificate's public key holds it.
    public: Vec<u8>,
}

impl P256Key {
    fn new(secret: p256::ecdsa::SigningKey) -> P256Key {
        let public = secret.verifying_key().to_encoded_point(false).as_bytes().to_vec();
        P256Key { secret, public }
    }

    /// A key drawn from the engine's entropy for the call `call`.
    fn generate(engine: &mut Engine, call: &str) -> Result<P256Key, String> {
        // A draw outside the curve's order (odds about 2^-32) is drawn again.
        loop {
            let mut bytes = [0u8; 32];
            engine.entropy.fill(call, &mut bytes)?;
            if let Ok(secret) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Ok(P256Key::new(secret));
            }
        }
    }

    fn from_pem(pem: &str) -> Result<P256Key, String> {
        let secret =
            p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| format!("error parsing CA key (an ECDSA P-256 key in PKCS #8): {e}"))?;
        Ok(P256Key::new(secret.into()))
    }

    fn to_pem(&self) -> String {
        let secret: p256::SecretKey = self.secret.clone().into();
        secret.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).unwrap_or_default()
    }
}

impl PublicKeyData for P256Key {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for P256Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: p256::ecdsa::Signature = self.secret.sign(msg);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

fn params(engine: &mut Engine, cn: &str, ips: &Value, dns: &Value, days: i64, ca: bool) -> Result<CertificateParams, String> {
    let names: Vec<String> = match dns {
        Value::List(items, _) => items.iter().map(strval).collect(),
        _ => Vec::new(),
    };
    let mut params = CertificateParams::new(names).map_err(|e| e.to_string())?;
    if let Value::List(items, _) = ips {
        for ip in items.iter().map(strval) {
            let addr: IpAddr = ip.parse().map_err(|_| format!("error parsing ip: {ip}"))?;
            params.subject_alt_names.push(SanType::IpAddress(addr));
        }
    }
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    params.distinguished_name = name;
    let now = engine.entropy.now();
    params.not_before = now;
    params.not_after = now + time::Duration::days(days);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
    } else {
        params.key_usages = vec![KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    }
    Ok(params)
}

fn certificate(cert: String, key: &P256Key) -> Value {
    Value::Object(Rc::new(Certificate { cert, key: key.to_pem() }))
}

/// The entropy call a key is drawn for: the function and its arguments.
fn key_call(function: &str, cn: &str, ips: &Value, dns: &Value, days: i64) -> String {
    format!("{function} {cn:?} {} {} {days}", strval(ips), strval(dns))
}

fn self_signed(engine: &mut Engine, cn: &str, ips: &Value, dns: &Value, days: i64, ca: bool) -> Result<Value, String> {
    let function = if ca { "genCA" } else { "genSelfSignedCert" };
    let key = P256Key::generate(engine, &key_call(function, cn, ips, dns, days))?;
    let cert = params(engine, cn, ips, dns, days, ca)?.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(certificate(cert.pem(), &key))
}

fn signed(engine: &mut Engine, cn: &str, ips: &Value, dns: &Value, days: i64, ca: &Value) -> Result<Value, String> {
    let Value::Object(ca) = ca else {
        return Err(format!("wrong type for value; expected sprig.certificate; got {}", ca.type_name()));
    };
    let (Some(Value::Str(ca_cert)), Some(Value::Str(ca_key))) = (ca.field("Cert"), ca.field("Key")) else {
        return Err(format!("wrong type for value; expected sprig.certificate; got {}", ca.type_name()));
    };
    let ca_key = P256Key::from_pem(&ca_key)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_cert, ca_key).map_err(|e| format!("error parsing CA certificate: {e}"))?;
    let key = P256Key::generate(engine, &key_call("genSignedCert", cn, ips, dns, days))?;
    let cert = params(engine, cn, ips, dns, days, false)?.signed_by(&key, &issuer).map_err(|e| e.to_string())?;
    Ok(certificate(cert.pem(), &key))
}

table! {
    fixed "genCA"(Str, Int) => |e, a| self_signed(e, a[0].as_str().unwrap_or_default(), &Value::Nil, &Value::Nil, days(&a[1]), true),
    fixed "genSelfSignedCert"(Str, List, List, Int) => |e, a| self_signed(e, a[0].as_str().unwrap_or_default(), &a[1], &a[2], days(&a[3]), false),
    fixed "genSignedCert"(Str, List, List, Int, Any) => |e, a| signed(e, a[0].as_str().unwrap_or_default(), &a[1], &a[2], days(&a[3]), &a[4]),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::entropy::Entropy;
    use crate::template::TemplateSet;

    fn engine(seed: Option<u8>) -> Engine {
        let mut engine = Engine::new(TemplateSet::new());
        if let Some(seed) = seed {
            engine.entropy = Entropy::seeded([seed; 32], time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20000));
        }
        engine
    }

    fn pem(value: &Value) -> (String, String) {
        let Value::Object(cert) = value else { panic!("not a certificate") };
        (strval(&cert.field("Cert").unwrap()), strval(&cert.field("Key").unwrap()))
    }

    /// A CA and a server certificate signed by it, as webhook charts make them.
    fn chain(engine: &mut Engine) -> ((String, String), (String, String)) {
        let ca = self_signed(engine, "webhook-ca", &Value::Nil, &Value::Nil, 365, true).unwrap();
        let dns = Value::list(vec![Value::str("webhook.default.svc")]);
        let server = signed(engine, "webhook", &Value::Nil, &dns, 365, &ca).unwrap();
        (pem(&ca), pem(&server))
    }

    #[test]
    fn seeded_certificates_repeat_and_system_ones_do_not() {
        let first = chain(&mut engine(Some(3)));
        assert_eq!(first, chain(&mut engine(Some(3))));
        assert_ne!(first, chain(&mut engine(Some(4))));
        assert_ne!(chain(&mut engine(None)), chain(&mut engine(None)));
        assert!(first.0 .0.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(first.1 .1.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn signed_certificates_verify_against_their_ca() {
        let ((ca_pem, _), (server_pem, _)) = chain(&mut engine(None));
        let (_, ca) = x509_parser::pem::parse_x509_pem(ca_pem.as_bytes()).unwrap();
        let (_, server) = x509_parser::pem::parse_x509_pem(server_pem.as_bytes()).unwrap();
        let (ca, server) = (ca.parse_x509().unwrap(), server.parse_x509().unwrap());
        assert!(ca.is_ca());
        server.verify_signature(Some(ca.public_key())).expect("signed by the CA");
    }
}
