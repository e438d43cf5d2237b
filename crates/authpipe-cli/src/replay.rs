//! Answering a fixture's `fetch` calls from its recorded responses, offline.

use crate::fixture::{Recorded, RequestPattern};
use authpipe::fetch::{self, FetchError, FetchPolicy, FetchRequest, FetchResponse, Fetcher};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Instant;

/// A [`Fetcher`] that applies the configuration's allow-list, then answers
/// each request with the first unused recorded response whose request
/// pattern fits, and remembers every request made.
#[derive(Debug)]
pub struct Replay {
    policy: FetchPolicy,
    state: Mutex<ReplayState>,
}

#[derive(Debug)]
struct ReplayState {
    recorded: Vec<(Recorded, bool)>,
    made: Vec<FetchRequest>,
    unanswered: Vec<FetchRequest>,
}

/// What a run did with the recordings.
pub struct ReplayReport {
    /// Every request the function made, in order (denied ones included).
    pub made: Vec<FetchRequest>,
    /// Requests no recording fitted.
    pub unanswered: Vec<FetchRequest>,
    /// Recordings no request used.
    pub unused: Vec<RequestPattern>,
}

impl Replay {
    /// Replays `recorded` within `policy`.
    pub fn new(policy: FetchPolicy, recorded: Vec<Recorded>) -> Self {
        Self {
            policy,
            state: Mutex::new(ReplayState {
                recorded: recorded.into_iter().map(|r| (r, false)).collect(),
                made: Vec::new(),
                unanswered: Vec::new(),
            }),
        }
    }

    /// The requests made and recordings left over.
    pub fn report(&self) -> ReplayReport {
        let state = self.state.lock().expect("replay state");
        ReplayReport {
            made: state.made.clone(),
            unanswered: state.unanswered.clone(),
            unused: state
                .recorded
                .iter()
                .filter(|(_, used)| !used)
                .map(|(r, _)| r.request.clone())
                .collect(),
        }
    }
}

impl Fetcher for Replay {
    fn fetch(
        &self,
        request: &FetchRequest,
        _deadline: Instant,
    ) -> Result<FetchResponse, FetchError> {
        let mut state = self.state.lock().expect("replay state");
        state.made.push(request.clone());
        self.policy.permits(&request.url)?;
        let Some((recorded, used)) = state
            .recorded
            .iter_mut()
            .find(|(r, used)| !used && r.request.matches(request))
        else {
            state.unanswered.push(request.clone());
            return Err(FetchError::Failed(format!(
                "fetch failed: {} {}: the fixture has no recorded response for this request",
                request.method, request.url
            )));
        };
        *used = true;
        let response = &recorded.response;
        let body = match &response.body {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            json => json.to_string(),
        };
        let mut headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        if !matches!(response.body, Value::Null | Value::String(_))
            && !headers.iter().any(|(k, _)| k == "content-type")
        {
            headers.push(("content-type".into(), "application/json".into()));
        }
        Ok(FetchResponse {
            status: response.status,
            status_text: fetch::status_text(response.status).to_string(),
            url: request.url.clone(),
            redirected: false,
            headers,
            body,
        })
    }
}
