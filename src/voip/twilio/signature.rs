//! `X-Twilio-Signature`, as Twilio documents it ("Webhooks security"): the HMAC-SHA1, keyed
//! by the account's auth token, of the full URL Twilio requested followed by each form
//! parameter's name and value, sorted by name; in base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::domain::Secret;

type HmacSha1 = Hmac<Sha1>;

/// The signature of a request to `url` with the form `params`.
pub fn sign(token: &Secret, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac(token, url, params).finalize().into_bytes())
}

/// Whether `signature` is the signature of a request to `url` with the form `params`,
/// compared in constant time. As Twilio's own libraries do, a URL is also tried with its
/// scheme's default port written out, or left out, as it was not: a proxy in between may
/// have written it either way.
pub fn verify(token: &Secret, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(presented) = BASE64.decode(signature.trim()) else {
        return false;
    };
    let checks = |url: &str| mac(token, url, params).verify_slice(&presented).is_ok();
    checks(url) || other_port_form(url).is_some_and(|url| checks(&url))
}

/// The MAC over the URL and the sorted parameters. Twilio sorts by name, and a repeated
/// name's values among themselves (each distinct pair counts once).
fn mac(token: &Secret, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    // HMAC takes a key of any length.
    let mut mac =
        HmacSha1::new_from_slice(token.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `url` with its scheme's default port left out when it was written, or written out when
/// it was left out; `None` for a URL with another port, or that does not parse.
fn other_port_form(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if parsed.port().is_some() {
        return None;
    }
    let default = parsed.port_or_known_default()?;
    // `Url` leaves a default port out.
    let without = parsed.to_string();
    if without != url {
        return Some(without);
    }
    let host = parsed.host_str()?;
    let authority = without.find("://")? + 3;
    let host_end = authority + without[authority..].find(host)? + host.len();
    Some(format!(
        "{}:{default}{}",
        &without[..host_end],
        &without[host_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::super::form as params;
    use super::*;

    /// Twilio's documented example ("Webhooks security", and its libraries' tests).
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    fn documented() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn signs_as_twilio_documents() {
        let token = Secret::new("12345");
        assert_eq!(sign(&token, URL, &documented()), EXPECTED);
        // The order the parameters came in does not matter.
        let mut reversed = documented();
        reversed.reverse();
        assert_eq!(sign(&token, URL, &reversed), EXPECTED);
    }

    #[test]
    fn verifies_only_the_right_signature_for_the_right_request() {
        let token = Secret::new("12345");
        assert!(verify(&token, URL, &documented(), EXPECTED));
        assert!(!verify(&Secret::new("12346"), URL, &documented(), EXPECTED));
        assert!(!verify(
            &token,
            "https://mycompany.com/myapp.php?foo=1",
            &documented(),
            EXPECTED
        ));
        let mut changed = documented();
        changed[2].1 = "1235".into();
        assert!(!verify(&token, URL, &changed, EXPECTED));
        let mut added = documented();
        added.push(("Extra".into(), String::new()));
        assert!(!verify(&token, URL, &added, EXPECTED));
        for garbage in ["", "not base64!", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "AAAA"] {
            assert!(!verify(&token, URL, &documented(), garbage), "{garbage}");
        }
    }

    #[test]
    fn a_default_port_may_be_written_or_not() {
        let token = Secret::new("12345");
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let signed_with_port = sign(&token, with_port, &documented());
        assert!(verify(&token, URL, &documented(), &signed_with_port));
        assert!(verify(&token, with_port, &documented(), EXPECTED));
        // Another port is another URL.
        let other = sign(
            &token,
            "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
            &documented(),
        );
        assert!(!verify(&token, URL, &documented(), &other));
    }
}
