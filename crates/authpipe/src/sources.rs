//! JavaScript the engine loads only for the functions that need it, kept
//! in the host rather than in the engine's linear memory: the Auth0
//! adapters and npm modules of the prelude (`guest/src/auth0.js`,
//! `modules.js`) and the bundled npm packages (`guest/npm/bundled/`).
//!
//! Every byte of the engine's data segment is part of every sandbox's
//! memory image, so these ~340 KB would slow every call of every function;
//! served over [`crate::sandbox::SOURCES_FD`] instead, they cost only the
//! compiles that ask for them.

/// `(name, source)` of what the guest may ask for: `part/NAME` and
/// `npm/PACKAGE`.
const SOURCES: [(&str, &str); 6] = [
    ("part/auth0", include_str!("../../../guest/src/auth0.js")),
    (
        "part/modules",
        include_str!("../../../guest/src/modules.js"),
    ),
    (
        "npm/lodash",
        include_str!("../../../guest/npm/bundled/lodash.min.js"),
    ),
    (
        "npm/ipaddr.js",
        include_str!("../../../guest/npm/bundled/ipaddr.min.js"),
    ),
    (
        "npm/moment",
        include_str!("../../../guest/npm/bundled/moment.min.js"),
    ),
    (
        "npm/moment-timezone",
        include_str!("../../../guest/npm/bundled/moment-timezone.min.js"),
    ),
];

/// The answer to a source request: the source named, or nothing.
pub(crate) fn answer(name: &[u8]) -> Vec<u8> {
    SOURCES
        .iter()
        .find(|(known, _)| known.as_bytes() == name)
        .map(|(_, source)| source.as_bytes().to_vec())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_names_answer_their_source_and_others_nothing() {
        assert!(super::answer(b"npm/lodash").starts_with(b"/**"));
        assert!(!super::answer(b"part/auth0").is_empty());
        assert!(super::answer(b"npm/left-pad").is_empty());
        assert!(super::answer(b"../../etc/passwd").is_empty());
    }
}
