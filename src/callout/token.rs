//! OAuth2 bearer tokens as the peer parses them: golang-jwt v5.3.1's `ParseWithClaims` into
//! its `Claims` struct (`jwt.RegisteredClaims` + `scope`, `scopes`, `azp`) with
//! `WithValidMethods`, `WithExpirationRequired`, `WithIssuer`, `WithAudience`, and keyfunc's
//! key lookup. Segments are base64url as Go's non-strict `RawURLEncoding` reads them; the
//! header and claims are JSON as `encoding/json` reads them (`gojson`: claim names match
//! case-insensitively, a repeated claim is decoded over the earlier one, a claim of the wrong
//! type refuses the token). Error texts follow golang-jwt's, since they reach the server's log
//! inside the callout's denial.

use super::gojson::{self, At, Errors, Json, field};
use super::jwks::{self, Jwks};
use crate::gotmpl::go_quote;

/// The claims the peer reads from a verified token.
#[derive(Debug, Clone, Default)]
pub struct TokenClaims {
    pub subject: String,
    pub azp: String,
    pub scope: String,
    pub scopes: Vec<String>,
}

/// Go's `base64.RawURLEncoding.DecodeString`: no padding, `\r` and `\n` skipped, the unused
/// low bits of the last character not checked.
pub fn go_b64(seg: &str) -> Result<Vec<u8>, String> {
    let mut bits: u32 = 0;
    let mut n = 0usize;
    let mut out = Vec::with_capacity(seg.len() * 3 / 4);
    let mut last = 0usize;
    for (i, c) in seg.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'\r' | b'\n' => continue,
            _ => return Err(format!("illegal base64 data at input byte {i}")),
        };
        last = i;
        bits = (bits << 6) | v as u32;
        n += 1;
        if n.is_multiple_of(4) {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            bits = 0;
        }
    }
    match n % 4 {
        1 => return Err(format!("illegal base64 data at input byte {last}")),
        2 => out.push((bits >> 4) as u8),
        3 => out.extend_from_slice(&[(bits >> 10) as u8, (bits >> 2) as u8]),
        _ => {}
    }
    Ok(out)
}

/// Numbers inside an `any` value become float64 in Go: one out of range is a type error.
fn check_floats(v: &Json) -> Result<(), String> {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Json::Num(n) if !n.parse::<f64>().is_ok_and(f64::is_finite) => {
                return Err(format!(
                    "json: cannot unmarshal number {n} into Go value of type float64"
                ));
            }
            Json::Arr(a) => todo.extend(a.iter()),
            Json::Obj(m) => todo.extend(m.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    Ok(())
}

/// The header as `map[string]any`: a repeated key keeps the later value.
fn header(b: &[u8]) -> Result<Vec<(String, Json)>, String> {
    let root = gojson::parse(b)?;
    match &root {
        Json::Null => Ok(vec![]),
        Json::Obj(m) => {
            check_floats(&root)?;
            let mut out: Vec<(String, Json)> = vec![];
            for (k, v) in m {
                out.retain(|(x, _)| x != k);
                out.push((k.clone(), v.clone()));
            }
            Ok(out)
        }
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            other.kind()
        )),
    }
}

/// A `jwt.NumericDate` as golang-jwt keeps it: whole seconds (it truncates to `TimePrecision`),
/// as the Unix seconds Go's `time.Time` then compares. `None`: absent or null.
type Date = Option<i128>;

/// `newNumericDateFromSeconds`: `math.Modf`, `time.Unix`, `Truncate(time.Second)`. An
/// out-of-range float converts to the minimum int64 (amd64's conversion), and Go's internal
/// seconds wrap, so such dates lie in the far past, as in the peer.
fn go_seconds(f: f64) -> i128 {
    const UNIX_TO_INTERNAL: i64 = 62_135_596_800;
    let limit = 2f64.powi(63);
    let sec = if (-limit..limit).contains(&f) {
        let whole = f.trunc();
        let mut s = whole as i64;
        if (((f - whole) * 1e9) as i64) < 0 {
            s = s.wrapping_sub(1);
        }
        s
    } else {
        i64::MIN
    };
    sec.wrapping_add(UNIX_TO_INTERNAL) as i128 - UNIX_TO_INTERNAL as i128
}

/// `NumericDate.UnmarshalJSON`: a number, or a string holding one (`json.Number`).
fn numeric_date(v: &Json) -> Result<Date, String> {
    let wrap = |e: String| format!("could not parse NumericData: {e}");
    let n = match v {
        Json::Null => return Ok(None),
        Json::Num(n) => n.clone(),
        Json::Str(s) if gojson::is_valid_number(s) => s.clone(),
        Json::Str(s) => {
            let item = go_quote(s);
            return Err(wrap(format!(
                "json: invalid number literal, trying to unmarshal {} into Number",
                go_quote(&item)
            )));
        }
        other => {
            return Err(wrap(format!(
                "json: cannot unmarshal {} into Go value of type json.Number",
                other.kind()
            )));
        }
    };
    match n.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Some(go_seconds(f))),
        _ => Err(format!(
            "could not convert json number value to float: strconv.ParseFloat: parsing {}: \
             value out of range",
            go_quote(&n)
        )),
    }
}

