//! Work the engine hands to the host to run natively: public-key signature
//! verification and private-key signing (RSA and ECDSA), which take millions
//! of instructions inside the sandbox. The code is the engine's own
//! `guest/src/crypto.rs`, compiled for the host, so both sides verify and
//! sign exactly alike (the engine falls back to its copy under a stock WASI
//! host).

#[path = "../../../guest/src/crypto.rs"]
#[allow(dead_code)] // the engine uses the rest of the file
mod crypto;

pub(crate) use crypto::answer_crypto_request;
