use super::*;

/// Statement → fingerprint, PostgreSQL and SQLite syntax.
const CASES: &[(&str, &str)] = &[
    // Literals
    (
        "SELECT * FROM orders WHERE id = 42",
        "SELECT * FROM orders WHERE id = ?",
    ),
    (
        "SELECT * FROM orders WHERE id=42",
        "SELECT * FROM orders WHERE id = ?",
    ),
    (
        "SELECT name FROM users WHERE email = 'a@b.c'",
        "SELECT name FROM users WHERE email = ?",
    ),
    (
        "SELECT 'it''s', 1.5, .5, 1e10, 2.5E-3",
        "SELECT ?, ?, ?, ?, ?",
    ),
    (
        "SELECT * FROM t WHERE a = -5 AND b = +3",
        "SELECT * FROM t WHERE a = ? AND b = ?",
    ),
    ("SELECT a - 5, a-5 FROM t", "SELECT a - ?, a - ? FROM t"),
    (
        "SELECT * FROM t WHERE flag = TRUE OR other = false",
        "SELECT * FROM t WHERE flag = ? OR other = ?",
    ),
    (
        "SELECT * FROM t WHERE deleted_at IS NULL",
        "SELECT * FROM t WHERE deleted_at IS NULL",
    ),
    ("SELECT 0x1F, 0XFF, 1_000_000", "SELECT ?, ?, ?"),
    (
        "SELECT E'line\\nbreak\\'s', N'national', U&'d\\0061t'",
        "SELECT ?, ?, ?",
    ),
    ("SELECT B'0101', X'DEADBEEF', x'00'", "SELECT ?, ?, ?"),
    // IN lists of any element, of any length, are one.
    (
        "SELECT * FROM t WHERE id IN ($1::uuid, $2::uuid) AND sku IN (lower('A'), NULL)",
        "SELECT * FROM t WHERE id IN (?) AND sku IN (?)",
    ),
    (
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 3) OR (a, b) IN ((1, 2))",
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = ?) OR (a, b) IN (?)",
    ),
    (
        "SELECT * FROM t WHERE a IN (b, c)",
        "SELECT * FROM t WHERE a IN (b, c)",
    ),
    // MySQL's backslash escapes: no part of the value is read as SQL.
    (
        "SELECT * FROM users WHERE name = 'O\\'Brien' AND pw = 'hunter2'",
        "SELECT * FROM users WHERE name = ? AND pw = ?",
    ),
    (
        "SELECT * FROM t WHERE a = 'x\\'y secret' AND b = 'c\\\\' AND c = 1",
        "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?",
    ),
    ("SELECT $$dollar 'quoted' $1$$", "SELECT ?"),
    ("SELECT $body$ it's $$ nested $body$ AS b", "SELECT ? AS b"),
    (
        "INSERT INTO blobs (data) VALUES (X'0102')",
        "INSERT INTO blobs (data) VALUES (?)",
    ),
    ("SELECT 'unterminated", "SELECT ?"),
    (
        "SELECT '2024-01-01'::date, 5::int",
        "SELECT ?::date, ?::int",
    ),
    ("SELECT INTERVAL '1 day'", "SELECT INTERVAL ?"),
    // Placeholders
    (
        "SELECT * FROM items WHERE order_id = $1",
        "SELECT * FROM items WHERE order_id = ?",
    ),
    (
        "SELECT * FROM items WHERE order_id = ?",
        "SELECT * FROM items WHERE order_id = ?",
    ),
    (
        "SELECT * FROM items WHERE a = ?1 AND b = ?2",
        "SELECT * FROM items WHERE a = ? AND b = ?",
    ),
    (
        "SELECT * FROM items WHERE a = :order_id AND b = @sku AND c = $name",
        "SELECT * FROM items WHERE a = ? AND b = ? AND c = ?",
    ),
    (
        "UPDATE t SET a = $1, b = $2 WHERE id = $3",
        "UPDATE t SET a = ?, b = ? WHERE id = ?",
    ),
    // IN lists and VALUES rows
    (
        "SELECT * FROM t WHERE id IN (1, 2, 3)",
        "SELECT * FROM t WHERE id IN (?)",
    ),
    (
        "SELECT * FROM t WHERE id IN (1,2,3,4,5,6,7,8)",
        "SELECT * FROM t WHERE id IN (?)",
    ),
    (
        "SELECT * FROM t WHERE id in ($1, $2)",
        "SELECT * FROM t WHERE id in (?)",
    ),
    (
        "SELECT * FROM t WHERE id NOT IN ('a','b')",
        "SELECT * FROM t WHERE id NOT IN (?)",
    ),
    (
        "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))",
        "SELECT * FROM t WHERE (a, b) IN (?)",
    ),
    (
        "SELECT * FROM t WHERE id IN (SELECT order_id FROM items WHERE qty > 3)",
        "SELECT * FROM t WHERE id IN (SELECT order_id FROM items WHERE qty > ?)",
    ),
    (
        "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
        "INSERT INTO t (a, b) VALUES (?, ?)",
    ),
    (
        "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING id",
        "INSERT INTO t (a, b) VALUES (?, ?) RETURNING id",
    ),
    (
        "INSERT INTO t VALUES(1, now()), (2, now())",
        "INSERT INTO t VALUES(?, now())",
    ),
    (
        "SELECT * FROM t WHERE id = ANY($1)",
        "SELECT * FROM t WHERE id = ANY(?)",
    ),
    // Whitespace and comments
    (
        "SELECT   *\n\tFROM   orders\n  WHERE id = 1",
        "SELECT * FROM orders WHERE id = ?",
    ),
    (
        "SELECT * -- all columns\nFROM orders /* the table */ WHERE id = 1",
        "SELECT * FROM orders WHERE id = ?",
    ),
    ("/* app=shop,route=/orders */ SELECT 1", "SELECT ?"),
    (
        "SELECT /* outer /* nested */ still comment */ 1",
        "SELECT ?",
    ),
    (
        "SELECT count(*) FROM orders;",
        "SELECT count(*) FROM orders",
    ),
    (
        "SELECT count( * ) FROM orders ;;",
        "SELECT count(*) FROM orders",
    ),
    // Identifiers kept, quoted ones too
    (
        "SELECT \"Order\".\"Total\" FROM \"Order\" WHERE \"Order\".id = 3",
        "SELECT \"Order\".\"Total\" FROM \"Order\" WHERE \"Order\".id = ?",
    ),
    (
        "SELECT `name` FROM `users` WHERE `id` = 9",
        "SELECT `name` FROM `users` WHERE `id` = ?",
    ),
    (
        "SELECT t1.col2, s.t FROM schema1.t1 JOIN s ON s.id = t1.sid",
        "SELECT t1.col2, s.t FROM schema1.t1 JOIN s ON s.id = t1.sid",
    ),
    (
        "SELECT café FROM menü WHERE prix = 3",
        "SELECT café FROM menü WHERE prix = ?",
    ),
    (
        "SELECT data->>'name', data #> '{a,b}' FROM docs",
        "SELECT data ->> ?, data #> ? FROM docs",
    ),
    (
        "SELECT arr[1], arr[2:3] FROM t",
        "SELECT arr[?], arr[? : ?] FROM t",
    ),
    (
        "SELECT * FROM t WHERE a <> 1 AND b != 2 AND c <= 3",
        "SELECT * FROM t WHERE a <> ? AND b != ? AND c <= ?",
    ),
    // Transactions and savepoints (sqlx names them _sqlx_savepoint_N)
    ("SAVEPOINT _sqlx_savepoint_1", "SAVEPOINT ?"),
    ("RELEASE SAVEPOINT _sqlx_savepoint_2", "RELEASE SAVEPOINT ?"),
    (
        "ROLLBACK TO SAVEPOINT _sqlx_savepoint_3",
        "ROLLBACK TO SAVEPOINT ?",
    ),
    (
        "SELECT release FROM versions",
        "SELECT release FROM versions",
    ),
    ("BEGIN", "BEGIN"),
    // SQLite specifics
    ("PRAGMA foreign_keys = ON", "PRAGMA foreign_keys = ON"),
    (
        "SELECT * FROM t LIMIT 10 OFFSET 20",
        "SELECT * FROM t LIMIT ? OFFSET ?",
    ),
    (
        "INSERT OR REPLACE INTO kv (k, v) VALUES ('a', 1)",
        "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)",
    ),
    (
        "SELECT * FROM [order items] WHERE [qty] > 1",
        "SELECT * FROM [order items] WHERE [qty] > ?",
    ),
    (
        "SELECT json_extract(doc, '$.a') FROM d",
        "SELECT json_extract(doc, ?) FROM d",
    ),
    (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT DEFAULT 'x')",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT DEFAULT ?)",
    ),
];

