//! Sprig's certificate functions: `genCA`, `genSelfSignedCert` and `genSignedCert`, whose
//! results have `.Cert` and `.Key` in PEM. Charts use them for webhook certificates. Keys are
//! ECDSA P-256 where Sprig makes RSA 2048 (a kept difference: see README); like Sprig's, each
//! render makes new keys.

use std::net::IpAddr;
use std::rc::Rc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};

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

fn params(cn: &str, ips: &Value, dns: &Value, days: i64, ca: bool) -> Result<CertificateParams, String> {
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
    let now = time::OffsetDateTime::now_utc();
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

fn certificate(cert: String, key: &KeyPair) -> Value {
    Value::Object(Rc::new(Certificate { cert, key: key.serialize_pem() }))
}

fn self_signed(cn: &str, ips: &Value, dns: &Value, days: i64, ca: bool) -> Result<Value, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params(cn, ips, dns, days, ca)?.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(certificate(cert.pem(), &key))
}

fn signed(cn: &str, ips: &Value, dns: &Value, days: i64, ca: &Value) -> Result<Value, String> {
    let Value::Object(ca) = ca else {
        return Err(format!("wrong type for value; expected sprig.certificate; got {}", ca.type_name()));
    };
    let (Some(Value::Str(ca_cert)), Some(Value::Str(ca_key))) = (ca.field("Cert"), ca.field("Key")) else {
        return Err(format!("wrong type for value; expected sprig.certificate; got {}", ca.type_name()));
    };
    let ca_key = KeyPair::from_pem(&ca_key).map_err(|e| format!("error parsing CA key: {e}"))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_cert, ca_key).map_err(|e| format!("error parsing CA certificate: {e}"))?;
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params(cn, ips, dns, days, false)?.signed_by(&key, &issuer).map_err(|e| e.to_string())?;
    Ok(certificate(cert.pem(), &key))
}

table! {
    fixed "genCA"(Str, Int) => |_, a| self_signed(a[0].as_str().unwrap_or_default(), &Value::Nil, &Value::Nil, days(&a[1]), true),
    fixed "genSelfSignedCert"(Str, List, List, Int) => |_, a| self_signed(a[0].as_str().unwrap_or_default(), &a[1], &a[2], days(&a[3]), false),
    fixed "genSignedCert"(Str, List, List, Int, Any) => |_, a| signed(a[0].as_str().unwrap_or_default(), &a[1], &a[2], days(&a[3]), &a[4]),
}
