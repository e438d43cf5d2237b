//! Cryptographic primitives behind `crypto.subtle`, `require('crypto')` and
//! `jsonwebtoken`: digests, HMAC, public-key import, signature verification
//! and private-key signing.
//!
//! Functions take and return plain bytes and strings; a public key travels as
//! the DER of its SubjectPublicKeyInfo, which every import produces and
//! [`verify`] parses again, a private key as the DER [`sign`] parses. A
//! signature that does not verify is `Ok(false)`; `Err` carries a message for
//! a malformed key or an unsupported algorithm. Nothing here has a random
//! source of its own: RSA-PSS salts come from entropy the caller passes in.

use hmac::{Hmac, Mac};
use md5::Md5;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::der::{Decode, Reader, SliceReader, Tag, TagMode, TagNumber, asn1::OctetStringRef};
use rsa::pkcs8::{
    AssociatedOid, DecodePublicKey, EncodePublicKey, ObjectIdentifier, PrivateKeyInfo,
    SubjectPublicKeyInfoRef,
};
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey, traits::PublicKeyParts};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

// ---------------------------------------------------------------- hashing

#[derive(Clone, Copy)]
enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

const SHA_NAMES: &str = "SHA-1, SHA-256, SHA-384 or SHA-512";

/// Web names ("SHA-256") and Node names ("sha256"), case-insensitively.
fn parse_hash(name: &str) -> Option<Hash> {
    let plain: String = name
        .chars()
        .filter(|&c| c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match plain.as_str() {
        "md5" => Hash::Md5,
        "sha1" => Hash::Sha1,
        "sha256" => Hash::Sha256,
        "sha384" => Hash::Sha384,
        "sha512" => Hash::Sha512,
        _ => return None,
    })
}

/// The SHA functions signatures may use.
fn parse_sha(name: &str) -> Result<Hash, String> {
    match parse_hash(name) {
        Some(Hash::Md5) | None => Err(format!(
            "unsupported hash algorithm '{name}': expected {SHA_NAMES}"
        )),
        Some(hash) => Ok(hash),
    }
}

/// Hashes `data` with `algorithm`: "SHA-1", "SHA-256", "SHA-384", "SHA-512"
/// or "MD5", case-insensitively and with or without the dash ("sha256").
pub fn digest(algorithm: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    let hash = parse_hash(algorithm).ok_or_else(|| {
        format!("unsupported digest algorithm '{algorithm}': expected MD5, {SHA_NAMES}")
    })?;
    Ok(hash_bytes(hash, data))
}

fn hash_bytes(hash: Hash, data: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Md5 => Md5::digest(data).to_vec(),
        Hash::Sha1 => Sha1::digest(data).to_vec(),
        Hash::Sha256 => Sha256::digest(data).to_vec(),
        Hash::Sha384 => Sha384::digest(data).to_vec(),
        Hash::Sha512 => Sha512::digest(data).to_vec(),
    }
}

/// HMAC of `data` under `key` (any length) with the hash `algorithm`, named
/// as for [`digest`].
pub fn hmac(algorithm: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    let hash = parse_hash(algorithm)
        .ok_or_else(|| format!("unsupported HMAC hash '{algorithm}': expected MD5, {SHA_NAMES}"))?;
    Ok(match hash {
        Hash::Md5 => mac::<Hmac<Md5>>(key, data),
        Hash::Sha1 => mac::<Hmac<Sha1>>(key, data),
        Hash::Sha256 => mac::<Hmac<Sha256>>(key, data),
        Hash::Sha384 => mac::<Hmac<Sha384>>(key, data),
        Hash::Sha512 => mac::<Hmac<Sha512>>(key, data),
    })
}

// ------------------------------------------------------------ public keys

/// An imported public key: its SubjectPublicKeyInfo DER plus what
/// `CryptoKey.algorithm` reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    /// DER of the SubjectPublicKeyInfo, the form [`verify`] takes.
    pub spki_der: Vec<u8>,
    /// "RSA" or "EC".
    pub kind: &'static str,
    /// Bits of the RSA modulus; 0 for EC.
    pub modulus_bits: u32,
    /// RSA public exponent, big-endian without leading zeros; empty for EC.
    pub public_exponent: Vec<u8>,
    /// "P-256" or "P-384" for EC; `None` for RSA.
    pub named_curve: Option<&'static str>,
}

/// Shorter RSA keys are refused: they can be factored.
const MIN_RSA_BITS: usize = 1024;

fn rsa_key(key: RsaPublicKey) -> Result<PublicKey, String> {
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "invalid RSA public key: {bits}-bit modulus; at least {MIN_RSA_BITS} bits"
        ));
    }
    let spki_der = key
        .to_public_key_der()
        .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
    Ok(PublicKey {
        spki_der: spki_der.into_vec(),
        kind: "RSA",
        modulus_bits: bits as u32,
        public_exponent: key.e().to_bytes_be(),
        named_curve: None,
    })
}

/// An RSA public key from the big-endian modulus and public exponent (a
/// JWK's `n` and `e`, base64url-decoded), with a modulus of 1024 to 4096
/// bits.
pub fn import_rsa(n: &[u8], e: &[u8]) -> Result<PublicKey, String> {
    if n.is_empty() || e.is_empty() {
        return Err("an RSA key needs a modulus (n) and a public exponent (e)".into());
    }
    let key = RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
        .map_err(|err| format!("invalid RSA public key: {err}"))?;
    rsa_key(key)
}

/// An EC public key on `named_curve` ("P-256" or "P-384") from its affine
/// coordinates (a JWK's `x` and `y`), each exactly the curve's size.
pub fn import_ec(named_curve: &str, x: &[u8], y: &[u8]) -> Result<PublicKey, String> {
    let (curve, size) = curve_of(named_curve)?;
    if x.len() != size || y.len() != size {
        return Err(format!(
            "a {curve} key needs x and y of {size} bytes each (got {} and {})",
            x.len(),
            y.len()
        ));
    }
    let point = [&[4u8][..], x, y].concat();
    let spki = if curve == "P-256" {
        p256_ops::spki_of_point(&point)
    } else {
        p384_ops::spki_of_point(&point)
    };
    Ok(ec_key(
        spki.ok_or_else(|| format!("invalid {curve} public key: the point is not on the curve"))?,
        curve,
    ))
}

fn ec_key(spki_der: Vec<u8>, curve: &'static str) -> PublicKey {
    PublicKey {
        spki_der,
        kind: "EC",
        modulus_bits: 0,
        public_exponent: Vec::new(),
        named_curve: Some(curve),
    }
}

fn curve_of(name: &str) -> Result<(&'static str, usize), String> {
    match name {
        "P-256" => Ok(("P-256", 32)),
        "P-384" => Ok(("P-384", 48)),
        _ => Err(format!(
            "unsupported named curve '{name}': expected P-256 or P-384"
        )),
    }
}

/// A public key from SubjectPublicKeyInfo DER, of `kind` "RSA" or "EC". For
/// EC, `named_curve` (when given) must be the key's curve.
pub fn import_spki(der: &[u8], kind: &str, named_curve: Option<&str>) -> Result<PublicKey, String> {
    match kind {
        "RSA" => rsa_key(
            RsaPublicKey::from_public_key_der(der)
                .map_err(|e| format!("not an RSA SubjectPublicKeyInfo: {e}"))?,
        ),
        "EC" => {
            let key = match (p256_ops::normalize_spki(der), p384_ops::normalize_spki(der)) {
                (Some(spki), _) => ec_key(spki, "P-256"),
                (_, Some(spki)) => ec_key(spki, "P-384"),
                _ => return Err("not a P-256 or P-384 SubjectPublicKeyInfo".into()),
            };
            match named_curve {
                Some(wanted) if Some(curve_of(wanted)?.0) != key.named_curve => Err(format!(
                    "the key is on {}, not on {wanted}",
                    key.named_curve.unwrap_or("?")
                )),
                _ => Ok(key),
            }
        }
        _ => Err(format!("unsupported key type '{kind}': expected RSA or EC")),
    }
}

// ----------------------------------------------------------- verification

/// Checks `signature` over `data` with the public key `spki_der`.
///
/// `algorithm` is "RSASSA-PKCS1-v1_5", "RSA-PSS" (with `salt_length`,
/// defaulting to the hash's size) or "ECDSA"; `hash` is a SHA name as for
/// [`digest`]. ECDSA signatures are raw `r || s` as in WebCrypto and JWS;
/// DER signatures are accepted too.
pub fn verify(
    algorithm: &str,
    hash: &str,
    spki_der: &[u8],
    signature: &[u8],
    data: &[u8],
    salt_length: Option<usize>,
) -> Result<bool, String> {
    let hash = parse_sha(hash)?;
    let hashed = hash_bytes(hash, data);
    match algorithm {
        "RSASSA-PKCS1-v1_5" | "RSA-PSS" => {
            let key = RsaPublicKey::from_public_key_der(spki_der)
                .map_err(|e| format!("invalid RSA public key: {e}"))?;
            let verified = if algorithm == "RSA-PSS" {
                let salt = salt_length.unwrap_or(hashed.len());
                // Longer salts cannot fit; the padding check would overflow.
                salt <= key.size() && key.verify(pss(hash, salt), &hashed, signature).is_ok()
            } else {
                key.verify(pkcs1v15(hash), &hashed, signature).is_ok()
            };
            Ok(verified)
        }
        "ECDSA" => p256_ops::verify(spki_der, signature, &hashed)
            .or_else(|| p384_ops::verify(spki_der, signature, &hashed))
            .ok_or_else(|| {
                "invalid EC public key: not a P-256 or P-384 SubjectPublicKeyInfo".into()
            }),
        _ => Err(format!(
            "unsupported signature algorithm '{algorithm}': expected RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA"
        )),
    }
}