#[test]
fn statements_have_the_expected_fingerprints() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (sql, expected) in CASES {
        let got = fingerprint(sql);
        if got != *expected {
            failures.push(format!(
                "  {sql:?}\n    expected {expected:?}\n    got      {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fingerprints_are_fixed_points() {
    for (_, expected) in CASES {
        assert_eq!(fingerprint(expected), *expected);
    }
}

#[test]
fn a_savepoint_name_is_a_value_to_the_list_around_it() {
    // The savepoint's name (`SELECT`, `sp`) is a value: the list holds one
    // and folds on the first pass, as it did only when the fingerprint
    // (`IN (RELEASE SAVEPOINT ?]`) was normalised again.
    for sql in [
        "IN ( RELEASE SAVEPOINT SELECT ]",
        "IN ( ; SAVEPOINT SELECT ]",
        "SELECT * FROM t WHERE a IN (b; ROLLBACK TO sp)",
    ] {
        let fp = fingerprint(sql);
        assert_eq!(fingerprint(&fp), fp, "not a fixed point: {sql:?}");
        assert!(fp.ends_with("IN (?)"), "{sql:?} -> {fp:?}");
    }
}

#[test]
fn long_statements_are_cut_at_the_cap() {
    let mut sql = String::from("INSERT INTO t (a) VALUES ");
    while sql.len() < 3 * MAX_STATEMENT_LEN {
        sql.push_str("('é'), ");
    }
    let got = fingerprint(&sql);
    assert_eq!(got, "INSERT INTO t (a) VALUES (?) …");
    // Cut inside a multi-byte character: still a boundary.
    let wide = "é".repeat(MAX_STATEMENT_LEN);
    assert!(fingerprint(&wide).ends_with(" …"));
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    /// Tokens of SQL, valid or not; the literals carry markers that
    /// must never reach a fingerprint.
    fn sqlish_token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("SELECT".to_owned()),
            Just("FROM".to_owned()),
            Just("WHERE".to_owned()),
            Just("IN".to_owned()),
            Just("VALUES".to_owned()),
            Just("SAVEPOINT".to_owned()),
            Just("RELEASE".to_owned()),
            Just("ROLLBACK TO".to_owned()),
            Just("t.col".to_owned()),
            Just("\"Quoted\"".to_owned()),
            Just("`back`".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(";".to_owned()),
            Just("::".to_owned()),
            Just(".".to_owned()),
            Just("-".to_owned()),
            Just("+".to_owned()),
            Just("=".to_owned()),
            Just("->>".to_owned()),
            Just("*".to_owned()),
            Just("--".to_owned()),
            Just("/*".to_owned()),
            Just("*/".to_owned()),
            Just("\n".to_owned()),
            Just("$1".to_owned()),
            Just("?".to_owned()),
            Just(":name".to_owned()),
            Just("$$".to_owned()),
            Just("$tag$".to_owned()),
            Just("'".to_owned()),
            Just("E'".to_owned()),
            Just("\\".to_owned()),
            "[a-z_][a-z0-9_]{0,6}",
            "'SECRET[a-z ]{0,5}'",
            "E'SECRET\\\\'[a-z]{0,3}'",
            "\\$\\$SECRET[a-z ]{0,5}\\$\\$",
            "X'5EC12E7[0-9A-F]{0,4}'",
            "-?9876543[0-9]{0,3}(\\.[0-9]{1,3})?",
        ]
    }

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec((sqlish_token(), prop::bool::ANY), 0..40).prop_map(|tokens| {
            let mut sql = String::new();
            for (token, space) in tokens {
                sql.push_str(&token);
                if space {
                    sql.push(' ');
                }
            }
            sql
        })
    }

    /// A literal (with its marker) stays intact in the soup only when
    /// no stray quote or comment opener was glued to it; count on
    /// literals that are whole tokens of their own.
    fn clean_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(sqlish_token(), 0..40).prop_map(|tokens| {
            tokens
                .into_iter()
                .filter(|t| {
                    !matches!(
                        t.as_str(),
                        "'" | "E'" | "\\" | "$$" | "$tag$" | "--" | "/*" | "*/"
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let sql = String::from_utf8_lossy(&bytes);
            let fp = fingerprint(&sql);
            prop_assert!(fp.len() <= sql.len() * 2 + 8);
        }

        #[test]
        fn token_soups_never_panic_and_are_stable(sql in soup()) {
            let fp = fingerprint(&sql);
            prop_assert!(fp.len() <= sql.len() * 2 + 8);
            prop_assert_eq!(fingerprint(&sql), fp, "not deterministic: {:?}", sql);
        }

        // A fingerprint of well-formed input fingerprints to itself. Not
        // asked of any soup: stray quotes and escapes can lex differently
        // once the literals around them are `?` (e.g. `'E'SECRET\''+- .`).
        #[test]
        fn clean_soups_are_fixed_points(sql in clean_soup()) {
            let fp = fingerprint(&sql);
            prop_assert_eq!(fingerprint(&fp), fp.clone(), "not a fixed point: {:?}", sql);
        }

        #[test]
        fn literals_never_reach_the_fingerprint(sql in clean_soup()) {
            let fp = fingerprint(&sql);
            prop_assert!(!fp.contains("SECRET"), "{:?} -> {:?}", sql, fp);
            prop_assert!(!fp.contains("9876543"), "{:?} -> {:?}", sql, fp);
            prop_assert!(!fp.contains("5EC12E7"), "{:?} -> {:?}", sql, fp);
        }
    }
}