/// `ClaimStrings.UnmarshalJSON`: a string, or an array of strings; null leaves it as it was.
fn claim_strings(v: &Json, into: &mut Vec<String>) -> Result<(), String> {
    const INVALID: &str = "invalid type for claim";
    match v {
        Json::Null => {}
        Json::Str(s) => *into = vec![s.clone()],
        Json::Arr(a) => {
            check_floats(v)?;
            let mut out = vec![];
            for x in a {
                let Json::Str(s) = x else {
                    return Err(INVALID.into());
                };
                out.push(s.clone());
            }
            *into = out;
        }
        _ => return Err(INVALID.into()),
    }
    Ok(())
}

/// The Claims struct as decoded.
#[derive(Default)]
struct Claims {
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: Date,
    nbf: Date,
    iat: Date,
    jti: String,
    scope: String,
    scopes: Option<Vec<String>>,
    azp: String,
}

/// Claims' JSON fields in Go's order (the embedded RegisteredClaims first).
const CLAIMS: &[&str] = &[
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scopes", "azp",
];

/// `json.Unmarshal` of the claims into `*Claims`; the first error is the result.
fn decode_claims(b: &[u8]) -> Result<Claims, String> {
    let mut c = Claims::default();
    let root = gojson::parse(b)?;
    let m = match &root {
        Json::Null => return Ok(c),
        Json::Obj(m) => m,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type auth.Claims",
                other.kind()
            ));
        }
    };
    let mut e = Errors::default();
    for (k, v) in m {
        let Some(f) = field(k, CLAIMS) else {
            continue;
        };
        let registered = format!("RegisteredClaims.{f}");
        let at = At {
            strukt: "Claims",
            path: if CLAIMS[..7].contains(&f) {
                &registered
            } else {
                f
            },
        };
        let date = |e: &mut Errors, slot: &mut Date| match numeric_date(v) {
            Ok(d) => *slot = d,
            Err(x) => e.save(x),
        };
        match f {
            "iss" => e.string(v, at, &mut c.iss),
            "sub" => e.string(v, at, &mut c.sub),
            "jti" => e.string(v, at, &mut c.jti),
            "scope" => e.string(v, at, &mut c.scope),
            "azp" => e.string(v, at, &mut c.azp),
            "scopes" => e.strings(v, at, "[]string", &mut c.scopes),
            "aud" => {
                if let Err(x) = claim_strings(v, &mut c.aud) {
                    e.save(x);
                }
            }
            "exp" => date(&mut e, &mut c.exp),
            "nbf" => date(&mut e, &mut c.nbf),
            _ => date(&mut e, &mut c.iat),
        }
    }
    match e.first {
        Some(x) => Err(x),
        None => Ok(c),
    }
}

fn malformed(what: &str, e: impl std::fmt::Display) -> String {
    format!("token is malformed: {what}: {e}")
}

fn keyfunc_error(m: &str) -> String {
    format!("token is unverifiable: error while executing keyfunc: failed keyfunc: {m}")
}

/// The Validator's checks in its order (exp, nbf, aud, iss), joined as golang-jwt joins them.
fn validate(c: &Claims, issuer: &str, audience: &str, now: f64) -> Result<(), String> {
    let mut errs: Vec<&str> = vec![];
    match c.exp {
        None => errs.push("token is missing required claim: exp claim is required"),
        Some(exp) if now >= exp as f64 => errs.push("token is expired"),
        _ => {}
    }
    if let Some(nbf) = c.nbf
        && now < nbf as f64
    {
        errs.push("token is not valid yet");
    }
    if c.aud.is_empty() || c.aud.len() == 1 && c.aud[0].is_empty() {
        errs.push("token is missing required claim: aud claim is required");
    } else if !c.aud.iter().any(|a| a == audience) {
        errs.push("token has invalid audience");
    }
    match c.iss.as_str() {
        "" => errs.push("token is missing required claim: iss claim is required"),
        i if i != issuer => errs.push("token has invalid issuer"),
        _ => {}
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("token has invalid claims: {}", errs.join(", ")))
    }
}

