//! The natives behind the web-standard APIs: base64, `URL`, crypto and
//! `Intl` dates. Each is a thin conversion between JavaScript values and a
//! plain Rust function of [`crate::encoding`], [`crate::url_api`],
//! [`crate::crypto`] or [`crate::intl`]; errors become JavaScript
//! exceptions with the function's message.

use crate::{crypto, encoding, intl, url_api, wasi};
use javy::quickjs::{
    ArrayBuffer, Ctx, Exception, Function, IntoJs, Object, Result, TypedArray, Value, function::Opt,
};

/// The bytes of a `Uint8Array` (any view) or an `ArrayBuffer`.
fn bytes_of<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> Result<Vec<u8>> {
    if let Ok(view) = TypedArray::<u8>::from_value(value.clone()) {
        if let Some(bytes) = view.as_bytes() {
            return Ok(bytes.to_vec());
        }
    } else if let Some(buffer) = ArrayBuffer::from_value(value.clone()) {
        if let Some(bytes) = buffer.as_bytes() {
            return Ok(bytes.to_vec());
        }
    }
    Err(Exception::throw_type(
        ctx,
        "expected a Uint8Array or an ArrayBuffer (detached buffers cannot be read)",
    ))
}

/// `value`, or `null` (not `undefined`) for `None`, as the JavaScript side
/// expects.
fn or_null<'js, T: IntoJs<'js>>(ctx: &Ctx<'js>, value: Option<T>) -> Result<Value<'js>> {
    match value {
        Some(value) => value.into_js(ctx),
        None => Ok(Value::new_null(ctx.clone())),
    }
}

fn type_error(ctx: &Ctx<'_>, message: String) -> javy::quickjs::Error {
    Exception::throw_type(ctx, &message)
}

fn range_error(ctx: &Ctx<'_>, message: String) -> javy::quickjs::Error {
    Exception::throw_range(ctx, &message)
}

/// Adds the natives of this module to `natives`.
pub fn install<'js>(ctx: &Ctx<'js>, natives: &Object<'js>) -> Result<()> {
    install_encoding(ctx, natives)?;
    install_crypto(ctx, natives)?;
    install_intl(ctx, natives)
}

fn install_encoding<'js>(ctx: &Ctx<'js>, natives: &Object<'js>) -> Result<()> {
    // base64Encode(bytes, urlSafe) -> string
    natives.set(
        "base64Encode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, bytes: Value<'js>, url_safe: bool| -> Result<String> {
                Ok(encoding::base64_encode(&bytes_of(&ctx, &bytes)?, url_safe))
            },
        )?,
    )?;
    // base64Decode(text, loose) -> ArrayBuffer, or null (strict only)
    natives.set(
        "base64Decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: String, loose: bool| -> Result<Value<'js>> {
                let decoded = if loose {
                    Some(encoding::base64_decode_loose(&text))
                } else {
                    encoding::base64_decode_strict(&text)
                };
                let buffer = decoded
                    .map(|bytes| ArrayBuffer::new(ctx.clone(), bytes))
                    .transpose()?;
                or_null(&ctx, buffer)
            },
        )?,
    )?;
    let record = |ctx: &Ctx<'js>, fields: url_api::Record| -> Result<Object<'js>> {
        let object = Object::new(ctx.clone())?;
        for (name, value) in url_api::COMPONENTS.iter().zip(fields) {
            object.set(*name, value)?;
        }
        Ok(object)
    };
    // urlParse(input, base?) -> record, or null when invalid
    natives.set(
        "urlParse",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, input: String, base: Opt<Option<String>>| {
                let base = base.0.flatten();
                let parsed = url_api::parse(&input, base.as_deref())
                    .map(|fields| record(&ctx, fields))
                    .transpose()?;
                or_null(&ctx, parsed)
            },
        )?,
    )?;
    // urlSet(href, component, value) -> record; TypeError for a bad href
    natives.set(
        "urlSet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, href: String, component: String, value: String| {
                let fields =
                    url_api::set(&href, &component, &value).map_err(|e| type_error(&ctx, e))?;
                record(&ctx, fields)
            },
        )?,
    )?;
    Ok(())
}

