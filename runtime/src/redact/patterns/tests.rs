use super::*;

const R: &str = "[REDACTED]";

fn defaults() -> ValueRule {
    ValueRule::new(&[]).expect("no custom pattern")
}

fn scrubbed(rule: &ValueRule, text: &str) -> (String, Vec<Rule>) {
    let mut rules = Vec::new();
    let out = rule.scrub(text, R, |r| rules.push(r));
    (out.unwrap_or_else(|| text.to_owned()), rules)
}

#[track_caller]
fn assert_scrubs(text: &str, expected: &str, rule: Rule) {
    let (out, rules) = scrubbed(&defaults(), text);
    assert_eq!(out, expected, "{text}");
    assert_eq!(rules, [rule], "{text}");
}

#[track_caller]
fn assert_keeps(text: &str) {
    let (out, rules) = scrubbed(&defaults(), text);
    assert_eq!(out, text);
    assert!(rules.is_empty(), "{text}: {rules:?}");
}

#[test]
fn every_builtin_compiles() {
    assert_eq!(BUILTINS.len(), BuiltinPattern::ALL.len());
}

#[test]
fn email_addresses() {
    let email = Rule::Pattern(BuiltinPattern::Email);
    assert_scrubs(
        "mail ada.lovelace+tag@example.co.uk now",
        "mail [REDACTED] now",
        email,
    );
    assert_scrubs("<ADA@EXAMPLE.COM>", "<[REDACTED]>", email);
    assert_keeps("user@localhost");
    assert_keeps("@handle and a@b");
}

#[test]
fn card_numbers_that_pass_the_luhn_check() {
    let card = Rule::Pattern(BuiltinPattern::CardNumber);
    assert_scrubs("card 4111111111111111.", "card [REDACTED].", card);
    assert_scrubs("4111 1111 1111 1111", R, card);
    assert_scrubs("4111-1111-1111-1111", R, card);
    assert_scrubs("amex 3782 822463 10005", "amex [REDACTED]", card);
    assert_scrubs("card4111111111111111x", "card[REDACTED]x", card);
    // Luhn fails, within a longer number, too short.
    assert_keeps("4111111111111112");
    assert_keeps("order 41111111111111110000 shipped");
    // After other groups of digits that fail the check.
    assert_scrubs(
        "1234 5678 9012 4111 1111 1111 1111",
        "1234 5678 9012 [REDACTED]",
        card,
    );
    assert_keeps("12345678901");
    assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
    assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
}

#[test]
fn jwts_bearer_credentials_and_aws_keys() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.abc_DEF-123";
    assert_scrubs(
        &format!("token={jwt}; rest"),
        "token=[REDACTED]; rest",
        Rule::Pattern(BuiltinPattern::Jwt),
    );
    assert_scrubs(
        "Authorization: Bearer abc.DEF-123~+/xyz==",
        "Authorization: Bearer [REDACTED]",
        Rule::Pattern(BuiltinPattern::Bearer),
    );
    assert_scrubs(
        "BEARER\tt0k3n",
        "BEARER\t[REDACTED]",
        Rule::Pattern(BuiltinPattern::Bearer),
    );
    assert_scrubs(
        "Bearer abcdefghijklmnopqrstuvwxyz",
        "Bearer [REDACTED]",
        Rule::Pattern(BuiltinPattern::Bearer),
    );
    assert_keeps("the bearer of bad news, the bearer documents");
    assert_scrubs(
        "key AKIAIOSFODNN7EXAMPLE used",
        "key [REDACTED] used",
        Rule::Pattern(BuiltinPattern::AwsAccessKey),
    );
    assert_keeps("XAKIAIOSFODNN7EXAMPLE");
    assert_keeps("AKIA-short");
}