fn pkcs1v15(hash: Hash) -> Pkcs1v15Sign {
    match hash {
        Hash::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        _ => Pkcs1v15Sign::new::<Sha512>(),
    }
}

fn pss(hash: Hash, salt: usize) -> Pss {
    match hash {
        Hash::Sha1 => Pss::new_with_salt::<Sha1>(salt),
        Hash::Sha256 => Pss::new_with_salt::<Sha256>(salt),
        Hash::Sha384 => Pss::new_with_salt::<Sha384>(salt),
        _ => Pss::new_with_salt::<Sha512>(salt),
    }
}

/// What differs between P-256 and P-384: the same code over each crate.
macro_rules! curve_ops {
    ($ops:ident, $curve:ident, $size:literal) => {
        mod $ops {
            use $curve::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
            use $curve::ecdsa::{Signature, SigningKey, VerifyingKey};
            use $curve::pkcs8::{DecodePublicKey, EncodePublicKey};

            /// SubjectPublicKeyInfo DER of a SEC 1 point, if it is on the curve.
            pub fn spki_of_point(point: &[u8]) -> Option<Vec<u8>> {
                let key = $curve::PublicKey::from_sec1_bytes(point).ok()?;
                Some(key.to_public_key_der().ok()?.into_vec())
            }

            /// SubjectPublicKeyInfo DER re-encoded (uncompressed point), if it
            /// is a key on this curve.
            pub fn normalize_spki(der: &[u8]) -> Option<Vec<u8>> {
                let key = $curve::PublicKey::from_public_key_der(der).ok()?;
                Some(key.to_public_key_der().ok()?.into_vec())
            }

            /// ECDSA over an already hashed message, with any SHA function;
            /// the signature raw `r || s` or DER. `None` if `spki_der` is not
            /// a key on this curve.
            pub fn verify(spki_der: &[u8], signature: &[u8], hashed: &[u8]) -> Option<bool> {
                let key = VerifyingKey::from_public_key_der(spki_der).ok()?;
                let signature = if signature.len() == 2 * $size {
                    Signature::from_slice(signature)
                } else {
                    Signature::from_der(signature)
                };
                // A hash shorter than the field is the same number left-padded
                // with zeros (SEC 1 4.1.3), which keeps SHA-1 usable on P-384.
                let mut prehash = vec![0u8; $size - hashed.len().min($size)];
                prehash.extend_from_slice(hashed);
                Some(
                    signature
                        .is_ok_and(|signature| key.verify_prehash(&prehash, &signature).is_ok()),
                )
            }

            /// Deterministic ECDSA (RFC 6979) over an already hashed message,
            /// padded as [`verify`] pads it; the signature raw `r || s`.
            #[cfg_attr(target_family = "wasm", allow(dead_code))]
            pub fn sign(secret: &$curve::SecretKey, hashed: &[u8]) -> Result<Vec<u8>, String> {
                let mut prehash = vec![0u8; $size - hashed.len().min($size)];
                prehash.extend_from_slice(hashed);
                let signature: Signature = SigningKey::from(secret)
                    .sign_prehash(&prehash)
                    .map_err(|e| format!("ECDSA signing failed: {e}"))?;
                Ok(signature.to_bytes().to_vec())
            }
        }
    };
}
curve_ops!(p256_ops, p256, 32);
curve_ops!(p384_ops, p384, 48);

// ---------------------------------------------------------------- signing

/// A private key [`sign`] can use.
enum PrivateKey {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl PrivateKey {
    fn describe(&self) -> &'static str {
        match self {
            PrivateKey::Rsa(_) => "an RSA key",
            PrivateKey::P256(_) => "an EC key on P-256",
            PrivateKey::P384(_) => "an EC key on P-384",
        }
    }
}

const PRIVATE_KEY_FORMS: &str = "the DER of a PKCS#8 PrivateKeyInfo (RSA, or EC on P-256 or \
     P-384), a PKCS#1 RSAPrivateKey or a SEC 1 ECPrivateKey";

/// Entropy RSA-PSS wants for its salt (the engine passes 32 bytes).
const MIN_ENTROPY_BYTES: usize = 16;

/// Signs `data` with the private key `private_key_der`.
///
/// `algorithm` is "RSASSA-PKCS1-v1_5", "RSA-PSS" (with `salt_length`,
/// defaulting to the hash's size, as in PS256) or "ECDSA"; `hash` is a SHA
/// name as for [`digest`]. The key is the DER of a PKCS#8 PrivateKeyInfo
/// (RSA, or EC on P-256 or P-384), a PKCS#1 RSAPrivateKey or a SEC 1
/// ECPrivateKey; RSA keys have 1024 to 4096 bits, the sizes [`verify`]
/// accepts. ECDSA signatures are raw `r || s` (64 bytes on P-256, 96 on
/// P-384, as in JWS) and deterministic (RFC 6979); RSASSA-PKCS1-v1_5 is
/// deterministic by construction. Only RSA-PSS uses `entropy`: at least 16
/// bytes from a secure random source (unless the salt is empty), from which
/// its random salt is drawn.
pub fn sign(
    algorithm: &str,
    hash: &str,
    private_key_der: &[u8],
    data: &[u8],
    salt_length: Option<usize>,
    entropy: &[u8],
) -> Result<Vec<u8>, String> {
    if !matches!(algorithm, "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "ECDSA") {
        return Err(format!(
            "unsupported signature algorithm '{algorithm}': expected RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA"
        ));
    }
    let hash = parse_sha(hash)?;
    let key = parse_private_key(private_key_der)?;
    let hashed = hash_bytes(hash, data);
    let rsa_failed = |e: rsa::Error| format!("RSA signing failed: {e}");
    match (algorithm, &key) {
        // The rsa crate wants a random source for PKCS#1 v1.5 only to blind
        // the private-key operation; the signature is the same without, so
        // this needs none.
        ("RSASSA-PKCS1-v1_5", PrivateKey::Rsa(key)) => {
            key.sign(pkcs1v15(hash), &hashed).map_err(rsa_failed)
        }
        ("RSA-PSS", PrivateKey::Rsa(key)) => {
            let salt = salt_length.unwrap_or(hashed.len());
            // EMSA-PSS needs emLen >= hLen + sLen + 2 (RFC 8017 9.1.1).
            let room = (key.n().bits() - 1).div_ceil(8);
            let max_salt = room.saturating_sub(hashed.len() + 2);
            if salt > max_salt {
                return Err(format!(
                    "an RSA-PSS salt of {salt} bytes does not fit a {}-bit key with a {}-byte hash: at most {max_salt}",
                    key.n().bits(),
                    hashed.len()
                ));
            }
            if salt > 0 && entropy.len() < MIN_ENTROPY_BYTES {
                return Err(format!(
                    "RSA-PSS signing needs at least {MIN_ENTROPY_BYTES} bytes of entropy for its salt"
                ));
            }
            // Pss::new_with_salt takes exactly `salt` bytes from the source
            // and does not blind.
            key.sign_with_rng(&mut Drbg::new(entropy), pss(hash, salt), &hashed)
                .map_err(rsa_failed)
        }
        ("ECDSA", PrivateKey::P256(secret)) => p256_ops::sign(secret, &hashed),
        ("ECDSA", PrivateKey::P384(secret)) => p384_ops::sign(secret, &hashed),
        ("ECDSA", key) => Err(format!(
            "ECDSA needs an EC private key on P-256 or P-384, not {}",
            key.describe()
        )),
        (algorithm, key) => Err(format!(
            "{algorithm} needs an RSA private key, not {}",
            key.describe()
        )),
    }
}

