//! `status` against a small fake Envoy admin on a loopback port.
// A test file: helpers panic on a failed expectation, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};

use common::*;
use serde_json::Value;

/// Answers one connection per body in `bodies`, in order; returns the
/// request lines it saw.
fn fake_admin(bodies: Vec<String>, chunked: bool) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        for body in bodies {
            let (mut stream, _) = listener.accept().unwrap();
            seen.push(read_request_line(&mut stream));
            let response = if chunked {
                let (a, b) = body.split_at(body.len() / 2);
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                    a.len(),
                    b.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            stream.write_all(response.as_bytes()).unwrap();
        }
        seen
    });
    (address, handle)
}

fn read_request_line(stream: &mut TcpStream) -> String {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        request.push(byte[0]);
    }
    String::from_utf8(request)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

fn stats(baseline_weight: u64, canary_weight: u64, canary_rule: u64) -> String {
    format!(
        "wasmcustom.canary.pay-service.baseline.rule: 0\n\
         wasmcustom.canary.pay-service.baseline.sticky: 0\n\
         wasmcustom.canary.pay-service.baseline.weight: {baseline_weight}\n\
         wasmcustom.canary.pay-service.canary.rule: {canary_rule}\n\
         wasmcustom.canary.pay-service.canary.sticky: 0\n\
         wasmcustom.canary.pay-service.canary.weight: {canary_weight}\n\
         wasmcustom.canary.no_release: 3\n"
    )
}

#[test]
fn shows_the_share_per_release() {
    let (admin, server) = fake_admin(vec![stats(70, 20, 10)], false);
    let out = ok(&["status", "--admin", &admin]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("release")
            && lines[0].contains("baseline")
            && lines[0].contains("canary"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("pay-service")
            && lines[1].contains("70 (70.0%)")
            && lines[1].contains("30 (30.0%)"),
        "{out}"
    );
    assert_eq!(lines[2], "requests no release covers: 3");
    let requests = server.join().unwrap();
    assert_eq!(
        requests,
        ["GET /stats?filter=%5Ewasmcustom%5C.canary%5C. HTTP/1.1"]
    );
}

#[test]
fn json_totals_from_a_chunked_answer() {
    let (admin, server) = fake_admin(vec![stats(600, 300, 100)], true);
    let report: Value =
        serde_json::from_str(&ok(&["status", "--admin", &admin, "--json"])).unwrap();
    let pay = &report["releases"]["pay-service"];
    assert_eq!(pay["baseline"]["total"], 600);
    assert_eq!(pay["canary"]["rule"], 100);
    assert_eq!(pay["canary_share"], 40.0);
    assert_eq!(report["no_release"], 3);
    server.join().unwrap();
}

#[test]
fn watch_adds_the_last_interval() {
    let (admin, server) = fake_admin(
        vec![stats(100, 0, 0), stats(180, 20, 0), stats(180, 20, 0)],
        false,
    );
    let out = ok(&[
        "status",
        "--admin",
        &admin,
        "--watch",
        "--interval",
        "0.05",
        "--count",
        "3",
        "--json",
    ]);
    let samples: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(samples.len(), 3);
    assert!(samples[0].get("interval").is_none());
    let recent = &samples[1]["interval"]["releases"]["pay-service"];
    assert_eq!(recent["baseline"]["total"], 80);
    assert_eq!(recent["canary"]["total"], 20);
    assert_eq!(recent["canary_share"], 20.0);
    assert_eq!(
        samples[2]["interval"]["releases"]["pay-service"]["total"],
        0
    );
    assert_eq!(
        samples[2]["interval"]["releases"]["pay-service"]["canary_share"],
        Value::Null
    );
    server.join().unwrap();
    // The text form, not on a terminal, prints one table per sample.
    let (admin, server) = fake_admin(vec![stats(1, 1, 0), stats(2, 2, 0)], false);
    let out = ok(&[
        "status",
        "--admin",
        &admin,
        "--watch",
        "--interval",
        "0.05",
        "--count",
        "2",
    ]);
    assert_eq!(
        out.matches("requests no release covers").count(),
        2,
        "{out}"
    );
    assert!(out.contains("last 0.05s:"), "{out}");
    server.join().unwrap();
}

#[test]
fn an_unreachable_admin_is_a_clear_error() {
    // A port that was just free: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin = format!("http://127.0.0.1:{port}");
    let stderr = rejected(&["status", "--admin", &admin]);
    assert!(
        stderr.starts_with(&format!(
            "canaryctl: cannot reach Envoy's admin at 127.0.0.1:{port}: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("is Envoy running"), "{stderr}");
    let stderr = rejected(&["status", "--admin", "https://127.0.0.1:9901"]);
    assert!(stderr.contains("only http:// is supported"), "{stderr}");
}

#[test]
fn an_admin_error_page_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = format!("http://{}", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request_line(&mut stream);
        stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 18\r\n\r\nInvalid re2 regex\n")
            .unwrap();
    });
    let stderr = rejected(&["status", "--admin", &admin]);
    assert!(
        stderr.contains(
            "answered 400 for /stats?filter=%5Ewasmcustom%5C.canary%5C.: Invalid re2 regex"
        ),
        "{stderr}"
    );
    server.join().unwrap();
}
