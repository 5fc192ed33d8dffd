//! Zones and DNS records.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::http::Client;
use crate::Error;

/// Records per page when listing: the API's maximum.
const PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Zone {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: String,
}

/// A record as Cloudflare reports it. Only what aqemia reads; everything else is ignored, and
/// `type` stays a string so that a zone holding any kind of record can be listed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub proxied: bool,
    #[serde(default)]
    pub ttl: u32,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What a create or patch sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub content: String,
    pub proxied: bool,
    /// 1 is "automatic"; a proxied record is always automatic.
    pub ttl: u32,
    pub comment: String,
}

impl RecordSpec {
    /// The TTL Cloudflare keeps for this spec: a proxied record's is always 1.
    pub fn effective_ttl(&self) -> u32 {
        if self.proxied {
            1
        } else {
            self.ttl
        }
    }

    /// Whether a record already says what this spec says.
    pub fn matches(&self, record: &Record) -> bool {
        record.kind == self.kind
            && record.name.eq_ignore_ascii_case(&self.name)
            && record.content.eq_ignore_ascii_case(&self.content)
            && record.proxied == self.proxied
            && record.ttl == self.effective_ttl()
            && record.comment.as_deref() == Some(self.comment.as_str())
    }

    fn body(&self) -> serde_json::Value {
        let mut body = serde_json::to_value(self).expect("a record spec is plain data");
        body["ttl"] = self.effective_ttl().into();
        body
    }
}

impl Client {
    /// The zone of that name the token can see, if any.
    pub async fn zone_named(&self, name: &str) -> Result<Option<Zone>, Error> {
        let (zones, _) = self.call::<Vec<Zone>>(Method::GET, "/zones", &[("name", name.to_string())], None).await?;
        Ok(zones.unwrap_or_default().into_iter().find(|z| z.name.eq_ignore_ascii_case(name)))
    }

    pub async fn zone(&self, id: &str) -> Result<Zone, Error> {
        let path = format!("/zones/{id}");
        self.call::<Zone>(Method::GET, &path, &[], None).await?.0.ok_or_else(|| missing_result("GET", &path))
    }

    /// Every record of that fully qualified name, across pages.
    pub async fn records_named(&self, zone_id: &str, name: &str) -> Result<Vec<Record>, Error> {
        let path = format!("/zones/{zone_id}/dns_records");
        let mut records = Vec::new();
        for page in 1.. {
            let query = [("name", name.to_string()), ("per_page", PAGE_SIZE.to_string()), ("page", page.to_string())];
            let (found, info) = self.call::<Vec<Record>>(Method::GET, &path, &query, None).await?;
            records.extend(found.unwrap_or_default());
            if !info.is_some_and(|i| i.has_more()) {
                break;
            }
        }
        Ok(records)
    }

    /// The record, or `None` when it no longer exists.
    pub async fn record(&self, zone_id: &str, id: &str) -> Result<Option<Record>, Error> {
        let path = format!("/zones/{zone_id}/dns_records/{id}");
        match self.call::<Record>(Method::GET, &path, &[], None).await {
            Ok((record, _)) => Ok(record),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create_record(&self, zone_id: &str, spec: &RecordSpec) -> Result<Record, Error> {
        let path = format!("/zones/{zone_id}/dns_records");
        self.call::<Record>(Method::POST, &path, &[], Some(&spec.body())).await?.0.ok_or_else(|| missing_result("POST", &path))
    }

    /// Sets every field the spec names, leaving the record's others (tags, settings) alone.
    pub async fn patch_record(&self, zone_id: &str, id: &str, spec: &RecordSpec) -> Result<Record, Error> {
        let path = format!("/zones/{zone_id}/dns_records/{id}");
        self.call::<Record>(Method::PATCH, &path, &[], Some(&spec.body())).await?.0.ok_or_else(|| missing_result("PATCH", &path))
    }

    /// Deletes the record; `false` when it was already gone.
    pub async fn delete_record(&self, zone_id: &str, id: &str) -> Result<bool, Error> {
        let path = format!("/zones/{zone_id}/dns_records/{id}");
        match self.call::<serde_json::Value>(Method::DELETE, &path, &[], None).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn missing_result(method: &'static str, path: &str) -> Error {
    Error::Decode { method, path: path.to_string(), reason: "the answer has no result".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(proxied: bool, ttl: u32) -> RecordSpec {
        RecordSpec {
            kind: "CNAME".into(),
            name: "app.example.com".into(),
            content: "lb.example.net".into(),
            proxied,
            ttl,
            comment: "managed by aqemia".into(),
        }
    }

    #[test]
    fn a_proxied_record_is_sent_and_compared_with_the_automatic_ttl() {
        assert_eq!(spec(true, 300).body()["ttl"], 1);
        assert_eq!(spec(false, 300).body()["ttl"], 300);
        let record = Record {
            id: "r".into(),
            kind: "CNAME".into(),
            name: "App.Example.com".into(),
            content: "lb.example.net".into(),
            proxied: true,
            ttl: 1,
            comment: Some("managed by aqemia".into()),
        };
        assert!(spec(true, 300).matches(&record));
        assert!(!spec(false, 1).matches(&record));
        assert!(!spec(true, 1).matches(&Record { content: "elsewhere.example.net".into(), ..record }));
    }
}
