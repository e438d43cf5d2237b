//! `GET /v1/tenants/{t}/stats`: invocations, errors and latency per
//! function over a recent window, from the execution history (what the
//! console's pipeline view and charts show).

use super::api::Call;
use super::views::{HttpResponse, reply, store_error};
use crate::error::ApiError;
use authpipe_store::{ExecutionQuery, Store, now_ms};
use hyper::{Request, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Records read per store query.
const PAGE: u32 = 1000;
/// Records read at most for one answer (`truncated` beyond).
const SCAN_MAX: usize = 50_000;
/// Accepted `window` (seconds): one minute to a week.
const WINDOW_S: std::ops::RangeInclusive<i64> = 60..=604_800;
/// Accepted `buckets`.
const BUCKETS: std::ops::RangeInclusive<i64> = 1..=120;

/// One function's stages in the window, and per bucket.
#[derive(Default)]
struct Tally {
    durations: Vec<u64>,
    errors: u64,
    buckets: Vec<(Vec<u64>, u64)>,
}

impl Tally {
    fn add(&mut self, bucket: usize, buckets: usize, duration_us: u64, error: bool) {
        if self.buckets.is_empty() {
            self.buckets = vec![(Vec::new(), 0); buckets];
        }
        self.durations.push(duration_us);
        self.errors += u64::from(error);
        let (durations, errors) = &mut self.buckets[bucket];
        durations.push(duration_us);
        *errors += u64::from(error);
    }
}

/// The nearest-rank `p` percentile (0–100) of `values`; sorts them.
fn percentile(values: &mut [u64], p: u64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p as usize * values.len()).div_ceil(100).max(1);
    Some(values[rank - 1])
}

fn number_param(
    value: &str,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name} must be a whole number in {}..={}",
                range.start(),
                range.end()
            ))
            .with("field", name)
        })
}

/// `GET /v1/tenants/{t}/stats?window=&buckets=`.
#[utoipa::path(
    get,
    path = "/v1/tenants/{tenant}/stats",
    tag = "executions",
    summary = "Invocations, errors, p50 and p99 stage latency per function over the last `window` seconds, split into `buckets`",
    params(
        ("tenant" = String, Path, description = "The tenant id"),
        ("window" = Option<i64>, Query, description = "Seconds back from now, 60–604800 (default 3600)"),
        ("buckets" = Option<i64>, Query, description = "Equal time slices of the window, 1–120 (default 12)"),
    ),
    responses((status = 200, description = "`{window_s, since, until, bucket_s, truncated, functions: [{name, invocations, errors, error_rate, p50_us, p99_us, buckets: [{at, invocations, errors, p50_us, p99_us}]}]}`; from the execution history, so within its retention"), (status = 400, description = "A parameter out of range (named in `field`)", body = super::openapi::ErrorBody), super::openapi::Refusals),
    security(("bearer" = []))
)]
pub(super) async fn stats<B>(
    call: &Call<'_>,
    tenant: &str,
    request: &Request<B>,
) -> Result<HttpResponse, ApiError> {
    let (mut window_s, mut buckets) = (3600, 12);
    for (name, value) in super::api::query(request, &["window", "buckets"])? {
        match name.as_str() {
            "window" => window_s = number_param(&value, "window", WINDOW_S)?,
            _ => buckets = number_param(&value, "buckets", BUCKETS)?,
        }
    }
    let until = now_ms();
    let since = until - window_s * 1000;
    let bucket_ms = (window_s * 1000).div_euclid(buckets).max(1);
    let bucket_count = buckets as usize;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut query = ExecutionQuery {
        limit: PAGE,
        ..ExecutionQuery::default()
    };
    let (mut scanned, mut truncated) = (0usize, false);
    'pages: loop {
        let page = call
            .platform
            .store
            .executions(tenant, &query)
            .await
            .map_err(store_error)?;
        for record in &page {
            if record.at < since {
                break 'pages;
            }
            scanned += 1;
            if scanned > SCAN_MAX {
                truncated = true;
                break 'pages;
            }
            let bucket = (((record.at - since) / bucket_ms) as usize).min(bucket_count - 1);
            let Ok(parsed) = serde_json::from_str::<Value>(&record.json) else {
                continue;
            };
            for stage in parsed["stages"].as_array().into_iter().flatten() {
                let Some(function) = stage["function"].as_str() else {
                    continue;
                };
                tallies.entry(function.to_string()).or_default().add(
                    bucket,
                    bucket_count,
                    stage["duration_us"].as_u64().unwrap_or(0),
                    stage["outcome"] == "error",
                );
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => query.before = Some(last.id.clone()),
            _ => break,
        }
    }
    let functions: Vec<Value> = tallies
        .into_iter()
        .map(|(name, mut tally)| {
            let invocations = tally.durations.len() as u64;
            let buckets: Vec<Value> = tally
                .buckets
                .iter_mut()
                .enumerate()
                .map(|(i, (durations, errors))| {
                    json!({
                        "at": super::time::rfc3339(since + i as i64 * bucket_ms),
                        "invocations": durations.len(),
                        "errors": *errors,
                        "p50_us": percentile(durations, 50),
                        "p99_us": percentile(durations, 99),
                    })
                })
                .collect();
            json!({
                "name": name,
                "invocations": invocations,
                "errors": tally.errors,
                "error_rate": tally.errors as f64 / invocations.max(1) as f64,
                "p50_us": percentile(&mut tally.durations, 50),
                "p99_us": percentile(&mut tally.durations, 99),
                "buckets": buckets,
            })
        })
        .collect();
    Ok(reply(
        StatusCode::OK,
        &json!({
            "window_s": window_s,
            "since": super::time::rfc3339(since),
            "until": super::time::rfc3339(until),
            "bucket_s": bucket_ms as f64 / 1000.0,
            "truncated": truncated,
            "functions": functions,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 99), Some(7));
        let mut values: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut values, 50), Some(50));
        assert_eq!(percentile(&mut values, 99), Some(99));
        assert_eq!(percentile(&mut [1, 2, 3, 1000], 99), Some(1000));
    }
}