/// The private key in `der`: a PKCS#8 PrivateKeyInfo first (what
/// `openssl genpkey` and `BEGIN PRIVATE KEY` hold), then PKCS#1
/// (`BEGIN RSA PRIVATE KEY`), then SEC 1 (`BEGIN EC PRIVATE KEY`). The three
/// structures cannot be mistaken for one another: their second fields are an
/// AlgorithmIdentifier, an INTEGER and an OCTET STRING.
fn parse_private_key(der: &[u8]) -> Result<PrivateKey, String> {
    if der.starts_with(b"-----BEGIN") {
        return Err(format!(
            "the private key is PEM text: expected {PRIVATE_KEY_FORMS} (the PEM body, base64-decoded)"
        ));
    }
    if let Ok(info) = PrivateKeyInfo::try_from(der) {
        return pkcs8_private_key(info);
    }
    if rsa::pkcs1::RsaPrivateKey::try_from(der).is_ok() {
        let key = RsaPrivateKey::from_pkcs1_der(der)
            .map_err(|e| format!("invalid PKCS#1 RSA private key: {e}"))?;
        return rsa_private_key(key);
    }
    if let Ok(curve) = sec1_named_curve(der) {
        let invalid = |_| "invalid SEC 1 EC private key".to_string();
        return match curve {
            Some(oid) if oid == p256::NistP256::OID => p256::SecretKey::from_sec1_der(der)
                .map(PrivateKey::P256)
                .map_err(invalid),
            Some(oid) if oid == p384::NistP384::OID => p384::SecretKey::from_sec1_der(der)
                .map(PrivateKey::P384)
                .map_err(invalid),
            Some(oid) => Err(unsupported_curve(oid)),
            // No parameters: the scalar's length tells (32 or 48 bytes).
            None => p256::SecretKey::from_sec1_der(der)
                .map(PrivateKey::P256)
                .or_else(|_| p384::SecretKey::from_sec1_der(der).map(PrivateKey::P384))
                .map_err(|_| "invalid SEC 1 EC private key: not a P-256 or P-384 key".to_string()),
        };
    }
    if SubjectPublicKeyInfoRef::try_from(der).is_ok()
        || rsa::pkcs1::RsaPublicKey::try_from(der).is_ok()
    {
        return Err(format!(
            "a public key cannot sign: expected a private key, {PRIVATE_KEY_FORMS}"
        ));
    }
    Err(format!("not a private key: expected {PRIVATE_KEY_FORMS}"))
}

fn pkcs8_private_key(info: PrivateKeyInfo<'_>) -> Result<PrivateKey, String> {
    let algorithm = info.algorithm.oid;
    if algorithm == rsa::pkcs1::ALGORITHM_OID {
        let key = RsaPrivateKey::try_from(info)
            .map_err(|e| format!("invalid PKCS#8 RSA private key: {e}"))?;
        return rsa_private_key(key);
    }
    if algorithm == p256::elliptic_curve::ALGORITHM_OID {
        let invalid = |e: rsa::pkcs8::Error| format!("invalid PKCS#8 EC private key: {e}");
        return match info.algorithm.parameters_oid() {
            Ok(oid) if oid == p256::NistP256::OID => p256::SecretKey::try_from(info)
                .map(PrivateKey::P256)
                .map_err(invalid),
            Ok(oid) if oid == p384::NistP384::OID => p384::SecretKey::try_from(info)
                .map(PrivateKey::P384)
                .map_err(invalid),
            Ok(oid) => Err(unsupported_curve(oid)),
            Err(_) => Err("invalid PKCS#8 EC private key: it names no curve".into()),
        };
    }
    let name = match algorithm.to_string().as_str() {
        "1.2.840.113549.1.1.10" => " (RSASSA-PSS)",
        "1.2.840.10040.4.1" => " (DSA)",
        "1.3.101.110" => " (X25519)",
        "1.3.101.111" => " (X448)",
        "1.3.101.112" => " (Ed25519)",
        "1.3.101.113" => " (Ed448)",
        _ => "",
    };
    Err(format!(
        "unsupported private key algorithm {algorithm}{name} in the PKCS#8 key: expected RSA (rsaEncryption) or EC on P-256 or P-384"
    ))
}

fn unsupported_curve(oid: ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.3.132.0.35" => " (P-521)",
        "1.3.132.0.10" => " (secp256k1)",
        _ => "",
    };
    format!("unsupported curve {oid}{name} in the EC private key: expected P-256 or P-384")
}

/// The curve a SEC 1 ECPrivateKey names (`None` when it has no parameters);
/// `Err` when `der` is not one. Only the structure is checked here.
fn sec1_named_curve(der: &[u8]) -> rsa::pkcs8::der::Result<Option<ObjectIdentifier>> {
    SliceReader::new(der)?.sequence(|reader| {
        if u8::decode(reader)? != 1 {
            return Err(Tag::Integer.value_error());
        }
        OctetStringRef::decode(reader)?;
        let curve = reader.context_specific(TagNumber::N0, TagMode::Explicit)?;
        reader.read_slice(reader.remaining_len())?;
        Ok(curve)
    })
}

fn rsa_private_key(key: RsaPrivateKey) -> Result<PrivateKey, String> {
    let bits = key.n().bits();
    if !(MIN_RSA_BITS..=RsaPublicKey::MAX_SIZE).contains(&bits) {
        return Err(format!(
            "unsupported RSA private key: {bits}-bit modulus; expected {MIN_RSA_BITS} to {} bits",
            RsaPublicKey::MAX_SIZE
        ));
    }
    Ok(PrivateKey::Rsa(Box::new(key)))
}

/// The random source RSA-PSS salts come from: SHA-256 in counter mode over
/// the caller's entropy, so this file needs no random source of its own
/// (and the host and the engine behave alike).
struct Drbg {
    seed: [u8; 32],
    counter: u64,
}

impl Drbg {
    fn new(entropy: &[u8]) -> Self {
        Drbg {
            seed: Sha256::digest(entropy).into(),
            counter: 0,
        }
    }
}

