//! What o11y keeps of a statement, computed once per distinct statement
//! text: its fingerprint, the fingerprint's hash (the N+1 detector's key),
//! its operation (`SELECT`) and, when one table is evident, its collection
//! (`orders`) and span name (`SELECT orders`). Kept in a bounded cache so
//! that a statement seen before costs a hash and a lookup, not a
//! normalisation.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use hashbrown::HashMap;

use super::fingerprint::{Kind, Token, fingerprint, lex, truncate};

/// A normalised statement; see the module documentation.
#[derive(Debug)]
pub(crate) struct Statement {
    /// The fingerprint: literals replaced by `?`.
    pub(crate) fingerprint: Arc<str>,
    /// A hash of the fingerprint, the detector's key.
    pub(crate) hash: u64,
    /// `SELECT`, `INSERT`, …: the first keyword, upper-cased; `OTHER` when
    /// the statement does not start with a word.
    pub(crate) operation: Arc<str>,
    /// The one table the statement reads or writes, when evident.
    pub(crate) collection: Option<Arc<str>>,
    /// `{operation} {collection}`, or the operation alone.
    pub(crate) span_name: Arc<str>,
}

impl Statement {
    fn new(sql: &str) -> Statement {
        let fingerprint: Arc<str> = fingerprint(sql).into();
        let tokens = lex(truncate(sql).0);
        let top = top_level(&tokens);
        let command = command(&top);
        let operation: Arc<str> = operation(&tokens, command).into();
        let collection = collection(command).map(Arc::from);
        let span_name = match &collection {
            Some(collection) => format!("{operation} {collection}").into(),
            None => operation.clone(),
        };
        Statement {
            hash: hash_str(&fingerprint),
            fingerprint,
            operation,
            collection,
            span_name,
        }
    }
}

fn hash_str(text: &str) -> u64 {
    HASHER.hash_one(text)
}

const HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x0b11_ddb5);

/// The commands a `WITH` clause leads to.
const COMMANDS: [&str; 6] = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES"];

/// The tokens outside parentheses, each parenthesised group standing as
/// its `(`: a group stands for something other than a name.
fn top_level<'a>(tokens: &[Token<'a>]) -> Vec<Token<'a>> {
    let mut depth = 0usize;
    let mut top = Vec::with_capacity(tokens.len());
    for token in tokens {
        match token.kind {
            Kind::Open => {
                if depth == 0 {
                    top.push(*token);
                }
                depth += 1;
            }
            Kind::Close => depth = depth.saturating_sub(1),
            _ if depth == 0 => top.push(*token),
            _ => {}
        }
    }
    top
}

/// The top-level tokens from the statement's command on: past a `WITH`
/// clause, whose common table expressions are parenthesised, the command
/// is the first of [`COMMANDS`] left at the top level.
fn command<'t, 'a>(top: &'t [Token<'a>]) -> &'t [Token<'a>] {
    if !top.first().is_some_and(|t| t.is_word("WITH")) {
        return top;
    }
    let at = top
        .iter()
        .position(|t| COMMANDS.iter().any(|command| t.is_word(command)))
        .unwrap_or(top.len());
    &top[at..]
}

/// The command's keyword (`WITH .. DELETE` is a `DELETE`, as PostgreSQL's
/// command tag says), upper-cased, at most 32 letters; `OTHER` otherwise.
fn operation(tokens: &[Token<'_>], command: &[Token<'_>]) -> String {
    let first = match command.first() {
        Some(word) if word.kind == Kind::Word => Some(word),
        // `(SELECT 1)`: the first word inside.
        _ => tokens
            .iter()
            .find(|t| t.kind != Kind::Open)
            .filter(|t| t.kind == Kind::Word),
    };
    match first {
        Some(word)
            if word.text.len() <= 32 && word.text.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            word.text.to_ascii_uppercase()
        }
        _ => "OTHER".to_owned(),
    }
}

