//! Webhook signatures, as the Standard Webhooks specification defines them: the server
//! signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 and sends
//! `webhook-signature: v1,<base64>`; while a secret is being rotated, the previous secret
//! signs too and the header carries both signatures, space-separated. The server signs with
//! [`signature_header`]; `wrapup webhooks listen` checks with [`verify`], so the two agree
//! by construction (and a test holds both to the specification's published vector).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How a signing secret is written: `whsec_` and the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a `webhook-timestamp` may be from now before [`verify`] refuses it, in seconds
/// (the specification's libraries use five minutes).
pub const TIMESTAMP_TOLERANCE_S: i64 = 5 * 60;

/// A signing key: the bytes behind a `whsec_…` secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key in a log line or a panic message is a leaked key.
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    pub fn from_bytes(bytes: Vec<u8>) -> SigningKey {
        SigningKey(bytes)
    }

    /// The key of an endpoint's secret `generation`, derived from the server's master key:
    /// HMAC-SHA256(master, "wrapup webhook secret" ‖ endpoint id ‖ generation). The server
    /// stores no endpoint secret; whoever lacks the master key cannot compute one.
    pub fn derive(master: &[u8], webhook_id: uuid::Uuid, generation: i64) -> SigningKey {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(master).expect("HMAC takes keys of any length");
        mac.update(b"wrapup webhook secret\0");
        mac.update(webhook_id.as_bytes());
        mac.update(&generation.to_be_bytes());
        SigningKey(mac.finalize().into_bytes().to_vec())
    }

    /// Parses `whsec_<base64>` (the prefix may be left out).
    pub fn parse(secret: &str) -> Result<SigningKey, String> {
        let encoded = secret
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .unwrap_or(secret.trim());
        match STANDARD.decode(encoded) {
            Ok(bytes) if !bytes.is_empty() => Ok(SigningKey(bytes)),
            _ => Err("a webhook secret is `whsec_` followed by base64".into()),
        }
    }

    /// The secret as shown to people: `whsec_<base64>`.
    pub fn to_secret(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, message_id: &str, timestamp_s: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(message_id, timestamp_s, body))
        )
    }

    fn mac(&self, message_id: &str, timestamp_s: i64, body: &[u8]) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(format!("{message_id}.{timestamp_s}.").as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The `webhook-signature` header: one `v1,…` signature per key, space-separated (the
/// current key first, then the previous one during a rotation).
pub fn signature_header(
    keys: &[&SigningKey],
    message_id: &str,
    timestamp_s: i64,
    body: &[u8],
) -> String {
    keys.iter()
        .map(|k| k.sign(message_id, timestamp_s, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a delivery did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// A `webhook-*` header is missing.
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds.
    InvalidTimestamp,
    /// `webhook-timestamp` is further than [`TIMESTAMP_TOLERANCE_S`] from now (a replayed
    /// or delayed request).
    TimestampOutOfTolerance { timestamp_s: i64, now_s: i64 },
    /// No `v1` signature of the header matches the key.
    NoMatchingSignature,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::MissingHeader(h) => write!(f, "the {h} header is missing"),
            VerifyError::InvalidTimestamp => f.write_str("webhook-timestamp is not a number of seconds"),
            VerifyError::TimestampOutOfTolerance { timestamp_s, now_s } => write!(
                f,
                "webhook-timestamp {timestamp_s} is {} s from now (at most {TIMESTAMP_TOLERANCE_S} s allowed)",
                (now_s - timestamp_s).abs()
            ),
            VerifyError::NoMatchingSignature => {
                f.write_str("no signature of webhook-signature matches the secret")
            }
        }
    }
}

/// The three `webhook-*` headers of a delivery, as received.
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Checks a delivery: its timestamp is within [`TIMESTAMP_TOLERANCE_S`] of `now_s`, and one
/// of its `v1` signatures is the key's (compared in constant time).
pub fn verify(
    key: &SigningKey,
    headers: SignedHeaders<'_>,
    body: &[u8],
    now_s: i64,
) -> Result<(), VerifyError> {
    let id = headers.id.ok_or(VerifyError::MissingHeader("webhook-id"))?;
    let timestamp = headers
        .timestamp
        .ok_or(VerifyError::MissingHeader("webhook-timestamp"))?;
    let signatures = headers
        .signature
        .ok_or(VerifyError::MissingHeader("webhook-signature"))?;
    let timestamp_s: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    if (now_s - timestamp_s).abs() > TIMESTAMP_TOLERANCE_S {
        return Err(VerifyError::TimestampOutOfTolerance { timestamp_s, now_s });
    }
    let expected = key.mac(id, timestamp_s, body);
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .any(|sig| constant_time_eq(&sig, &expected));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, libraries/*: `test_sign`).
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const MESSAGE_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TIMESTAMP: i64 = 1649367553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn headers<'a>(signature: &'a str, timestamp: &'a str) -> SignedHeaders<'a> {
        SignedHeaders {
            id: Some(MESSAGE_ID),
            timestamp: Some(timestamp),
            signature: Some(signature),
        }
    }

    #[test]
    fn signs_the_specification_test_vector() {
        let key = SigningKey::parse(SECRET).unwrap();
        assert_eq!(key.sign(MESSAGE_ID, TIMESTAMP, BODY), SIGNATURE);
        assert_eq!(key.to_secret(), SECRET);
        let ts = TIMESTAMP.to_string();
        assert_eq!(
            verify(&key, headers(SIGNATURE, &ts), BODY, TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn any_of_several_signatures_verifies_and_none_of_others_does() {
        let key = SigningKey::parse(SECRET).unwrap();
        let other = SigningKey::from_bytes(vec![7; 32]);
        let ts = TIMESTAMP.to_string();
        let both = signature_header(&[&other, &key], MESSAGE_ID, TIMESTAMP, BODY);
        assert_eq!(both.split(' ').nth(1), Some(SIGNATURE));
        assert_eq!(verify(&key, headers(&both, &ts), BODY, TIMESTAMP), Ok(()));
        let only_other = other.sign(MESSAGE_ID, TIMESTAMP, BODY);
        assert_eq!(
            verify(&key, headers(&only_other, &ts), BODY, TIMESTAMP),
            Err(VerifyError::NoMatchingSignature)
        );
        // A changed body, or a v1a signature with the right bytes, does not verify.
        assert!(verify(&key, headers(SIGNATURE, &ts), b"{}", TIMESTAMP).is_err());
        let v1a = SIGNATURE.replace("v1,", "v1a,");
        assert!(verify(&key, headers(&v1a, &ts), BODY, TIMESTAMP).is_err());
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let key = SigningKey::parse(SECRET).unwrap();
        let ts = TIMESTAMP.to_string();
        for now in [
            TIMESTAMP + TIMESTAMP_TOLERANCE_S + 1,
            TIMESTAMP - TIMESTAMP_TOLERANCE_S - 1,
        ] {
            assert!(matches!(
                verify(&key, headers(SIGNATURE, &ts), BODY, now),
                Err(VerifyError::TimestampOutOfTolerance { .. })
            ));
        }
        assert_eq!(
            verify(&key, headers(SIGNATURE, "soon"), BODY, TIMESTAMP),
            Err(VerifyError::InvalidTimestamp)
        );
        let missing = SignedHeaders {
            id: None,
            ..headers(SIGNATURE, &ts)
        };
        assert_eq!(
            verify(&key, missing, BODY, TIMESTAMP),
            Err(VerifyError::MissingHeader("webhook-id"))
        );
    }

    #[test]
    fn derived_keys_differ_by_endpoint_generation_and_master() {
        let id = uuid::Uuid::from_u128(7);
        let key = SigningKey::derive(b"master", id, 1);
        assert_eq!(key, SigningKey::derive(b"master", id, 1));
        assert_ne!(key, SigningKey::derive(b"master", id, 2));
        assert_ne!(
            key,
            SigningKey::derive(b"master", uuid::Uuid::from_u128(8), 1)
        );
        assert_ne!(key, SigningKey::derive(b"other", id, 1));
        assert_eq!(
            key.0.len(),
            32,
            "within the 24 to 64 bytes the specification asks"
        );
    }

    #[test]
    fn secrets_that_are_not_base64_are_refused() {
        assert!(SigningKey::parse("whsec_!!!").is_err());
        assert!(SigningKey::parse("whsec_").is_err());
        assert!(format!("{:?}", SigningKey::parse(SECRET).unwrap()).contains("redacted"));
    }
}