impl RngCore for Drbg {
    fn next_u32(&mut self) -> u32 {
        rsa::rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rsa::rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let block = Sha256::new()
                .chain_update(self.seed)
                .chain_update(self.counter.to_le_bytes())
                .finalize();
            self.counter += 1;
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Drbg {}

// ------------------------------------------- verification and signing by the host
//
// Public-key operations are the costly ones here (an RSA-2048 check is
// millions of instructions in the sandbox, signing far more), so the engine
// asks authpipe's host to run [`verify`] and [`sign`] natively: this same
// file is compiled into the host, whose one entry point is
// [`answer_crypto_request`]. A request carries the arguments as
// length-prefixed fields (a little-endian u32 length, then the bytes). A
// verification's first field is its algorithm; a signing request's first
// field is `sign`, which no algorithm is called. Answers: `1` (valid) or `0`
// (invalid) for a verification, `S` and the signature for a signing, or `E`
// and a message.

/// The first field of a [`sign_request`].
const SIGN_OP: &[u8] = b"sign";

fn encode_fields(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 4).sum());
    for field in fields {
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// The first `count` fields of `request`; `None` if it has fewer.
fn decode_fields(request: &[u8], count: usize) -> Option<Vec<&[u8]>> {
    let mut rest = request;
    let mut fields: Vec<&[u8]> = Vec::with_capacity(count);
    while fields.len() < count {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        if tail.len() < len {
            return None;
        }
        fields.push(&tail[..len]);
        rest = &tail[len..];
    }
    Some(fields)
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).into_owned()
}

/// A salt length field: decimal, empty for none.
fn salt_field(salt_length: Option<usize>) -> String {
    salt_length.map(|n| n.to_string()).unwrap_or_default()
}

fn parse_salt_field(field: &[u8]) -> Option<usize> {
    std::str::from_utf8(field).ok().and_then(|s| s.parse().ok())
}

fn error_answer(message: &str) -> Vec<u8> {
    [b"E".as_slice(), message.as_bytes()].concat()
}

/// Runs the verification or the signing `request` asks for ([`verify_request`],
/// [`sign_request`]); returns the answer. The host's one entry point (the
/// engine only asks).
#[cfg_attr(target_family = "wasm", allow(dead_code))]
pub fn answer_crypto_request(request: &[u8]) -> Vec<u8> {
    match decode_fields(request, 1) {
        Some(first) if first[0] == SIGN_OP => answer_sign_request(request),
        _ => answer_verify_request(request),
    }
}

/// The request for `verify(algorithm, hash, spki_der, signature, data, salt_length)`.
pub fn verify_request(
    algorithm: &str,
    hash: &str,
    spki_der: &[u8],
    signature: &[u8],
    data: &[u8],
    salt_length: Option<usize>,
) -> Vec<u8> {
    let salt = salt_field(salt_length);
    encode_fields(&[
        algorithm.as_bytes(),
        hash.as_bytes(),
        salt.as_bytes(),
        spki_der,
        signature,
        data,
    ])
}

/// Runs the verification a [`verify_request`] asks for; returns the answer.
pub fn answer_verify_request(request: &[u8]) -> Vec<u8> {
    let Some(fields) = decode_fields(request, 6) else {
        return error_answer("the verification request is malformed");
    };
    match verify(
        &text(fields[0]),
        &text(fields[1]),
        fields[3],
        fields[4],
        fields[5],
        parse_salt_field(fields[2]),
    ) {
        Ok(true) => b"1".to_vec(),
        Ok(false) => b"0".to_vec(),
        Err(message) => error_answer(&message),
    }
}

/// The result an answer of [`answer_verify_request`] carries.
pub fn verify_answer(answer: &[u8]) -> Result<bool, String> {
    match answer.split_first() {
        Some((b'1', _)) => Ok(true),
        Some((b'0', _)) => Ok(false),
        Some((b'E', message)) => Err(String::from_utf8_lossy(message).into_owned()),
        _ => Err("the host's verification answer is malformed".into()),
    }
}

/// The request for `sign(algorithm, hash, private_key_der, data, salt_length, entropy)`.
pub fn sign_request(
    algorithm: &str,
    hash: &str,
    private_key_der: &[u8],
    data: &[u8],
    salt_length: Option<usize>,
    entropy: &[u8],
) -> Vec<u8> {
    let salt = salt_field(salt_length);
    encode_fields(&[
        SIGN_OP,
        algorithm.as_bytes(),
        hash.as_bytes(),
        salt.as_bytes(),
        private_key_der,
        data,
        entropy,
    ])
}

/// Runs the signing a [`sign_request`] asks for; returns the answer.
#[cfg_attr(target_family = "wasm", allow(dead_code))]
pub fn answer_sign_request(request: &[u8]) -> Vec<u8> {
    let Some(fields) = decode_fields(request, 7).filter(|fields| fields[0] == SIGN_OP) else {
        return error_answer("the signing request is malformed");
    };
    match sign(
        &text(fields[1]),
        &text(fields[2]),
        fields[4],
        fields[5],
        parse_salt_field(fields[3]),
        fields[6],
    ) {
        Ok(signature) => [b"S".as_slice(), &signature].concat(),
        Err(message) => error_answer(&message),
    }
}

/// The signature (or the error) an answer of [`answer_sign_request`] carries.
pub fn sign_answer(answer: &[u8]) -> Result<Vec<u8>, String> {
    match answer.split_first() {
        Some((b'S', signature)) => Ok(signature.to_vec()),
        Some((b'E', message)) => Err(String::from_utf8_lossy(message).into_owned()),
        _ => Err("the host's signing answer is malformed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_requests_round_trip() {
        let request = verify_request("ECDSA", "SHA-256", b"not a key", b"sig", b"data", Some(32));
        let answer = answer_verify_request(&request);
        assert!(
            verify_answer(&answer)
                .unwrap_err()
                .contains("SubjectPublicKeyInfo")
                || answer[0] == b'E'
        );
        assert_eq!(
            answer_verify_request(b"\x09\x00"),
            b"Ethe verification request is malformed"
        );
    }

    fn h(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // ------------------------------------------------------------ digests

    const LONG: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    #[test]
    fn fips_180_4_sha_vectors() {
        let cases: [(&str, &[u8], &str); 12] = [
            ("SHA-1", b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("SHA-1", b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("SHA-1", LONG, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            (
                "SHA-256",
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "SHA-256",
                b"",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                "SHA-256",
                LONG,
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                "SHA-384",
                b"abc",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "SHA-384",
                b"",
                "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            ),
            (
                "SHA-384",
                LONG,
                "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
            ),
            (
                "SHA-512",
                b"abc",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                "SHA-512",
                b"",
                "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            ),
            (
                "SHA-512",
                LONG,
                "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
            ),
        ];
        for (algorithm, data, expected) in cases {
            assert_eq!(
                hex(&digest(algorithm, data).unwrap()),
                expected,
                "{algorithm} of {data:?}"
            );
        }
    }

    #[test]
    fn md5_and_node_names() {
        assert_eq!(
            hex(&digest("MD5", b"abc").unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(digest("sha256", b"abc"), digest("SHA-256", b"abc"));
        assert_eq!(digest("Sha-1", b"abc"), digest("sha1", b"abc"));
        let err = digest("SHA3-256", b"abc").unwrap_err();
        assert!(err.contains("SHA3-256") && err.contains("SHA-256"), "{err}");
    }

    // --------------------------------------------------------------- HMAC

    #[test]
    fn rfc_4231_hmac_sha2() {
        let key4: Vec<u8> = (1..=25).collect();
        let big_key = [0xaa; 131];
        let cases: [(&[u8], &[u8], [&str; 3]); 6] = [
            (&[0x0b; 20], b"Hi There", [
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ]),
            (b"Jefe", b"what do ya want for nothing?", [
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ]),
            (&[0xaa; 20], &[0xdd; 50], [
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
                "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            ]),
            (&key4, &[0xcd; 50], [
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
                "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            ]),
            (&big_key, b"Test Using Larger Than Block-Size Key - Hash Key First", [
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ]),
            (&big_key, b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.", [
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
                "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            ]),
        ];
        for (i, (key, data, expected)) in cases.iter().enumerate() {
            for (algorithm, want) in ["SHA-256", "SHA-384", "SHA-512"].iter().zip(expected) {
                assert_eq!(
                    hex(&hmac(algorithm, key, data).unwrap()),
                    *want,
                    "case {i} {algorithm}"
                );
            }
        }
    }

    #[test]
    fn rfc_2202_hmac_sha1_and_md5() {
        assert_eq!(
            hex(&hmac("SHA-1", &[0x0b; 20], b"Hi There").unwrap()),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex(&hmac("sha1", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex(&hmac("md5", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert!(hmac("SHA-224", b"k", b"d").is_err());
    }

    // --------------------------------------------------------- key import

    const MESSAGE: &[u8] = b"authpipe test message";
    const RSA_N: &str = "f4b6928dbd23d8f6113112b5df3727cafbe611e2e3540b9d48ae72207e4b385723237974e23ac6aebc68c1fcb4bc64fe58c5e5b9aeb12b66e5762a96c108be045140efcd767f2ae1b118fca06dc14819584aab7e95e067afd28b2368d2367e1f11b2b5ca3c447a24b61c79923897b33d355d54b9dcf42b0f1ebe5cac601a48725aac212a597a4872ab932e775176e76d83217a899382c771138f3de97a1c2b491b227eb9543788c5a7dae0a5e97301d667d61ffe8f482fb017ba1972bfd457ce6e93b8251f75bf91be1376baa612c6374d2ef9412f92578d46118f86543bc68460d54f41adbda3a9b5c4bb8d6465cf8f21ea07b7be1edea0368780dc4fd56e07";
    const RSA_E: &str = "010001";
    const RSA_SPKI: &str = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100f4b6928dbd23d8f6113112b5df3727cafbe611e2e3540b9d48ae72207e4b385723237974e23ac6aebc68c1fcb4bc64fe58c5e5b9aeb12b66e5762a96c108be045140efcd767f2ae1b118fca06dc14819584aab7e95e067afd28b2368d2367e1f11b2b5ca3c447a24b61c79923897b33d355d54b9dcf42b0f1ebe5cac601a48725aac212a597a4872ab932e775176e76d83217a899382c771138f3de97a1c2b491b227eb9543788c5a7dae0a5e97301d667d61ffe8f482fb017ba1972bfd457ce6e93b8251f75bf91be1376baa612c6374d2ef9412f92578d46118f86543bc68460d54f41adbda3a9b5c4bb8d6465cf8f21ea07b7be1edea0368780dc4fd56e070203010001";
    const RS256: &str = "33853259152863af505b399295a9f73641107355b6b6a5d2df10ae3e3c29d4feed139e17809ca10ef0b7dbc5577fcf87b2e30c4c7368a819992c71f5d96f781ca9cca773cd1d1dae2d43493fe10cf284ab9a0c184c8acef5b3b92589db6deb1616c06df05066b4a510f1088af17e813e501a10aa5ac8ccf1e150ed1a85b62b62e5b503219775a1c189dc18e73f8175951df6e8906469128671f49acfbbc2f21c70eeeffcca6851d12469dd5ee810d5f3c5fbf97dea012585504b808979ce482e09706a11ea9e64d117f1160116159e30e7acc72c63192c896eb691475eea6c144899ac4c929dd75f8152d9966933f89060b57579107c599e669ec70e6d16b0d5";
    const RS384: &str = "5b59ded4c63ff270e00a09eb8af9e5dfd510464e8cc317f3c7c10a4b6d30ac0b1595f53f16cfec991f4ca498597000abd2a6d106d369cd285c30d4bdf13fdc7a0b252e2e9fb0c75715bde03cac8d059eae8a1c4fc702fa258679ee8e1f5aac652a7199ce26c95316b08b2d901ca3144fd3eb43148752cbaae9d5cf0d4b3964ad22e3f6f3ad88bdd1883c515f34c04924f6f0509f61c63999852f5c439f3bbdf0aede7ef2d04df4a63b316e6962a6f859192e361f7e458c833fd5856e393594dff5de7c3d0ebaee15460cd06244915d83a29cd21eb5859d5dc8ea4c80e929a5c5428b8fb0d81d441be106f3755648350917c66181c96f570224628ebfb1e3e72c";
    const RS512: &str = "dd93800735d96d98d9f945882ea4753d15816414c584c0d4073d9df6aea4ae0795e450c1369c0fdfbb81d566f091ae4c65cba098e2b9c01a29078d76ce7bb21bf1c7dc713bb0baa934cf3ba7d04f13635ccfc43ad634eff055d9e69b0615eee0a3435d028f9eff211400736de43bb70030d0ed514d8142ad70a6921385fe16dee807ca82b351c1bef6204c295d56a578618f553fb27225af3c8bfdac427a9060724932ba0c7da9f94291e04e812a85ba7239ce3faf889f82171e6a9b6027ff7b1564fa98d7e720a2764eda80b085abea576635a233df78420269679fb0371c9d72cd10e516b1cd2a2ce0a5d43aef6e8f05acae2f67de77e9fb23412504cbd0e8";
    const PS256: &str = "8c951ce3bdc5ef15b2c45324a71ea5329b790ec28c88d90bb03e2cc0d26c8269d51b1b93a617ba5bdb35b2fb48e1ea697513d118685a6e6571edb7b79300f070b5535a1d573ec7a49db325d059e2955b8d89d609f11254875c8cdcc7db334936efc1bbed16640457239ecb624a5d822a81a936d8170d82290cd06c591e99db58a62acbb039ecf61843f55e9fedc765547f51cb92b232914578786b4d437b3c7a40297078892bc70d4c1c6e22380fa9450016ad04e6f93b7eb678ee926b2047f603d90500322c400bb97a888c0bc9a4bad739d6e2a38bc4f16da3b46773963814559aa0d9763deaa698c145c8a4ee852b81209012563ee4a72ab8e20006267eb7";
    const PS384_SALT0: &str = "997d224ee80d2d6d391a7cdbbdc7d751b754f9a1795cd26c046d034a90c4357014e6e4b7652f985370469def55d0f2a43722df79c3dd943a6154f41e8f509950ee1e10913b7c5c3cfce6a530c4538becbb960fcea0bf3cab14de9dbd03370b44772192267b81f72bd16cd7a87ba8d51007dc0f99799cda3db0dd93bf7cfbb09dd8a3f3355ef84e70fd588736b06c2ef8c41bc939fc0f0f3946b97bfbbbfdc63f6598d9f79b7bc3679e66bc3ebf0a9f473910b8bb7d09a12669969d773ced474dd9363b849f1978a7990a20391ff683bea2268b7660f44830d9ffe471a404c9a89975d6480fb1ae4f82479a8d78d3d96676c419c8eb59665d3f3709544339b683";
    const P256_X: &str = "68659c35a3b0c8feb58a338d1c739a9b6f9641da8c33e56319d6118fe16b7819";
    const P256_Y: &str = "e37c9486adbc19348afabd998e004295837b620d7a3b851446787de91166a8fd";
    const P256_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d0301070342000468659c35a3b0c8feb58a338d1c739a9b6f9641da8c33e56319d6118fe16b7819e37c9486adbc19348afabd998e004295837b620d7a3b851446787de91166a8fd";
    const ES256: &str = "c784575e28d6e2935ac1e4cb6763e0f8d3802987c1f1a102e10829074691e4bc66c483cd8c186896c7b6f003bd715be7b88ee3f720eab8a56d8e8a5de037ed78";
    const ES256_DER: &str = "304502210084a0e58c95277cc86e0b68b340667eca9b1f246a908fb0a6a7f1504a60eb1b9e02205a7cc6463131e407a13ffcad226a754845ae225418734b181c37cb421be32a19";
    const ES256_SHA512: &str = "bda30507e77c9d192e3581077076b1299a80bebffadc7dd51a5b1f40858c99d3aaea26e36c06dbd93a30d72a7a6935271427a07a7d02a3a3697e706428aa40d5";
    const P256_SPKI_COMPRESSED: &str = "3039301306072a8648ce3d020106082a8648ce3d0301070322000368659c35a3b0c8feb58a338d1c739a9b6f9641da8c33e56319d6118fe16b7819";
    const P384_X: &str = "1fbd7447adb768386c476be13cad4c05b125885751d942bc54499c93b0c75ad3ca3b99712d7e7390888f12b048e9243b";
    const P384_Y: &str = "9d436a00a613bdbc2a56e1466003eb440a1f084ef56e07fdee5aae76843765d0866b446cf36c5a048199a0c321ec50f6";
    const P384_SPKI: &str = "3076301006072a8648ce3d020106052b81040022036200041fbd7447adb768386c476be13cad4c05b125885751d942bc54499c93b0c75ad3ca3b99712d7e7390888f12b048e9243b9d436a00a613bdbc2a56e1466003eb440a1f084ef56e07fdee5aae76843765d0866b446cf36c5a048199a0c321ec50f6";
    const ES384: &str = "abe74c951f1325596149f80aa4fd0f4ff566479a056ff00cef541d0107498b06f73fe27a2e40d6467deae781ad00357535d9d3ccf21cd7e8954f4f8322a9a502e0c0c29fc94a2b677eeda904ad2e6abd566829bf37f1b51e76d95d3e9cd113a4";
    const ES384_DER: &str = "306502305478593748f293fef1c62e22ff8f16dbf913485be44e17bd1f0cf889bec97f949f85c15ab728f3a3f2fc3bb7e4e27560023100c169341e542476cd3b67fa127570ef621a7ced7dd5e44d87e3035f494e92ae2d9089f90e4bf86f5d4b1c279def5f34c4";
    const ES384_SHA1: &str = "11b91282f4aeccccebfe3f8e38f6006a8b80ea2b228828e80c84430885cee45714753ba767d47e694821d19aeb830a6b329564e41a88b5a967febdd0081ce27e1b549edd7b7b1fa83f9610c738542a115cfc341070227f16254a8c44ee16448f";

    fn flip_last(signature: &str) -> Vec<u8> {
        let mut bytes = h(signature);
        *bytes.last_mut().unwrap() ^= 1;
        bytes
    }

    #[test]
    fn rsa_jwk_and_spki_import_agree() {
        let jwk = import_rsa(&h(RSA_N), &h(RSA_E)).unwrap();
        assert_eq!(jwk.spki_der, h(RSA_SPKI));
        assert_eq!(
            (
                jwk.kind,
                jwk.modulus_bits,
                jwk.public_exponent.as_slice(),
                jwk.named_curve
            ),
            ("RSA", 2048, &[1u8, 0, 1][..], None)
        );
        assert_eq!(import_spki(&h(RSA_SPKI), "RSA", None).unwrap(), jwk);
        // A leading zero byte in n (seen in some JWKs) changes nothing.
        assert_eq!(
            import_rsa(&[&[0u8][..], &h(RSA_N)].concat(), &h(RSA_E)).unwrap(),
            jwk
        );
    }

    #[test]
    fn rsa_import_rejects_bad_keys() {
        assert!(import_rsa(&[], &h(RSA_E)).is_err());
        assert!(
            import_rsa(&h(RSA_N), &[1])
                .unwrap_err()
                .contains("invalid RSA public key")
        );
        assert!(
            import_rsa(&[0xff; 1024], &h(RSA_E)).is_err(),
            "8192-bit modulus"
        );
        assert_eq!(
            import_rsa(&[0xff; 64], &h(RSA_E)).unwrap_err(),
            "invalid RSA public key: 512-bit modulus; at least 1024 bits"
        );
        assert!(
            import_spki(&h(P256_SPKI), "RSA", None)
                .unwrap_err()
                .contains("not an RSA")
        );
        assert!(import_spki(&h(RSA_SPKI)[..100], "RSA", None).is_err());
        assert!(import_spki(&h(RSA_SPKI), "DSA", None).is_err());
    }

    #[test]
    fn ec_jwk_and_spki_import_agree() {
        for (curve, x, y, spki) in [
            ("P-256", P256_X, P256_Y, P256_SPKI),
            ("P-384", P384_X, P384_Y, P384_SPKI),
        ] {
            let jwk = import_ec(curve, &h(x), &h(y)).unwrap();
            assert_eq!(
                jwk,
                PublicKey {
                    spki_der: h(spki),
                    kind: "EC",
                    modulus_bits: 0,
                    public_exponent: vec![],
                    named_curve: Some(curve)
                }
            );
            assert_eq!(import_spki(&h(spki), "EC", Some(curve)).unwrap(), jwk);
            assert_eq!(import_spki(&h(spki), "EC", None).unwrap(), jwk);
        }
        // A compressed point is stored uncompressed.
        assert_eq!(
            import_spki(&h(P256_SPKI_COMPRESSED), "EC", Some("P-256"))
                .unwrap()
                .spki_der,
            h(P256_SPKI)
        );
    }

    #[test]
    fn ec_import_rejects_bad_keys() {
        let mut y = h(P256_Y);
        y[31] ^= 1;
        assert!(
            import_ec("P-256", &h(P256_X), &y)
                .unwrap_err()
                .contains("not on the curve")
        );
        assert!(
            import_ec("P-256", &h(P384_X), &h(P384_Y))
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(
            import_ec("P-521", &h(P256_X), &h(P256_Y))
                .unwrap_err()
                .contains("unsupported named curve")
        );
        assert_eq!(
            import_spki(&h(P256_SPKI), "EC", Some("P-384")).unwrap_err(),
            "the key is on P-256, not on P-384"
        );
        assert!(import_spki(&h(RSA_SPKI), "EC", None).is_err());
    }

    // ------------------------------------------------------- verification

    #[test]
    fn rsassa_pkcs1_v1_5() {
        let spki = import_rsa(&h(RSA_N), &h(RSA_E)).unwrap().spki_der;
        for (hash, signature) in [("SHA-256", RS256), ("SHA-384", RS384), ("SHA-512", RS512)] {
            assert_eq!(
                verify(
                    "RSASSA-PKCS1-v1_5",
                    hash,
                    &spki,
                    &h(signature),
                    MESSAGE,
                    None
                ),
                Ok(true),
                "{hash}"
            );
            assert_eq!(
                verify(
                    "RSASSA-PKCS1-v1_5",
                    hash,
                    &spki,
                    &flip_last(signature),
                    MESSAGE,
                    None
                ),
                Ok(false)
            );
            assert_eq!(
                verify(
                    "RSASSA-PKCS1-v1_5",
                    hash,
                    &spki,
                    &h(signature),
                    b"authpipe test messagE",
                    None
                ),
                Ok(false)
            );
        }
        assert_eq!(
            verify(
                "RSASSA-PKCS1-v1_5",
                "SHA-384",
                &spki,
                &h(RS256),
                MESSAGE,
                None
            ),
            Ok(false)
        );
        assert_eq!(
            verify(
                "RSASSA-PKCS1-v1_5",
                "SHA-256",
                &spki,
                &h(RS256)[1..],
                MESSAGE,
                None
            ),
            Ok(false)
        );
        assert_eq!(
            verify("RSASSA-PKCS1-v1_5", "SHA-256", &spki, &[], MESSAGE, None),
            Ok(false)
        );
    }

    #[test]
    fn rsa_pss() {
        let spki = h(RSA_SPKI);
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &h(PS256), MESSAGE, Some(32)),
            Ok(true)
        );
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &h(PS256), MESSAGE, None),
            Ok(true)
        );
        assert_eq!(
            verify(
                "RSA-PSS",
                "SHA-256",
                &spki,
                &flip_last(PS256),
                MESSAGE,
                Some(32)
            ),
            Ok(false)
        );
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &h(PS256), MESSAGE, Some(20)),
            Ok(false)
        );
        assert_eq!(
            verify(
                "RSA-PSS",
                "SHA-256",
                &spki,
                &h(PS256),
                MESSAGE,
                Some(usize::MAX)
            ),
            Ok(false)
        );
        assert_eq!(
            verify(
                "RSA-PSS",
                "SHA-384",
                &spki,
                &h(PS384_SALT0),
                MESSAGE,
                Some(0)
            ),
            Ok(true)
        );
        assert_eq!(
            verify(
                "RSASSA-PKCS1-v1_5",
                "SHA-256",
                &spki,
                &h(PS256),
                MESSAGE,
                None
            ),
            Ok(false)
        );
    }

    #[test]
    fn ecdsa_raw_and_der() {
        let p256 = import_ec("P-256", &h(P256_X), &h(P256_Y)).unwrap().spki_der;
        let p384 = import_spki(&h(P384_SPKI), "EC", Some("P-384"))
            .unwrap()
            .spki_der;
        for (spki, hash, signature) in [
            (&p256, "SHA-256", ES256),
            (&p256, "SHA-256", ES256_DER),
            (&p256, "SHA-512", ES256_SHA512),
            (&p384, "SHA-384", ES384),
            (&p384, "SHA-384", ES384_DER),
            (&p384, "SHA-1", ES384_SHA1),
        ] {
            assert_eq!(
                verify("ECDSA", hash, spki, &h(signature), MESSAGE, None),
                Ok(true),
                "{hash} {signature}"
            );
            assert_eq!(
                verify("ECDSA", hash, spki, &flip_last(signature), MESSAGE, None),
                Ok(false)
            );
            assert_eq!(
                verify("ECDSA", hash, spki, &h(signature), b"other", None),
                Ok(false)
            );
        }
        assert_eq!(
            verify("ECDSA", "SHA-384", &p256, &h(ES256), MESSAGE, None),
            Ok(false)
        );
        assert_eq!(
            verify("ECDSA", "SHA-256", &p384, &h(ES256), MESSAGE, None),
            Ok(false)
        );
        assert_eq!(
            verify("ECDSA", "SHA-256", &p256, &[0; 64], MESSAGE, None),
            Ok(false)
        );
        assert_eq!(
            verify("ECDSA", "SHA-256", &p256, &[], MESSAGE, None),
            Ok(false)
        );
    }

    #[test]
    fn verify_reports_unusable_input() {
        let spki = h(RSA_SPKI);
        assert!(
            verify("RSA-OAEP", "SHA-256", &spki, &h(RS256), MESSAGE, None)
                .unwrap_err()
                .contains("RSA-OAEP")
        );
        assert!(
            verify("RSASSA-PKCS1-v1_5", "MD5", &spki, &h(RS256), MESSAGE, None)
                .unwrap_err()
                .contains("MD5")
        );
        assert!(
            verify(
                "RSASSA-PKCS1-v1_5",
                "SHA-256",
                &h(P256_SPKI),
                &h(RS256),
                MESSAGE,
                None
            )
            .is_err()
        );
        assert!(verify("ECDSA", "SHA-256", &spki, &h(ES256), MESSAGE, None).is_err());
        assert!(verify("ECDSA", "SHA-256", b"junk", &h(ES256), MESSAGE, None).is_err());
    }

    // ------------------------------------------------------------ signing
    // A 2048-bit key: `openssl genpkey -algorithm RSA`, as PKCS#8 DER.
    const RSA_PKCS8: &str = "308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100e772ffdd82138aff732b6f55b5eff038a1ff536bd5aef569831680c7884562e3da075211fad6d1a95426ebce864f817c9a47cd85fae1c9f5326079bae0e7582ff1ba7999b1b0191783225d8cec724eb09538c98c1a581bbcff5386092321d7b23b502c80b03942af19e9fb6c786334f2ebb833da8a93e662e1dffd91ccd912cab9980af93c1e9a3f61fe2100a39b1dde1644393fa7df0e56436f22611d9ad3eef8b44d5e0f0fba629a46fb616d0ec521c8d860c1f404e8f8cf4d555ad18aaa3740a7cb6cdea9158d6461b5f8aabb6255aa874ee156e1223c28d7aad237fb4a66904701582331e6f0ed6f7ef109ba58818c8fbca8ae46288a04873372c5505ba70203010001028201000b1dc1de40b3719747fa766976733a1018efc0c64ac8116f6a3ab82007e7d53d13a96059640e7c996bba46d46f8252ba1faad7db2f2be3084ccd7215f606b12749ae9177e949dceffd28b70ce00509747fbb9a2a897ab687ada25f00acada11a255bcf6cb58a0fd830757026f5e29b40c398e0475c7a8809331cbaa5630d00a84be2d507153a0e71415ba544d882e45adb216ce7d13a1c6c3e0581247bc85587424f8af279bb6d668b01271b621e4a7752428140d30924e8dc2c9fbaa8bf3e296e35b54d1047e6234a7ccfcf70ac2de74ec14986eae1161a25c39b8f58529f60f1ed6a64b98af7dd9fa702c80a003899a1bed0419c4301125bcf4f4a6320b74902818100ff78649195ba4381ca8e16e70ed92074012115a022d658a6a0e77fba2ee12d15e5c463a9d04297baca02c1b08b80f779f461ebe825e543e9a7298796b1b13d576f1fd4318e68436b81b141acfdd5355bafa857a324efb579894753dcae8ec9d4335f8b6e21b4c795aab3e731f842f6fe0b374abb19e3d09c4a65fb4ae0f9508b02818100e7eddb1d1a92feb7517987fc6db6ab35cd53b7a6b85bf059bdc4d6228f72c2c6fa418c1e683bbbc67f0ae0ea8d8a119ff694ce18ebc1e71950f48f109025a394effdd362392893d85dd08e313b1f46daa434bf00069ef528ad238552355bb7e25de7adb1f28c8abed21eceaacec1271391243b219da8f70fe5351c26119408d50281805b154b95f472327b66027efbe679576ec4b04d0b89202eff49c2fff11ba1c0f75bb2476e5608481c9ac59cd51b07e23423037e9e885453804ccf2bbe78a01ea4bbc3f75dabce54ab51d426fc4c8be5b848ca96645e58f0b4e25301fd5e671e627fe682c9c34eb7120f8890d76a124609916a2744ca18455a53d44462101013bd02818100c46096addee965f94c684de743f26ea76092a926e6651a6eb20aef9155cac2f77dc07066f2b4d93aaa2948e5f1305dda070c5a31a9b585fade9c2462cedabfd6851a739870735633d6c3971242502a4b48cc4c893611f3dd1c34be572c4cdbb734f1cd15a61cb00200a20b357f58f6c04f9dd0df96c211678918de1bb1b8997d028180275bd2e77eaae10dae22791b19b0ad18883f64e1ccd27a6873e571356f964885ea3c97ee45d10cfe5167ec00a32255a2e45241c26d69cf9c356d7fb3aeb1fb463b959ad31500e488b4af4354aa4191ed5cf4d30b35e359b8adf1c13e94182cd8cb2de584efb9045ef0fd738f4ac9c79468e7933b1619c43e07c62d63bb779168";
    // Its public key (`openssl pkey -pubout`).
    const RSA_PKCS8_SPKI: &str = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100e772ffdd82138aff732b6f55b5eff038a1ff536bd5aef569831680c7884562e3da075211fad6d1a95426ebce864f817c9a47cd85fae1c9f5326079bae0e7582ff1ba7999b1b0191783225d8cec724eb09538c98c1a581bbcff5386092321d7b23b502c80b03942af19e9fb6c786334f2ebb833da8a93e662e1dffd91ccd912cab9980af93c1e9a3f61fe2100a39b1dde1644393fa7df0e56436f22611d9ad3eef8b44d5e0f0fba629a46fb616d0ec521c8d860c1f404e8f8cf4d555ad18aaa3740a7cb6cdea9158d6461b5f8aabb6255aa874ee156e1223c28d7aad237fb4a66904701582331e6f0ed6f7ef109ba58818c8fbca8ae46288a04873372c5505ba70203010001";
    // `openssl dgst -sha256 -sign` of MESSAGE with it.
    const RSA_PKCS8_RS256: &str = "e6384c95e3c073dcd93a0ec1fd1cb27480d6a8b6de5eaa4b9adef7c8c7faf7af9e49cb3ce9ef8bfca811a03c695613de56e8b70f4c8cf6b5b5e628518453b99d34f053f7c4189a06f18d87e9953a7bb003cc421d9394c90d0c859c86d1d27485a009d5e52bbb1529268f58fd1bec358e4e83854492c5f1706d4187e180156c6117eed0232ff9714a4f20846c21e496f323384998c403531ca04b00eed6b719b1a7efc2a97c5f820d858487f05a64aa1f9b0d2296ef34fd263ca33cc487207232d11925af66119f74d041f5ead59395fc6e276500ab9d62d442470b95921751d72b5689eb7e6fc20f4a8715d56458389946835acfad256b9a0d343397608869cd";
    // `openssl genpkey -algorithm EC` on P-256, as PKCS#8 DER.
    const P256_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420ef0721a8cdb81c92bb42694d1268afc63c55f5ee2a1eadcea1ca8122dc63d76da14403420004a9d3841441c40e49ca70998d7282463c427eafeacb1949a8da5d28d0449a4a1330be4746f9494bca8694e5c067679efa3177a13a5e304ad714316b89b4f64a9b";
    // The same key as SEC 1 (`openssl ec`), with its curve.
    const P256_SEC1: &str = "30770201010420ef0721a8cdb81c92bb42694d1268afc63c55f5ee2a1eadcea1ca8122dc63d76da00a06082a8648ce3d030107a14403420004a9d3841441c40e49ca70998d7282463c427eafeacb1949a8da5d28d0449a4a1330be4746f9494bca8694e5c067679efa3177a13a5e304ad714316b89b4f64a9b";
    const P256_PKCS8_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d03010703420004a9d3841441c40e49ca70998d7282463c427eafeacb1949a8da5d28d0449a4a1330be4746f9494bca8694e5c067679efa3177a13a5e304ad714316b89b4f64a9b";
    // The same for P-384.
    const P384_PKCS8: &str = "3081b6020100301006072a8648ce3d020106052b8104002204819e30819b0201010430bed627c08843784501e5c53727b9f7118365e98d9fe56396db00056933b046cb27aeab49615b85574a6a5d9f2e29a4cea16403620004bc40e2a67e1ee69319090d746332c7c1cc59cf1362fce84ecd11644e909003ae05e75d83b8708f347db35ca4591fe5d06a156f84073cb0ae407ffbf8884768dbf37fd36ef56e0d1066f2a5e030c96367884e3d1a936c4814f63503cfdd94f1f6";
    const P384_SEC1: &str = "3081a40201010430bed627c08843784501e5c53727b9f7118365e98d9fe56396db00056933b046cb27aeab49615b85574a6a5d9f2e29a4cea00706052b81040022a16403620004bc40e2a67e1ee69319090d746332c7c1cc59cf1362fce84ecd11644e909003ae05e75d83b8708f347db35ca4591fe5d06a156f84073cb0ae407ffbf8884768dbf37fd36ef56e0d1066f2a5e030c96367884e3d1a936c4814f63503cfdd94f1f6";
    const P384_PKCS8_SPKI: &str = "3076301006072a8648ce3d020106052b8104002203620004bc40e2a67e1ee69319090d746332c7c1cc59cf1362fce84ecd11644e909003ae05e75d83b8708f347db35ca4591fe5d06a156f84073cb0ae407ffbf8884768dbf37fd36ef56e0d1066f2a5e030c96367884e3d1a936c4814f63503cfdd94f1f6";
    // Keys sign cannot use: Ed25519, secp256k1 (PKCS#8 and SEC 1), RSA-512.
    const ED25519_PKCS8: &str = "302e020100300506032b65700422042028a1a13e3cfdc25d1e3153c3a2448fbcb21417fc34bc6a963a2376176cff92fc";
    const SECP256K1_PKCS8: &str = "308184020100301006072a8648ce3d020106052b8104000a046d306b02010104206cf6d0fce1cf2e19a38b0abd2a84ce1a35d7f6e07daca1e67de250d2d5c00dbda14403420004a36855497e082aded9061e77616f2104068b53a892c57f9ad042d7cfda90c69d1b018b643b6f8052428dd3b896688f55df93bd0d88b800e235f4396aa9de7449";
    const SECP256K1_SEC1: &str = "307402010104206cf6d0fce1cf2e19a38b0abd2a84ce1a35d7f6e07daca1e67de250d2d5c00dbda00706052b8104000aa14403420004a36855497e082aded9061e77616f2104068b53a892c57f9ad042d7cfda90c69d1b018b643b6f8052428dd3b896688f55df93bd0d88b800e235f4396aa9de7449";
    const RSA512_PKCS8: &str = "30820154020100300d06092a864886f70d01010105000482013e3082013a020100024100b80da7705efc34ae471c84d14d8fc07238ad8f70d51e4b118caaf893a03445f21352dee4fdf4a43160a6a78d778d7b1c05894d3895775370d0589c0ba376bfad020301000102403bf416aac0061f92f58f10a4ad433a48fab56e982e93e3981fde4182b518d1ff6f68fa245f31e92aa061f32181008e33068626c82bdce9c4695537adb752ed81022100da2ab92cd3a1065e480c2a201ff187cfc4e7d25bc7b06d294ad3fa2325a1a4b9022100d7f87f5a8486750bd290910d5bce3ab9cceb92c52c1d75e07382cc2e0e40e095022014391f9f2b22e30f3c487c632bf2dcaf02c6a67641857628fcb9b7972876da69022051e5b5c58983c356dc5e5de306f1496bb3bd91469bd8001f412e546712989f9102210098330689b30bc78b21c07b645ae21927dba2e5d68692311a1f2f1a0168237309";

    const ENTROPY: &[u8] = &[7; 32];

    /// The key a PKCS#8 PrivateKeyInfo wraps: PKCS#1 for RSA, SEC 1 without
    /// its curve for EC.
    fn wrapped_key(pkcs8: &[u8]) -> Vec<u8> {
        PrivateKeyInfo::try_from(pkcs8)
            .unwrap()
            .private_key
            .to_vec()
    }

    #[test]
    fn rs256_known_answer_from_pkcs8_and_pkcs1() {
        let pkcs8 = h(RSA_PKCS8);
        let pkcs1 = wrapped_key(&pkcs8);
        assert_eq!(pkcs1[0], 0x30);
        for key in [&pkcs8, &pkcs1] {
            // No entropy needed: PKCS#1 v1.5 is deterministic.
            let signature = sign("RSASSA-PKCS1-v1_5", "SHA-256", key, MESSAGE, None, &[]).unwrap();
            assert_eq!(hex(&signature), RSA_PKCS8_RS256);
        }
        let spki = h(RSA_PKCS8_SPKI);
        for hash in ["SHA-1", "SHA-256", "SHA-384", "sha512"] {
            let signature = sign("RSASSA-PKCS1-v1_5", hash, &pkcs1, MESSAGE, None, &[]).unwrap();
            assert_eq!(signature.len(), 256);
            assert_eq!(
                verify("RSASSA-PKCS1-v1_5", hash, &spki, &signature, MESSAGE, None),
                Ok(true),
                "{hash}"
            );
            assert_eq!(
                verify("RSASSA-PKCS1-v1_5", hash, &spki, &signature, b"other", None),
                Ok(false)
            );
        }
    }

    #[test]
    fn rsa_pss_sign_round_trips() {
        let pkcs8 = h(RSA_PKCS8);
        let spki = h(RSA_PKCS8_SPKI);
        for (hash, salt) in [("SHA-256", 32), ("SHA-384", 48), ("SHA-512", 64)] {
            let signature = sign("RSA-PSS", hash, &pkcs8, MESSAGE, None, ENTROPY).unwrap();
            assert_eq!(
                verify("RSA-PSS", hash, &spki, &signature, MESSAGE, Some(salt)),
                Ok(true),
                "{hash}"
            );
            assert_eq!(
                verify("RSA-PSS", hash, &spki, &signature, MESSAGE, Some(salt - 1)),
                Ok(false)
            );
        }
        // PS256 through the PKCS#1 form; the salt is random, so the
        // signature changes with the entropy.
        let pkcs1 = wrapped_key(&pkcs8);
        let first = sign("RSA-PSS", "SHA-256", &pkcs1, MESSAGE, Some(32), ENTROPY).unwrap();
        let second = sign("RSA-PSS", "SHA-256", &pkcs1, MESSAGE, Some(32), &[8; 32]).unwrap();
        assert_ne!(first, second);
        for signature in [&first, &second] {
            assert_eq!(
                verify("RSA-PSS", "SHA-256", &spki, signature, MESSAGE, Some(32)),
                Ok(true)
            );
        }
        // An empty salt needs no entropy; the largest salt that fits works.
        let unsalted = sign("RSA-PSS", "SHA-256", &pkcs8, MESSAGE, Some(0), &[]).unwrap();
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &unsalted, MESSAGE, Some(0)),
            Ok(true)
        );
        let longest = sign("RSA-PSS", "SHA-256", &pkcs8, MESSAGE, Some(222), ENTROPY).unwrap();
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &longest, MESSAGE, Some(222)),
            Ok(true)
        );
        assert_eq!(
            sign("RSA-PSS", "SHA-256", &pkcs8, MESSAGE, Some(223), ENTROPY).unwrap_err(),
            "an RSA-PSS salt of 223 bytes does not fit a 2048-bit key with a 32-byte hash: at most 222"
        );
        assert_eq!(
            sign("RSA-PSS", "SHA-256", &pkcs8, MESSAGE, None, &[1; 8]).unwrap_err(),
            "RSA-PSS signing needs at least 16 bytes of entropy for its salt"
        );
    }

    #[test]
    fn ecdsa_sign_round_trips() {
        for (pkcs8, sec1, spki, hash, size) in [
            (P256_PKCS8, P256_SEC1, P256_PKCS8_SPKI, "SHA-256", 64),
            (P384_PKCS8, P384_SEC1, P384_PKCS8_SPKI, "SHA-384", 96),
        ] {
            let (pkcs8, sec1, spki) = (h(pkcs8), h(sec1), h(spki));
            // SEC 1 with its curve (`openssl ec`) and without (inside PKCS#8).
            let bare_sec1 = wrapped_key(&pkcs8);
            let signature = sign("ECDSA", hash, &pkcs8, MESSAGE, None, &[]).unwrap();
            assert_eq!(signature.len(), size, "raw r || s");
            for key in [&sec1, &bare_sec1] {
                // RFC 6979: the same key and message give the same signature.
                assert_eq!(
                    sign("ECDSA", hash, key, MESSAGE, None, ENTROPY).as_ref(),
                    Ok(&signature)
                );
            }
            assert_eq!(
                verify("ECDSA", hash, &spki, &signature, MESSAGE, None),
                Ok(true),
                "{hash}"
            );
            assert_eq!(
                verify("ECDSA", hash, &spki, &signature, b"other", None),
                Ok(false)
            );
            // Any SHA hash works on either curve, as in verification.
            for other in ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] {
                let signature = sign("ECDSA", other, &sec1, MESSAGE, None, &[]).unwrap();
                assert_eq!(
                    verify("ECDSA", other, &spki, &signature, MESSAGE, None),
                    Ok(true),
                    "{other} on a {size}-byte signature"
                );
            }
        }
    }

    #[test]
    fn ecdsa_rfc_6979_known_answers() {
        // RFC 6979 A.2.5 (P-256) and A.2.6 (P-384), message "sample", as
        // bare SEC 1 keys (no curve: the scalar's length tells).
        let p256 =
            h("30250201010420c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
        assert_eq!(
            hex(&sign("ECDSA", "SHA-256", &p256, b"sample", None, &[]).unwrap()),
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716\
             f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
        );
        let p384 = h(
            "303502010104306b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5",
        );
        assert_eq!(
            hex(&sign("ECDSA", "SHA-384", &p384, b"sample", None, &[]).unwrap()),
            "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46\
             99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8"
        );
    }

    #[test]
    fn sign_reports_unusable_keys() {
        let rsa = h(RSA_PKCS8);
        let expected = "the DER of a PKCS#8 PrivateKeyInfo (RSA, or EC on P-256 or P-384), \
                        a PKCS#1 RSAPrivateKey or a SEC 1 ECPrivateKey";
        let rs256 = |key: &[u8]| sign("RSASSA-PKCS1-v1_5", "SHA-256", key, MESSAGE, None, &[]);
        let es256 = |key: &[u8]| sign("ECDSA", "SHA-256", key, MESSAGE, None, &[]);
        // Public keys: SubjectPublicKeyInfo and PKCS#1 RSAPublicKey.
        let public = format!("a public key cannot sign: expected a private key, {expected}");
        for key in [RSA_PKCS8_SPKI, RSA_SPKI, P256_PKCS8_SPKI] {
            assert_eq!(rs256(&h(key)).unwrap_err(), public);
            assert_eq!(es256(&h(key)).unwrap_err(), public);
        }
        let rsa_public_key = SubjectPublicKeyInfoRef::try_from(h(RSA_SPKI).as_slice())
            .unwrap()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        assert_eq!(rs256(&rsa_public_key).unwrap_err(), public);
        // Garbage, a truncated key, PEM text.
        let garbage = format!("not a private key: expected {expected}");
        assert_eq!(rs256(b"").unwrap_err(), garbage);
        assert_eq!(rs256(b"junk").unwrap_err(), garbage);
        assert_eq!(rs256(&rsa[..600]).unwrap_err(), garbage);
        assert_eq!(es256(&h(P256_SEC1)[..50]).unwrap_err(), garbage);
        assert!(
            rs256(b"-----BEGIN PRIVATE KEY-----\nMIIE...")
                .unwrap_err()
                .starts_with("the private key is PEM text: expected the DER of a PKCS#8")
        );
        // A key for the other family.
        assert_eq!(
            es256(&rsa).unwrap_err(),
            "ECDSA needs an EC private key on P-256 or P-384, not an RSA key"
        );
        assert_eq!(
            rs256(&h(P256_PKCS8)).unwrap_err(),
            "RSASSA-PKCS1-v1_5 needs an RSA private key, not an EC key on P-256"
        );
        assert_eq!(
            sign("RSA-PSS", "SHA-384", &h(P384_SEC1), MESSAGE, None, ENTROPY).unwrap_err(),
            "RSA-PSS needs an RSA private key, not an EC key on P-384"
        );
        // Keys of other algorithms, curves and sizes.
        assert_eq!(
            es256(&h(ED25519_PKCS8)).unwrap_err(),
            "unsupported private key algorithm 1.3.101.112 (Ed25519) in the PKCS#8 key: \
             expected RSA (rsaEncryption) or EC on P-256 or P-384"
        );
        for key in [SECP256K1_PKCS8, SECP256K1_SEC1] {
            assert_eq!(
                es256(&h(key)).unwrap_err(),
                "unsupported curve 1.3.132.0.10 (secp256k1) in the EC private key: expected P-256 or P-384"
            );
        }
        assert_eq!(
            rs256(&h(RSA512_PKCS8)).unwrap_err(),
            "unsupported RSA private key: 512-bit modulus; expected 1024 to 4096 bits"
        );
        // A damaged key that still parses.
        let mut broken = rsa.clone();
        broken[40] ^= 1; // a bit of the modulus
        assert!(
            rs256(&broken)
                .unwrap_err()
                .starts_with("invalid PKCS#8 RSA private key")
        );
        // Algorithms and hashes.
        assert!(
            sign("RSA-OAEP", "SHA-256", &rsa, MESSAGE, None, &[])
                .unwrap_err()
                .contains("RSA-OAEP")
        );
        assert!(
            sign("RSASSA-PKCS1-v1_5", "MD5", &rsa, MESSAGE, None, &[])
                .unwrap_err()
                .contains("MD5")
        );
    }

    #[test]
    fn signing_requests_round_trip_beside_verification() {
        let key = h(RSA_PKCS8);
        let request = sign_request("RSASSA-PKCS1-v1_5", "SHA-256", &key, MESSAGE, None, ENTROPY);
        let answer = answer_crypto_request(&request);
        assert_eq!(answer[0], b'S');
        assert_eq!(hex(&sign_answer(&answer).unwrap()), RSA_PKCS8_RS256);
        assert_eq!(answer_sign_request(&request), answer);
        // PS256 (salt length and entropy travel) and ES384.
        let request = sign_request("RSA-PSS", "SHA-256", &key, MESSAGE, Some(32), ENTROPY);
        let signature = sign_answer(&answer_crypto_request(&request)).unwrap();
        assert_eq!(
            sign("RSA-PSS", "SHA-256", &key, MESSAGE, Some(32), ENTROPY),
            Ok(signature.clone())
        );
        let spki = h(RSA_PKCS8_SPKI);
        assert_eq!(
            verify("RSA-PSS", "SHA-256", &spki, &signature, MESSAGE, Some(32)),
            Ok(true)
        );
        let request = sign_request("ECDSA", "SHA-384", &h(P384_SEC1), MESSAGE, None, &[]);
        let signature = sign_answer(&answer_crypto_request(&request)).unwrap();
        assert_eq!(signature.len(), 96);
        // Verification requests go through the same entry point.
        let request = verify_request(
            "RSASSA-PKCS1-v1_5",
            "SHA-256",
            &spki,
            &h(RSA_PKCS8_RS256),
            MESSAGE,
            None,
        );
        assert_eq!(answer_crypto_request(&request), b"1");
        let request = verify_request("ECDSA", "SHA-256", &spki, b"sig", MESSAGE, None);
        assert_eq!(answer_crypto_request(&request)[0], b'E');
        // Errors and malformed requests.
        let request = sign_request("ECDSA", "SHA-256", b"junk", MESSAGE, None, &[]);
        assert!(
            sign_answer(&answer_crypto_request(&request))
                .unwrap_err()
                .starts_with("not a private key")
        );
        let truncated = &sign_request("ECDSA", "SHA-256", b"k", b"d", None, &[])[..20];
        assert_eq!(
            answer_crypto_request(truncated),
            b"Ethe signing request is malformed"
        );
        assert_eq!(
            answer_crypto_request(b"\x09\x00"),
            b"Ethe verification request is malformed"
        );
        assert_eq!(
            sign_answer(b"1").unwrap_err(),
            "the host's signing answer is malformed"
        );
        assert!(sign_answer(b"").is_err());
    }
}
