//! Protocol benchmarks: start-to-handshake time, GetSchema latency over the plugin socket,
//! and msgpack throughput on a 1 MB object. Prints medians; asserts nothing.
//!
//! `cargo bench -p terraform-provider-aqemia --bench protocol` (or `make bench`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use aqemia_tfplugin::cty::{self, Type, Value};
use aqemia_tfplugin::proto::tfplugin5::{get_provider_schema, provider_client::ProviderClient};
use hyper_util::rt::TokioIo;
use tonic::transport::Endpoint;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-aqemia");

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Start of the process until its handshake line is on stdout, as Terraform waits for it.
fn handshake_ms(runs: usize) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let mut child = Command::new(PROVIDER)
                .env("TF_PLUGIN_MAGIC_COOKIE", aqemia_tfplugin::server::MAGIC_COOKIE_VALUE)
                .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
                .env("PLUGIN_CLIENT_CERT", "present")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting the provider");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("handshake line");
            let elapsed = start.elapsed().as_secs_f64() * 1e3;
            assert!(line.starts_with("1|5|unix|"), "unexpected handshake {line:?}");
            // SIGTERM lets the provider remove its socket directory.
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
            elapsed
        })
        .collect();
    median(samples)
}

/// GetSchema round trips over the unix socket of a provider in debug (plaintext) mode.
async fn get_schema_us(calls: usize) -> (f64, usize) {
    let mut child = tokio::process::Command::new(PROVIDER)
        .arg("--debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the provider in debug mode");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let socket = loop {
        let line = lines.next_line().await.expect("reading debug output").expect("debug output ended");
        if let Some(start) = line.find("\"String\":\"") {
            let rest = &line[start + 10..];
            break rest[..rest.find('"').expect("socket path end")].to_string();
        }
    };
    let channel = Endpoint::try_from("http://localhost")
        .expect("endpoint")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(socket).await?)) }
        }))
        .await
        .expect("connecting to the provider");
    let mut client = ProviderClient::new(channel).max_decoding_message_size(256 << 20);
    let mut size = 0;
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        let response = client.get_schema(get_provider_schema::Request {}).await.expect("GetSchema");
        samples.push(start.elapsed().as_secs_f64() * 1e6);
        size = prost::Message::encoded_len(response.get_ref());
    }
    drop(child);
    (median(samples), size)
}

/// An object of about 1 MB: many resources' worth of strings, numbers and nested maps.
fn big_object() -> (Value, Type) {
    let entry_type = Type::object([
        ("name", Type::String),
        ("size", Type::Number),
        ("ratio", Type::Number),
        ("enabled", Type::Bool),
        ("labels", Type::map(Type::String)),
        ("ports", Type::list(Type::Number)),
    ]);
    let entries: BTreeMap<String, Value> = (0..5600)
        .map(|i| {
            let labels = (0..4).map(|l| (format!("label-{l}"), Value::string(format!("value-{i}-{l}")))).collect();
            let entry = Value::object([
                ("name", Value::string(format!("object-number-{i:06}"))),
                ("size", Value::from(i as i64 * 1024)),
                ("ratio", Value::Number(cty::Number::parse(&format!("{i}.125")).expect("number"))),
                ("enabled", Value::Bool(i % 2 == 0)),
                ("labels", Value::Map(labels)),
                ("ports", Value::List(vec![Value::from(80), Value::from(443), Value::from(8080 + i as i64)])),
            ]);
            (format!("key-{i:06}"), entry)
        })
        .collect();
    (Value::Map(entries), Type::map(entry_type))
}

fn throughput_mb_s(bytes: usize, runs: usize, mut op: impl FnMut()) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            op();
            bytes as f64 / 1e6 / start.elapsed().as_secs_f64()
        })
        .collect();
    median(samples)
}

fn main() {
    // `cargo test` runs benches with --bench absent; only measure when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("start to handshake line:       {:8.2} ms (median of 30)", handshake_ms(30));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (latency, size) = runtime.block_on(get_schema_us(500));
    println!("GetSchema over the socket:     {latency:8.1} us (median of 500; {size} bytes)");

    let (value, ty) = big_object();
    let encoded = cty::msgpack::encode(&value, &ty).expect("encode");
    let bytes = encoded.len();
    let decode = throughput_mb_s(bytes, 21, || {
        std::hint::black_box(cty::msgpack::decode(&encoded, &ty).expect("decode"));
    });
    let encode = throughput_mb_s(bytes, 21, || {
        std::hint::black_box(cty::msgpack::encode(&value, &ty).expect("encode"));
    });
    println!("msgpack decode ({:.2} MB object): {decode:8.1} MB/s (median of 21)", bytes as f64 / 1e6);
    println!("msgpack encode ({:.2} MB object): {encode:8.1} MB/s (median of 21)", bytes as f64 / 1e6);
}
