//! WHATWG URL parsing and setters for the `URL` class, with the `url`
//! crate (whose `quirks` module implements the standard's getters and
//! setters).

use url::{Url, quirks};

/// The components of a URL as the standard's getters return them, in the
/// order of [`COMPONENTS`].
pub type Record = [String; 11];

/// Names of the fields of a [`Record`].
pub const COMPONENTS: [&str; 11] = [
    "href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname",
    "search", "hash",
];

fn record(url: &Url) -> Record {
    [
        quirks::href(url).to_string(),
        quirks::origin(url),
        quirks::protocol(url).to_string(),
        quirks::username(url).to_string(),
        quirks::password(url).to_string(),
        quirks::host(url).to_string(),
        quirks::hostname(url).to_string(),
        quirks::port(url).to_string(),
        quirks::pathname(url).to_string(),
        quirks::search(url).to_string(),
        quirks::hash(url).to_string(),
    ]
}

/// Parses `input` against `base` (when given); `None` when either is not a
/// valid URL.
pub fn parse(input: &str, base: Option<&str>) -> Option<Record> {
    let url = match base {
        Some(base) => Url::parse(base).ok()?.join(input).ok()?,
        None => Url::parse(input).ok()?,
    };
    Some(record(&url))
}

/// Applies the setter of `component` to `href`. Only an invalid new `href`
/// is an error; the other setters ignore values they cannot use, as the
/// standard says.
pub fn set(href: &str, component: &str, value: &str) -> Result<Record, String> {
    let mut url = Url::parse(href).map_err(|_| "Invalid URL".to_string())?;
    match component {
        "href" => quirks::set_href(&mut url, value).map_err(|_| "Invalid URL".to_string())?,
        "protocol" => drop(quirks::set_protocol(&mut url, value)),
        "username" => drop(quirks::set_username(&mut url, value)),
        "password" => drop(quirks::set_password(&mut url, value)),
        "host" => drop(quirks::set_host(&mut url, value)),
        "hostname" => drop(quirks::set_hostname(&mut url, value)),
        "port" => drop(quirks::set_port(&mut url, value)),
        "pathname" => quirks::set_pathname(&mut url, value),
        "search" => quirks::set_search(&mut url, value),
        "hash" => quirks::set_hash(&mut url, value),
        other => return Err(format!("unknown URL component {other:?}")),
    }
    Ok(record(&url))
}