fn install_crypto<'js>(ctx: &Ctx<'js>, natives: &Object<'js>) -> Result<()> {
    // digest(algorithm, bytes) -> ArrayBuffer
    natives.set(
        "digest",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, algorithm: String, data: Value<'js>| {
                let digest = crypto::digest(&algorithm, &bytes_of(&ctx, &data)?)
                    .map_err(|e| type_error(&ctx, e))?;
                ArrayBuffer::new(ctx, digest)
            },
        )?,
    )?;
    // hmac(algorithm, key, bytes) -> ArrayBuffer
    natives.set(
        "hmac",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, algorithm: String, key: Value<'js>, data: Value<'js>| {
                let mac = crypto::hmac(&algorithm, &bytes_of(&ctx, &key)?, &bytes_of(&ctx, &data)?)
                    .map_err(|e| type_error(&ctx, e))?;
                ArrayBuffer::new(ctx, mac)
            },
        )?,
    )?;
    let key_object = |ctx: &Ctx<'js>, key: crypto::PublicKey| -> Result<Object<'js>> {
        let object = Object::new(ctx.clone())?;
        object.set("spki", ArrayBuffer::new(ctx.clone(), key.spki_der)?)?;
        object.set("kind", key.kind)?;
        object.set("modulusLength", key.modulus_bits)?;
        object.set(
            "publicExponent",
            ArrayBuffer::new(ctx.clone(), key.public_exponent)?,
        )?;
        object.set("namedCurve", or_null(ctx, key.named_curve)?)?;
        Ok(object)
    };
    // importRsa(n, e), importEc(curve, x, y), importSpki(der, kind, curve?)
    // -> {spki, kind, modulusLength, publicExponent, namedCurve}
    natives.set(
        "importRsa",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, n: Value<'js>, e: Value<'js>| {
                let key = crypto::import_rsa(&bytes_of(&ctx, &n)?, &bytes_of(&ctx, &e)?)
                    .map_err(|e| type_error(&ctx, e))?;
                key_object(&ctx, key)
            },
        )?,
    )?;
    natives.set(
        "importEc",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, curve: String, x: Value<'js>, y: Value<'js>| {
                let key = crypto::import_ec(&curve, &bytes_of(&ctx, &x)?, &bytes_of(&ctx, &y)?)
                    .map_err(|e| type_error(&ctx, e))?;
                key_object(&ctx, key)
            },
        )?,
    )?;
    natives.set(
        "importSpki",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, der: Value<'js>, kind: String, curve: Opt<Option<String>>| {
                let curve = curve.0.flatten();
                let key = crypto::import_spki(&bytes_of(&ctx, &der)?, &kind, curve.as_deref())
                    .map_err(|e| type_error(&ctx, e))?;
                key_object(&ctx, key)
            },
        )?,
    )?;
    // verify(algorithm, hash, spki, signature, data, saltLength?) -> boolean
    natives.set(
        "verify",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             algorithm: String,
             hash: String,
             spki: Value<'js>,
             signature: Value<'js>,
             data: Value<'js>,
             salt: Opt<Option<f64>>|
             -> Result<bool> {
                let salt = salt.0.flatten().map(|n| n.clamp(0.0, 1e6) as usize);
                let (spki, signature, data) = (
                    bytes_of(&ctx, &spki)?,
                    bytes_of(&ctx, &signature)?,
                    bytes_of(&ctx, &data)?,
                );
                // Natively in the host when it offers that (authpipe's
                // does), else here.
                let request =
                    crypto::verify_request(&algorithm, &hash, &spki, &signature, &data, salt);
                let verified = match wasi::exchange(wasi::CRYPTO_FD, &request) {
                    Some(answer) => crypto::verify_answer(&answer),
                    None => crypto::verify(&algorithm, &hash, &spki, &signature, &data, salt),
                };
                verified.map_err(|e| type_error(&ctx, e))
            },
        )?,
    )?;
    // sign(algorithm, hash, privateKeyDer, data, saltLength?) -> ArrayBuffer
    natives.set(
        "sign",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             algorithm: String,
             hash: String,
             key: Value<'js>,
             data: Value<'js>,
             salt: Opt<Option<f64>>|
             -> Result<ArrayBuffer<'js>> {
                let salt = salt.0.flatten().map(|n| n.clamp(0.0, 1e6) as usize);
                let (key, data) = (bytes_of(&ctx, &key)?, bytes_of(&ctx, &data)?);
                // RSA-PSS salts are drawn from this, out of the host's
                // secure random source; the other algorithms ignore it.
                let mut entropy = [0u8; 32];
                wasi::random_fill(&mut entropy);
                // Natively in the host only: private-key code in the engine
                // would make every sandbox of every function bigger.
                let request = crypto::sign_request(&algorithm, &hash, &key, &data, salt, &entropy);
                let signed = match wasi::exchange(wasi::CRYPTO_FD, &request) {
                    Some(answer) => crypto::sign_answer(&answer),
                    None => Err(
                        "signing with a private key is available only under authpipe's host".into(),
                    ),
                };
                let signature = signed.map_err(|e| type_error(&ctx, e))?;
                ArrayBuffer::new(ctx, signature)
            },
        )?,
    )?;
    Ok(())
}

fn install_intl<'js>(ctx: &Ctx<'js>, natives: &Object<'js>) -> Result<()> {
    fn options(
        ctx: &Ctx<'_>,
        fields: &[Option<String>],
        defaults: &str,
    ) -> Result<(intl::DateOptions, intl::Defaults)> {
        let options = intl::DateOptions::from_fields(fields).map_err(|e| range_error(ctx, e))?;
        let defaults = intl::Defaults::from_name(defaults).map_err(|e| range_error(ctx, e))?;
        Ok((options, defaults))
    }
    // formatDate(epochMs, locale, fields, defaults) -> string
    natives.set(
        "formatDate",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             epoch_ms: f64,
             locale: String,
             fields: Vec<Option<String>>,
             defaults: String|
             -> Result<String> {
                let (options, defaults) = options(&ctx, &fields, &defaults)?;
                intl::format_date(epoch_ms, &locale, &options, defaults)
                    .map_err(|e| range_error(&ctx, e))
            },
        )?,
    )?;
    // formatDateToParts(epochMs, locale, fields, defaults) -> [[type, value]…]
    natives.set(
        "formatDateToParts",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             epoch_ms: f64,
             locale: String,
             fields: Vec<Option<String>>,
             defaults: String|
             -> Result<Vec<Vec<String>>> {
                let (options, defaults) = options(&ctx, &fields, &defaults)?;
                let parts = intl::format_date_to_parts(epoch_ms, &locale, &options, defaults)
                    .map_err(|e| range_error(&ctx, e))?;
                Ok(parts
                    .into_iter()
                    .map(|(kind, value)| vec![kind.to_string(), value])
                    .collect())
            },
        )?,
    )?;
    // resolveDateOptions(locale, fields, defaults) -> fields as resolved
    natives.set(
        "resolveDateOptions",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             locale: String,
             fields: Vec<Option<String>>,
             defaults: String|
             -> Result<Vec<Option<String>>> {
                let (options, defaults) = options(&ctx, &fields, &defaults)?;
                intl::resolve_date_options(&locale, &options, defaults)
                    .map_err(|e| range_error(&ctx, e))
            },
        )?,
    )?;
    Ok(())
}
