//! Client certificates as the peer checks them: the first certificate of the first verified
//! chain the server sends, verified against the mTLS CA for client authentication (no
//! intermediates, as Go's `Verify` with only `Roots`), and the identity taken from it in the
//! peer's order: `CN=<common name>`, the first e-mail SAN, the first DNS SAN, `O=<org>`,
//! `OU=<unit>`. Names are read as Go's x509 reads them (`go_name`): every string type it
//! knows (UTF8String, PrintableString, BMPString, T61String, IA5String, NumericString), the
//! last `CN` of the subject winning, as `pkix.Name` keeps it.

use data_encoding::BASE64;
use rustls_pki_types::{CertificateDer, UnixTime};

/// The DER blocks of every `CERTIFICATE` in a PEM text.
pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    let mut out = vec![];
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            break;
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = BASE64.decode(b64.as_bytes()) {
            out.push(der);
        }
        rest = &body[end + 25..];
    }
    out
}

/// The CA certificates, as Go's `AppendCertsFromPEM` (false when none parses).
pub struct CaPool {
    roots: Vec<CertificateDer<'static>>,
}

impl CaPool {
    pub fn from_pem(pem: &[u8]) -> Result<CaPool, String> {
        let text = String::from_utf8_lossy(pem);
        let roots: Vec<_> = pem_certs(&text)
            .into_iter()
            .filter(|d| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(d.as_slice())).is_ok()
            })
            .map(CertificateDer::from)
            .collect();
        if roots.is_empty() && !pem.is_empty() {
            return Err("failed to parse CA certificate".into());
        }
        Ok(CaPool { roots })
    }

    /// Go's `x509.Certificate.Verify` with these roots and the client-auth usage; errors in
    /// Go's words where there is one.
    fn verify(&self, der: &[u8]) -> Result<(), String> {
        let anchors: Vec<_> = self
            .roots
            .iter()
            .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
            .collect();
        let cert = CertificateDer::from(der);
        let ee = webpki::EndEntityCert::try_from(&cert).map_err(|e| format!("x509: {e}"))?;
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            // Go names a candidate CA whose signature does not verify an unknown authority too.
            webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => {
                "x509: certificate signed by unknown authority".into()
            }
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                "x509: certificate has expired or is not yet valid".into()
            }
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                "x509: certificate specifies an incompatible key usage".into()
            }
            other => format!("x509: {other}"),
        })
    }
}

/// Go's `parseASN1String`: the string types x509 reads in a name, each checked as Go checks
/// it; any other type makes the whole certificate unreadable, as in Go.
fn go_string(tag: u8, v: &[u8]) -> Result<String, String> {
    let printable = |b: u8| b.is_ascii_alphanumeric() || b"'()+,-./ :=?*&".contains(&b);
    match tag {
        // T61String, read as Latin-1.
        20 => Ok(v.iter().map(|&b| b as char).collect()),
        19 if v.iter().all(|&b| printable(b)) => Ok(String::from_utf8_lossy(v).into_owned()),
        19 => Err("invalid PrintableString".into()),
        12 => std::str::from_utf8(v)
            .map(str::to_string)
            .map_err(|_| "invalid UTF-8 string".into()),
        30 => {
            let v = v
                .strip_suffix(&[0, 0])
                .filter(|_| v.len().is_multiple_of(2))
                .unwrap_or(v);
            if !v.len().is_multiple_of(2) {
                return Err("invalid BMPString".into());
            }
            let mut out = String::new();
            for p in v.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])) {
                let reserved = p == 0xfffe || p == 0xffff || (0xfdd0..=0xfdef).contains(&p);
                match char::from_u32(p as u32).filter(|_| !reserved) {
                    Some(c) => out.push(c),
                    None => return Err("invalid BMPString".into()),
                }
            }
            Ok(out)
        }
        22 if v.is_ascii() => Ok(String::from_utf8_lossy(v).into_owned()),
        22 => Err("invalid IA5String".into()),
        18 if v.iter().all(|&b| b.is_ascii_digit() || b == b' ') => {
            Ok(String::from_utf8_lossy(v).into_owned())
        }
        18 => Err("invalid NumericString".into()),
        t => Err(format!("unsupported string type: {t}")),
    }
}

/// What Go's `pkix.Name.FillFromRDNSequence` keeps of a name: the last `CN`, every `O` and
/// `OU` in order. Every attribute must be a string Go reads, else the certificate is refused.
#[derive(Default)]
struct GoName {
    common_name: String,
    organization: Vec<String>,
    unit: Vec<String>,
}

fn go_name(name: &x509_parser::x509::X509Name<'_>) -> Result<GoName, String> {
    use x509_parser::oid_registry::{
        OID_X509_COMMON_NAME, OID_X509_ORGANIZATION_NAME, OID_X509_ORGANIZATIONAL_UNIT,
    };
    let mut n = GoName::default();
    for atv in name.iter().flat_map(|rdn| rdn.iter()) {
        let any = atv.attr_value();
        let h = &any.header;
        let id = ((h.class() as u8) << 6) | (u8::from(h.constructed()) << 5);
        let tag = id | h.tag().0.min(31) as u8;
        let value = go_string(tag, any.data)
            .map_err(|e| format!("x509: invalid RDNSequence: invalid attribute value: {e}"))?;
        let t = atv.attr_type();
        if *t == OID_X509_COMMON_NAME {
            n.common_name = value;
        } else if *t == OID_X509_ORGANIZATION_NAME {
            n.organization.push(value);
        } else if *t == OID_X509_ORGANIZATIONAL_UNIT {
            n.unit.push(value);
        }
    }
    Ok(n)
}

