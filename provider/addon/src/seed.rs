//! A release's seed: what its chart's random values, keys and clock are drawn from, and
//! what keys the digests of its Secrets. Drawn once at install and kept with the release, so
//! plan after plan renders the same passwords and certificates; a new seed rotates them all.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use aqemia_helm::render::Seed;
use aqemia_release::manifest::{self, Manifest};
use aqemia_release::object::ObjectKey;

/// 32 secret bytes and the install time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReleaseSeed {
    bytes: [u8; 32],
    clock: OffsetDateTime,
}

impl std::fmt::Debug for ReleaseSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReleaseSeed {{ clock: {} }}", self.clock)
    }
}

impl ReleaseSeed {
    /// A new seed from the operating system, and the current time to the second.
    pub fn generate() -> Result<ReleaseSeed, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let now = OffsetDateTime::now_utc();
        Ok(ReleaseSeed { bytes, clock: now.replace_nanosecond(0).unwrap_or(now) })
    }

    /// `v1:<base64 of the bytes>:<unix seconds>`, as kept with the release.
    pub fn encode(&self) -> String {
        format!("v1:{}:{}", BASE64.encode(self.bytes), self.clock.unix_timestamp())
    }

    pub fn decode(text: &str) -> Option<ReleaseSeed> {
        let mut parts = text.split(':');
        let (Some("v1"), Some(bytes), Some(seconds), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return None };
        let bytes: [u8; 32] = BASE64.decode(bytes).ok()?.try_into().ok()?;
        let clock = OffsetDateTime::from_unix_timestamp(seconds.parse().ok()?).ok()?;
        Some(ReleaseSeed { bytes, clock })
    }

    /// What the Helm engine draws from.
    pub fn render_seed(&self) -> Seed {
        // The render seed and the digest key are derived apart: neither tells the other.
        Seed { bytes: self.derive(b"render"), clock: self.clock }
    }

    /// Gives each Secret a digest keyed with this seed (HMAC-SHA-256), where other objects have
    /// a plain one: Secret data is often short and guessable from a plain hash.
    pub fn key_secret_digests(&self, manifests: &mut [Manifest]) {
        for manifest in manifests.iter_mut().filter(|m| is_secret(&m.key)) {
            manifest.digest = self.keyed_digest(&manifest::canonical_text(&manifest.body));
        }
    }

    /// `hmac-sha256:<16 hex>` of `text`, keyed with this seed: a digest of secret data that
    /// can be shown (in an annotation, a plan) without making the data guessable.
    pub fn keyed_digest(&self, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.derive(b"secret digests")).expect("HMAC takes any key length");
        mac.update(text.as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("hmac-sha256:{hex}")
    }

    fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.bytes).expect("HMAC takes any key length");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }
}

/// Whether an object is a Secret, whose digest the release's key keys.
pub fn is_secret(key: &ObjectKey) -> bool {
    key.group.is_empty() && key.kind == "Secret"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(password: &str) -> Manifest {
        let body = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": password}});
        let key = ObjectKey { group: String::new(), kind: "Secret".into(), namespace: "web".into(), name: "s".into() };
        Manifest { key, api_version: "v1".into(), digest: manifest::digest(&body), body }
    }

    #[test]
    fn seeds_survive_their_encoding_and_never_print() {
        let seed = ReleaseSeed::generate().unwrap();
        assert_eq!(ReleaseSeed::decode(&seed.encode()), Some(seed));
        assert_eq!(ReleaseSeed::decode("v1:short:0"), None);
        assert!(!format!("{seed:?}").contains(&BASE64.encode(seed.bytes)));
        assert_ne!(seed.render_seed().bytes, seed.bytes);
    }

    #[test]
    fn secret_digests_depend_on_the_seed() {
        let (a, b) = (ReleaseSeed::generate().unwrap(), ReleaseSeed::generate().unwrap());
        let digest = |seed: &ReleaseSeed, password: &str| {
            let mut manifests = [secret(password)];
            seed.key_secret_digests(&mut manifests);
            manifests[0].digest.clone()
        };
        assert_eq!(digest(&a, "hunter2"), digest(&a, "hunter2"));
        assert_ne!(digest(&a, "hunter2"), digest(&a, "hunter3"));
        assert_ne!(digest(&a, "hunter2"), digest(&b, "hunter2"));
        assert!(digest(&a, "hunter2").starts_with("hmac-sha256:"));
        assert_ne!(digest(&a, "hunter2"), secret("hunter2").digest);
    }
}