/// Words after the table that bring in another one.
const OTHER_TABLES: [&str; 7] = [
    "FROM",
    "INTO",
    "USING",
    "JOIN",
    "UNION",
    "INTERSECT",
    "EXCEPT",
];

/// The table of `SELECT .. FROM t`, `INSERT INTO t`, `UPDATE t`, `DELETE
/// FROM t`, as written (`schema.t` included), when the command names
/// exactly one at the top level: no join, no comma-separated list, no
/// second `FROM` (`INSERT .. SELECT`, `UPDATE .. FROM`), `USING` or set
/// operation, and not a function (`FROM generate_series(..)`).
fn collection(command: &[Token<'_>]) -> Option<String> {
    let first = command.first()?;
    let after = if first.is_word("SELECT") || first.is_word("DELETE") {
        "FROM"
    } else if first.is_word("INSERT") {
        "INTO"
    } else if first.is_word("UPDATE") {
        "UPDATE"
    } else {
        return None;
    };
    let at = command.iter().position(|t| t.is_word(after))? + 1;
    let mut rest = command.get(at..)?.iter().peekable();
    if rest.peek().is_some_and(|t| t.is_word("ONLY")) {
        rest.next();
    }
    let mut name = String::new();
    loop {
        let token = rest.next()?;
        if !matches!(token.kind, Kind::Word | Kind::QuotedIdent) {
            return None;
        }
        name.push_str(token.text);
        if rest.peek().is_some_and(|t| t.kind == Kind::Dot) {
            rest.next();
            name.push('.');
            continue;
        }
        break;
    }
    // A call, unless it is an INSERT's column list.
    if after != "INTO" && rest.peek().is_some_and(|t| t.kind == Kind::Open) {
        return None;
    }
    // `t [AS] alias, other`: two tables.
    let mut list = rest.clone();
    if list.peek().is_some_and(|t| t.is_word("AS")) {
        list.next();
    }
    if list
        .peek()
        .is_some_and(|t| t.kind == Kind::Word && !t.is_word("WHERE"))
    {
        list.next();
    }
    if list.peek().is_some_and(|t| t.kind == Kind::Comma) {
        return None;
    }
    let another = rest.any(|t| OTHER_TABLES.iter().any(|word| t.is_word(word)));
    (!another).then_some(name)
}

// ---------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------

/// Statements longer than this are normalised every time rather than
/// cached: keeps the cache's memory bounded (at most `SHARDS *
/// SHARD_CAPACITY * CACHED_LEN` bytes of keys, 16 MiB at worst, typically
/// well under 1 MiB).
const CACHED_LEN: usize = 4096;
const SHARDS: usize = 16;
const SHARD_CAPACITY: usize = 256;

type Shard = Mutex<HashMap<u64, (Box<str>, Arc<Statement>), foldhash::fast::FixedState>>;

static CACHE: [Shard; SHARDS] = [const { Mutex::new(HashMap::with_hasher(HASHER)) }; SHARDS];

/// The statement for `sql`, from the cache when it was seen before.
pub(crate) fn lookup(sql: &str) -> Arc<Statement> {
    if sql.len() > CACHED_LEN {
        return Arc::new(Statement::new(sql));
    }
    let hash = hash_str(sql);
    let shard = &CACHE[(hash >> 60) as usize % SHARDS];
    {
        let map = shard.lock().unwrap_or_else(|e| e.into_inner());
        // The text is compared too: two statements whose hashes collide
        // must not share a fingerprint.
        if let Some((raw, statement)) = map.get(&hash)
            && **raw == *sql
        {
            return statement.clone();
        }
    }
    let statement = Arc::new(Statement::new(sql));
    let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= SHARD_CAPACITY
        && !map.contains_key(&hash)
        && let Some(&victim) = map.keys().next()
    {
        // Any entry: statements built with inlined values would otherwise
        // fill it with texts never seen twice.
        map.remove(&victim);
    }
    map.insert(hash, (sql.into(), statement.clone()));
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_and_collection_are_found_when_evident() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "SELECT * FROM orders WHERE id = 1",
                "SELECT",
                Some("orders"),
            ),
            (
                "select id from public.orders o where o.id = $1",
                "SELECT",
                Some("public.orders"),
            ),
            ("SELECT * FROM \"Order\"", "SELECT", Some("\"Order\"")),
            ("INSERT INTO items (a) VALUES (1)", "INSERT", Some("items")),
            ("UPDATE items SET qty = 2", "UPDATE", Some("items")),
            ("DELETE FROM items WHERE id = 1", "DELETE", Some("items")),
            ("SELECT * FROM a JOIN b ON a.id = b.a", "SELECT", None),
            ("SELECT * FROM a, b", "SELECT", None),
            ("SELECT * FROM a x, b y", "SELECT", None),
            ("SELECT * FROM (SELECT 1) s", "SELECT", None),
            ("SELECT 1", "SELECT", None),
            ("(SELECT 1)", "SELECT", None),
            ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT", Some("x")),
            (
                "WITH RECURSIVE old (id) AS (SELECT id FROM orders WHERE ts < $1) \
                 DELETE FROM orders WHERE id IN (SELECT id FROM old)",
                "DELETE",
                Some("orders"),
            ),
            (
                "WITH a AS (SELECT 1), b AS (SELECT 2) UPDATE t SET v = 1",
                "UPDATE",
                Some("t"),
            ),
            (
                "SELECT * FROM orders AS o, customers AS c WHERE o.cid = c.id",
                "SELECT",
                None,
            ),
            (
                "SELECT * FROM orders o WHERE o.id = 1",
                "SELECT",
                Some("orders"),
            ),
            (
                "SELECT * FROM orders AS o WHERE o.id = 1",
                "SELECT",
                Some("orders"),
            ),
            (
                "SELECT id FROM orders UNION SELECT id FROM archived_orders",
                "SELECT",
                None,
            ),
            ("INSERT INTO archive SELECT * FROM orders", "INSERT", None),
            (
                "INSERT INTO archive (id) VALUES ($1) RETURNING id",
                "INSERT",
                Some("archive"),
            ),
            (
                "UPDATE t SET v = o.v FROM other o WHERE o.id = t.id",
                "UPDATE",
                None,
            ),
            (
                "DELETE FROM t USING other o WHERE o.id = t.id",
                "DELETE",
                None,
            ),
            ("SELECT * FROM generate_series(1, 10)", "SELECT", None),
            (
                "SELECT * FROM ONLY public.orders",
                "SELECT",
                Some("public.orders"),
            ),
            ("BEGIN", "BEGIN", None),
            ("  -- nothing", "OTHER", None),
            ("$1", "OTHER", None),
        ];
        for (sql, op, table) in cases {
            let statement = Statement::new(sql);
            assert_eq!(&*statement.operation, *op, "{sql}");
            assert_eq!(statement.collection.as_deref(), *table, "{sql}");
        }
        assert_eq!(
            &*Statement::new("select * from orders").span_name,
            "SELECT orders"
        );
        assert_eq!(&*Statement::new("BEGIN").span_name, "BEGIN");
    }

    #[test]
    fn the_cache_returns_the_same_statement_and_stays_bounded() {
        let a = lookup("SELECT * FROM cache_test WHERE id = 1");
        let b = lookup("SELECT * FROM cache_test WHERE id = 1");
        assert!(Arc::ptr_eq(&a, &b));
        let c = lookup("SELECT * FROM cache_test WHERE id = 2");
        assert_eq!(a.hash, c.hash, "one fingerprint");
        for i in 0..(SHARDS * SHARD_CAPACITY * 2) {
            lookup(&format!("SELECT * FROM cache_fill WHERE id = {i}"));
        }
        for shard in &CACHE {
            assert!(shard.lock().unwrap().len() <= SHARD_CAPACITY);
        }
        let long = format!("SELECT '{}'", "x".repeat(CACHED_LEN));
        assert_eq!(&*lookup(&long).fingerprint, "SELECT ?");
    }
}