#[test]
fn pem_private_keys_whole_or_cut() {
    let pk = Rule::Pattern(BuiltinPattern::PrivateKey);
    assert_scrubs(
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK==\n-----END RSA PRIVATE KEY-----\nafter",
        "key:\n[REDACTED]\nafter",
        pk,
    );
    assert_scrubs("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", R, pk);
    assert_keeps("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
}

#[test]
fn us_ssns_as_issued() {
    let ssn = Rule::Pattern(BuiltinPattern::UsSsn);
    assert_scrubs("ssn 123-45-6789 on file", "ssn [REDACTED] on file", ssn);
    for kept in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
    ] {
        assert_keeps(kept);
    }
    assert_keeps("2024-123-45-6789");
    assert_keeps("on 2024-01-05");
}

#[test]
fn phone_numbers_only_when_turned_on() {
    let text = "call +1 415-555-0100 or (415) 555 0100";
    assert_keeps(text);
    let rule = ValueRule::new(&[RedactionPattern::On(BuiltinPattern::Phone)]).expect("compiles");
    let (out, rules) = scrubbed(&rule, text);
    assert_eq!(out, "call [REDACTED] or [REDACTED]");
    assert_eq!(rules.len(), 2);
}

#[test]
fn builtins_turned_off_and_custom_patterns() {
    let rule = ValueRule::new(&[
        RedactionPattern::Off(BuiltinPattern::Email),
        RedactionPattern::Custom(r"ord-[0-9]{6}".to_owned()),
        RedactionPattern::Custom(r"pin=([0-9]+)".to_owned()),
    ])
    .expect("compiles");
    let (out, rules) = scrubbed(&rule, "ada@example.com ord-123456 pin=1234");
    assert_eq!(out, "ada@example.com [REDACTED] pin=[REDACTED]");
    assert_eq!(rules, [Rule::Custom, Rule::Custom]);

    let (source, error) =
        ValueRule::new(&[RedactionPattern::Custom("(unclosed".to_owned())]).unwrap_err();
    assert_eq!(source, "(unclosed");
    assert!(error.to_string().contains("unclosed"));
}

#[test]
fn the_scan_finds_each_mark_and_nothing_in_plain_text() {
    let all = BuiltinPattern::ALL.iter().fold(0, |bits, p| bits | bit(*p));
    assert_eq!(candidates(b"GET /orders/{id} 200 in 12 ms"), 0);
    assert_eq!(candidates("été ünïcode".as_bytes()), 0);
    assert_eq!(candidates(b"a@b"), bit(BuiltinPattern::Email));
    assert_eq!(candidates(b"xeyJ"), bit(BuiltinPattern::Jwt));
    assert_eq!(candidates(b"Jey e J"), 0, "a J after ey only");
    assert_eq!(candidates(b"BeArEr "), bit(BuiltinPattern::Bearer));
    assert_eq!(candidates(b"ASIA"), bit(BuiltinPattern::AwsAccessKey));
    assert_eq!(candidates(b"-----"), bit(BuiltinPattern::PrivateKey));
    assert_eq!(candidates(b"123456789"), bit(BuiltinPattern::UsSsn));
    assert_eq!(candidates(b"123-45-6789"), bit(BuiltinPattern::UsSsn));
    assert_eq!(
        candidates(b"(415) 555-0100"),
        bit(BuiltinPattern::UsSsn) | bit(BuiltinPattern::Phone)
    );
    // Hex ids, UUIDs, timestamps: many digits, never enough together.
    for id in [
        "9e5350f5111ab8a8f4a59419e03fb26e",
        "3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c",
        "2024-01-05T10:11:12.123456Z",
        "10.20.30.40:8080 at 12:34:56",
    ] {
        assert_eq!(candidates(id.as_bytes()), 0, "{id}");
    }
    assert_eq!(candidates(b"1234567890123 a@b eyJ bearer AKIA -----"), all);
    // A mark cut at the end of the text.
    assert_eq!(candidates(b"ey"), 0);
    assert_eq!(candidates(b"bear"), 0);
    assert_eq!(candidates(b"AKI"), 0);
}
