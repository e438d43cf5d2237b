//! `authpipe-http-floor`: the raw HTTP floor `just bench-http` compares
//! `authpipe serve` with.
//!
//! A bare hyper HTTP/1.1 server on the same tokio runtime shape as
//! `authpipe serve` (one worker thread per core). For every request it reads
//! the body, parses it with `serde_json`, and answers with a JSON document
//! of the size of a pipeline's result (the `--answer` file, parsed once and
//! serialised again on every request). No sandbox, no routing, no logging,
//! no metrics: what HTTP and JSON alone cost on this machine.
//!
//! Usage: `authpipe-http-floor --answer FILE [--listen ADDR]`; prints
//! `listening on ADDR` once it accepts connections.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;

fn main() -> Result<()> {
    let mut answer_path = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--answer" => answer_path = args.next(),
            "--listen" => listen = args.next().context("--listen needs an address")?,
            "-h" | "--help" => {
                println!("usage: authpipe-http-floor --answer FILE [--listen ADDR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    let answer_path = answer_path.context("--answer FILE is required")?;
    let answer: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&answer_path).with_context(|| format!("cannot read {answer_path}"))?,
    )
    .with_context(|| format!("{answer_path} is not JSON"))?;
    let answer = Arc::new(answer);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(serve(&listen, answer))
}

async fn serve(listen: &str, answer: Arc<serde_json::Value>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let answer = answer.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| respond(request, answer.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(
    request: Request<Incoming>,
    answer: Arc<serde_json::Value>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Ok(status(StatusCode::BAD_REQUEST));
    }
    let out = serde_json::to_vec(&*answer).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(out)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