/// golang-jwt's `ParseWithClaims` with keyfunc, `WithValidMethods`, `WithExpirationRequired`,
/// `WithIssuer` and `WithAudience`; `Err` carries its error text. `now` in Unix seconds.
pub fn verify(
    token: &str,
    keys: &Jwks,
    algorithms: &[String],
    issuer: &str,
    audience: &str,
    now: f64,
) -> Result<TokenClaims, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("token is malformed: token contains an invalid number of segments".into());
    }
    let head = go_b64(parts[0]).map_err(|e| malformed("could not base64 decode header", e))?;
    let head = header(&head).map_err(|e| malformed("could not JSON decode header", e))?;
    let claims = go_b64(parts[1]).map_err(|e| malformed("could not base64 decode claim", e))?;
    let claims = decode_claims(&claims).map_err(|e| malformed("could not JSON decode claim", e))?;
    let get = |k: &str| head.iter().find(|(x, _)| x == k).map(|(_, v)| v);
    let Some(Json::Str(alg)) = get("alg") else {
        return Err("token is unverifiable: signing method (alg) is unspecified".into());
    };
    let alg = alg.as_str();
    if !jwks::SUPPORTED.contains(&alg) && !["HS256", "HS384", "HS512", "none"].contains(&alg) {
        return Err("token is unverifiable: signing method (alg) is unavailable".into());
    }
    let sig = go_b64(parts[2]).map_err(|e| malformed("could not base64 decode signature", e))?;
    if !algorithms.iter().any(|a| a == alg) {
        return Err(format!(
            "token signature is invalid: signing method {alg} is invalid"
        ));
    }
    let signed = &token[..parts[0].len() + 1 + parts[1].len()];
    // keyfunc: a `kid` names one key (its `alg`, when set, must be the token's); no `kid`
    // hands golang-jwt every key, which tries them in order and keeps the last error.
    let result = match get("kid") {
        None => {
            let all = keys.all();
            if all.is_empty() {
                return Err(
                    "token is unverifiable: keyfunc returned empty verification key set".into(),
                );
            }
            let mut r = Err("");
            for (_, k) in all.iter() {
                r = jwks::verify_sig(alg, k, signed.as_bytes(), &sig);
                if r.is_ok() {
                    break;
                }
            }
            r
        }
        Some(Json::Str(kid)) => {
            // keyfunc joins jwkset's error and its own with a newline, as `errors.Join` does.
            let jwk = keys.key(kid).ok_or_else(|| {
                format!(
                    "token is unverifiable: error while executing keyfunc: key not found {}\n\
                     failed keyfunc: could not read JWK from storage",
                    go_quote(kid)
                )
            })?;
            if let Some(a) = jwk.alg.as_deref().filter(|a| *a != alg) {
                return Err(keyfunc_error(&format!(
                    "JWK \"alg\" parameter value {a:?} does not match token \"alg\" parameter \
                     value {alg:?}"
                )));
            }
            jwks::verify_sig(alg, &jwk, signed.as_bytes(), &sig)
        }
        Some(_) => {
            return Err(keyfunc_error(
                "could not convert kid in JWT header to string",
            ));
        }
    };
    result.map_err(|e| format!("token signature is invalid: {e}"))?;
    validate(&claims, issuer, audience, now)?;
    Ok(TokenClaims {
        subject: claims.sub,
        azp: claims.azp,
        scope: claims.scope,
        scopes: claims.scopes.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_base64_and_dates() {
        assert_eq!(go_b64("YQ").unwrap(), b"a");
        // Go's non-strict decoder ignores the unused low bits and newlines.
        assert_eq!(go_b64("YR").unwrap(), b"a");
        assert_eq!(go_b64("Y\nQ").unwrap(), b"a");
        assert_eq!(
            go_b64("YQ==").unwrap_err(),
            "illegal base64 data at input byte 2"
        );
        assert!(go_b64("YWJjZ").is_err());
        assert_eq!(go_seconds(1000.9), 1000);
        assert_eq!(go_seconds(-1.5), -2);
        assert!(go_seconds(1e300) < 0);
        assert_eq!(numeric_date(&Json::Str("12".into())).unwrap(), Some(12));
    }

    #[test]
    fn claims_decode_as_go() {
        let c = decode_claims(br#"{"SUB":"a","Scope":"x","aud":"b","aud":null}"#).unwrap();
        assert_eq!((c.sub.as_str(), c.scope.as_str()), ("a", "x"));
        assert_eq!(c.aud, vec!["b".to_string()]);
        assert_eq!(
            decode_claims(br#"{"sub":1}"#).err().unwrap(),
            "json: cannot unmarshal number into Go struct field Claims.RegisteredClaims.sub \
             of type string"
        );
        assert_eq!(
            decode_claims(br#"{"aud":["a",1]}"#).err().unwrap(),
            "invalid type for claim"
        );
        assert_eq!(
            decode_claims(br#"{"scope":7}"#).err().unwrap(),
            "json: cannot unmarshal number into Go struct field Claims.scope of type string"
        );
    }
}