/// The peer's `extractIdentity`; `None` when the certificate names nothing it reads.
fn identity(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    subject: &GoName,
) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    if !subject.common_name.is_empty() {
        return Some(format!("CN={}", subject.common_name));
    }
    let sans: Vec<GeneralName<'_>> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|s| s.value.general_names.clone())
        .unwrap_or_default();
    if let Some(e) = sans.iter().find_map(|g| match g {
        GeneralName::RFC822Name(e) => Some(e.to_string()),
        _ => None,
    }) {
        return Some(e);
    }
    if let Some(d) = sans.iter().find_map(|g| match g {
        GeneralName::DNSName(d) => Some(d.to_string()),
        _ => None,
    }) {
        return Some(d);
    }
    if let Some(o) = subject.organization.first() {
        return Some(format!("O={o}"));
    }
    subject.unit.first().map(|u| format!("OU={u}"))
}

/// The peer's `Authenticate`: parse, verify against the CA (when it holds any), identity.
pub fn identify(cert_pem: &str, ca: &CaPool) -> Result<String, String> {
    let der = pem_certs(cert_pem)
        .into_iter()
        .next()
        .ok_or("failed to parse certificate: failed to decode PEM block")?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| {
        format!("failed to parse certificate: failed to parse certificate: x509: {e}")
    })?;
    // Go reads both names while parsing: an attribute it cannot read refuses the certificate.
    let parse_failed =
        |e: String| format!("failed to parse certificate: failed to parse certificate: {e}");
    go_name(cert.issuer()).map_err(parse_failed)?;
    let subject = go_name(cert.subject()).map_err(parse_failed)?;
    if !ca.roots.is_empty() {
        ca.verify(&der)
            .map_err(|e| format!("certificate validation failed: {e}"))?;
    }
    identity(&cert, &subject)
        .ok_or_else(|| "could not extract identity from certificate".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_ca() -> (rcgen::Issuer<'static, rcgen::KeyPair>, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, "ca");
        let pem = p.self_signed(&key).unwrap().pem();
        (rcgen::Issuer::new(p, key), pem)
    }

    fn leaf(
        ca: &rcgen::Issuer<'static, rcgen::KeyPair>,
        dn: &[(rcgen::DnType, &str)],
        sans: Vec<rcgen::SanType>,
        eku: rcgen::ExtendedKeyUsagePurpose,
    ) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in dn {
            p.distinguished_name.push(t.clone(), *v);
        }
        p.subject_alt_names = sans;
        p.extended_key_usages = vec![eku];
        p.signed_by(&key, ca).unwrap().pem()
    }

    /// Go's string readers: T61 as Latin-1, BMP as UCS-2 (a terminator dropped, surrogates and
    /// noncharacters refused), PrintableString's set, anything else unsupported.
    #[test]
    fn go_name_strings() {
        assert_eq!(go_string(20, b"caf\xe9").unwrap(), "café");
        assert_eq!(go_string(30, &[0, b'g', 0, b'w', 0, 0]).unwrap(), "gw");
        assert!(go_string(30, &[0xd8, 0]).is_err() && go_string(30, &[0, 1, 2]).is_err());
        assert!(go_string(19, b"a_b").is_err() && go_string(19, b"a*b&c").is_ok());
        assert_eq!(
            go_string(28, b"x").unwrap_err(),
            "unsupported string type: 28"
        );
    }

    /// The peer's identity order, and the CA and usage checks.
    #[test]
    fn identities_and_verification() {
        use rcgen::{DnType, ExtendedKeyUsagePurpose as E, SanType};
        let (ca, ca_pem) = new_ca();
        let pool = CaPool::from_pem(ca_pem.as_bytes()).unwrap();
        let cn = leaf(
            &ca,
            &[
                (DnType::OrganizationName, "Org"),
                (DnType::CommonName, "gw"),
            ],
            vec![],
            E::ClientAuth,
        );
        assert_eq!(identify(&cn, &pool).unwrap(), "CN=gw");
        let email = leaf(
            &ca,
            &[(DnType::OrganizationName, "Org")],
            vec![
                SanType::DnsName("h.example".try_into().unwrap()),
                SanType::Rfc822Name("a@example.com".try_into().unwrap()),
            ],
            E::ClientAuth,
        );
        assert_eq!(identify(&email, &pool).unwrap(), "a@example.com");
        let dns = leaf(
            &ca,
            &[],
            vec![SanType::DnsName("h.example".try_into().unwrap())],
            E::ClientAuth,
        );
        assert_eq!(identify(&dns, &pool).unwrap(), "h.example");
        let org = leaf(
            &ca,
            &[(DnType::OrganizationName, "Org")],
            vec![],
            E::ClientAuth,
        );
        assert_eq!(identify(&org, &pool).unwrap(), "O=Org");
        let server_only = leaf(&ca, &[(DnType::CommonName, "srv")], vec![], E::ServerAuth);
        assert_eq!(
            identify(&server_only, &pool).unwrap_err(),
            "certificate validation failed: x509: certificate specifies an incompatible key usage"
        );
        let (other, _) = new_ca();
        let foreign = leaf(&other, &[(DnType::CommonName, "gw")], vec![], E::ClientAuth);
        assert_eq!(
            identify(&foreign, &pool).unwrap_err(),
            "certificate validation failed: x509: certificate signed by unknown authority"
        );
        assert!(CaPool::from_pem(b"not a pem").is_err());
    }
}
