//! Property tests of PEM / private-key parsing (`idaas::internals::auth::PrivateKey::from_pem`): arbitrary
//! text, PEM-shaped text with random base64 and labels, and random corruptions of every fixture
//! key (bit flips, truncation, inserted lines, `\n` escapes). Never a panic; a key that parses can
//! sign; a refusal is a typed `Credential` (or `Config`) error that never echoes key material.

mod common;

use common::prop::config;
use idaas::internals::auth::PrivateKey;
use idaas::ErrorKind;
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "ec256_pkcs8.pem",
    "ec256_sec1.pem",
    "ec384_pkcs8.pem",
    "ec384_sec1.pem",
    "rsa2048_pkcs1.pem",
    "rsa2048_pkcs8.pem",
    "rsa2048_encrypted.pem",
    "ec256_pub.pem",
];

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../emulator/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `no_echo`: also require that the error never quotes a 16-character run of the key body.
fn check(input: &str, no_echo: bool) -> Result<(), TestCaseError> {
    match PrivateKey::from_pem(input) {
        Ok(k) => {
            // Whatever parsed must sign (or fail cleanly), never panic.
            if let Err(e) = k.sign(b"header.payload") {
                prop_assert_eq!(e.kind(), ErrorKind::Credential);
            }
            prop_assert!(
                !format!("{k:?}").contains("MII"),
                "Debug shows key material"
            );
        }
        Err(e) => {
            prop_assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Credential | ErrorKind::Config | ErrorKind::InvalidArgument
                ),
                "{e:?}"
            );
            if !no_echo {
                return Ok(());
            }
            let text = format!("{e} {e:?}");
            // No 16-character run of the key body may appear in the error.
            for line in input.lines().filter(|l| !l.starts_with("-----")) {
                let chars: Vec<char> = line.chars().collect();
                for w in chars.windows(16) {
                    let s: String = w.iter().collect();
                    if s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
                    {
                        prop_assert!(
                            !text.contains(&s),
                            "error echoes key material {s:?}: {text}"
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

fn label() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PUBLIC KEY",
        "CERTIFICATE",
        "EC PARAMETERS",
        "",
        "private key",
    ])
    .prop_map(str::to_string)
}

/// A random corruption of a fixture.
fn corrupted() -> impl Strategy<Value = String> {
    (
        prop::sample::select(FIXTURES),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        prop_oneof![Just(None), any::<prop::sample::Index>().prop_map(Some)],
        0u8..4,
    )
        .prop_map(|(name, flips, cut, style)| {
            let mut b = fixture(name).into_bytes();
            for (i, v) in flips {
                let n = b.len();
                b[i.index(n)] = v;
            }
            if let Some(c) = cut {
                let n = b.len();
                b.truncate(c.index(n));
            }
            let s = String::from_utf8_lossy(&b).into_owned();
            match style {
                0 => s,
                1 => s.replace('\n', "\\n"),
                2 => s.replace('\n', "\r\n"),
                _ => format!("junk before\n{s}\njunk after"),
            }
        })
}

proptest! {
    #![proptest_config(config("prop_keys", 8192))]

    #[test]
    fn arbitrary_text(s in ".*") {
        check(&s, true)?;
    }

    #[test]
    fn pem_shaped_garbage(
        l in label(),
        body in "[A-Za-z0-9+/=\\n]{0,400}",
        l2 in label(),
    ) {
        check(&format!("-----BEGIN {l}-----\n{body}\n-----END {l2}-----\n"), true)?;
    }

    #[test]
    fn pem_wrapping_random_der(l in label(), der in prop::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let wrapped: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        check(&format!("-----BEGIN {l}-----\n{}\n-----END {l}-----\n", wrapped.join("\n")), true)?;
    }

    #[test]
    fn corrupted_fixtures(s in corrupted()) {
        check(&s, false)?;
    }

    #[test]
    fn corrupted_fixtures_never_echo_key_material(s in corrupted()) {
        check(&s, true)?;
    }
}

/// The shrunk case the fuzzer found: one NUL byte in the BEGIN line's dashes.
#[test]
fn damaged_header_line_does_not_leak_the_key_body() {
    let pem = fixture("ec384_sec1.pem").replacen("KEY-----", "KEY\0----", 1);
    let e = PrivateKey::from_pem(&pem).unwrap_err();
    let body_line = fixture("ec384_sec1.pem")
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains(&body_line[..16]),
        "key material in error: {text}"
    );
}

#[test]
fn fixtures_parse_or_are_refused_as_documented() {
    for name in FIXTURES {
        let r = PrivateKey::from_pem(&fixture(name));
        let refused = name.contains("encrypted") || name.contains("pub");
        assert_eq!(r.is_err(), refused, "{name}: {:?}", r.as_ref().err());
    }
}
