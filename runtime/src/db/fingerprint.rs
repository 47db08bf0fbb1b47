//! The SQL normaliser: a statement's stable shape, with every literal value
//! replaced by `?`, so that `SELECT * FROM items WHERE order_id = 7` and
//! `... = 8` have one fingerprint and no value ever leaves the process.
//!
//! What it does, in one pass over at most [`MAX_STATEMENT_LEN`] bytes:
//! - literals become `?`: strings (`'..'`, `E'..'`, `N'..'`, `U&'..'`),
//!   bit and hex strings (`B'..'`, `X'..'`), numbers (`42`, `-1.5e3`,
//!   `0x1F`), booleans (`TRUE`, `FALSE`) and dollar-quoted strings
//!   (`$$..$$`, `$tag$..$tag$`);
//! - placeholders are unified to `?`: `$1`, `?`, `?1`, `:name`, `@name`,
//!   `$name`;
//! - `IN (?, ?, ?)` becomes `IN (?)` (any list with a value in it, casts
//!   and calls included, but not a subquery), and `VALUES (..), (..), (..)`
//!   keeps its first row only;
//! - `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` names become `?`;
//! - comments (`--`, nested `/* */`) are dropped, whitespace is folded to
//!   one space between tokens (none inside parentheses, around `.` and `::`,
//!   before `,`), trailing `;` are dropped;
//! - identifiers are kept as written, double-quoted (`"Order"`) and
//!   backquoted ones too: in PostgreSQL a double-quoted string is an
//!   identifier, not a value.
//!
//! Time and memory are linear in the input, which is truncated to
//! [`MAX_STATEMENT_LEN`] bytes (at a character boundary) before any work; a
//! truncated statement's fingerprint ends in ` …`. Any input, valid SQL or
//! not, gives a result: the normaliser never panics.

/// The longest statement normalised, in bytes: 16 KiB. Longer statements
/// (bulk inserts, generated `IN` lists) are cut there first, and their
/// fingerprint ends in ` …`.
pub const MAX_STATEMENT_LEN: usize = 16 * 1024;

/// The fingerprint of a statement: its stable shape, with every literal
/// value replaced by `?`, the same for every run of the same code.
///
/// - literals become `?`: strings (`'..'`, `E'..'`, `N'..'`, `U&'..'`), bit
///   and hex strings (`B'..'`, `X'..'`), numbers (`42`, `-1.5e3`, `0x1F`),
///   booleans (`TRUE`, `FALSE`), dollar-quoted strings (`$$..$$`,
///   `$tag$..$tag$`);
/// - placeholders become `?`: `$1`, `?`, `?1`, `:name`, `@name`, `$name`;
/// - `IN (?, ?, ?)` becomes `IN (?)` (any list with a value in it, not a
///   subquery); `VALUES (..), (..)` keeps its first row; `SAVEPOINT`,
///   `RELEASE` and `ROLLBACK TO` names become `?`;
/// - comments are dropped, whitespace folded to one space between tokens,
///   trailing `;` dropped;
/// - identifiers are kept as written, double-quoted and backquoted ones too.
///
/// Statements longer than [`MAX_STATEMENT_LEN`] are cut there first (the
/// fingerprint then ends in ` …`); time is linear in the input, and any
/// input, valid SQL or not, gives a result.
///
/// ```
/// use o11y_runtime::db::fingerprint;
///
/// assert_eq!(
///     fingerprint("SELECT * FROM items WHERE order_id = 42 AND sku IN ('a', 'b')"),
///     "SELECT * FROM items WHERE order_id = ? AND sku IN (?)"
/// );
/// assert_eq!(
///     fingerprint("select \"Name\" from t where id = $1 -- by id"),
///     "select \"Name\" from t where id = ?"
/// );
/// ```
pub fn fingerprint(sql: &str) -> String {
    let (input, truncated) = truncate(sql);
    let tokens = lex(input);
    let mut out = String::with_capacity(input.len().min(1024) + 4);
    render(&tokens, &mut out);
    if truncated {
        out.push_str(" …");
    }
    out
}

/// `sql` cut to at most [`MAX_STATEMENT_LEN`] bytes at a character
/// boundary, and whether it was cut.
pub(crate) fn truncate(sql: &str) -> (&str, bool) {
    if sql.len() <= MAX_STATEMENT_LEN {
        return (sql, false);
    }
    let mut end = MAX_STATEMENT_LEN;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    (&sql[..end], true)
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword or an unquoted identifier, kept as written.
    Word,
    /// `"name"` or `` `name` ``, kept as written.
    QuotedIdent,
    /// A literal or a placeholder: written `?`.
    Value,
    /// `(` or `[`.
    Open,
    /// `)` or `]`.
    Close,
    Comma,
    Dot,
    Semicolon,
    DoubleColon,
    /// Any other operator or punctuation, kept as written.
    Op,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    /// Whitespace or a comment came just before it in the source.
    space_before: bool,
}

impl Token<'_> {
    pub(crate) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// A value or a name: what a binary operator can follow.
    fn is_operand(&self) -> bool {
        match self.kind {
            Kind::Value | Kind::QuotedIdent => true,
            Kind::Close => self.text == ")" || self.text == "]",
            Kind::Word => !is_keyword_before_value(self.text),
            _ => false,
        }
    }
}

/// Words after which `-5` is a negative number, not a subtraction.
fn is_keyword_before_value(word: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "SELECT", "WHERE", "AND", "OR", "NOT", "WHEN", "THEN", "ELSE", "RETURN", "VALUES", "IN",
        "BY", "LIMIT", "OFFSET", "SET", "ON", "AS", "IS", "CASE", "BETWEEN", "LIKE", "ILIKE",
        "HAVING", "ANY", "ALL", "SOME", "DEFAULT", "INTERVAL", "DISTINCT", "FETCH", "END",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_operator_char(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'<'
            | b'>'
            | b'='
            | b'~'
            | b'!'
            | b'@'
            | b'#'
            | b'%'
            | b'^'
            | b'&'
            | b'|'
    )
}

/// Splits `sql` into tokens, dropping whitespace and comments. Every token
/// boundary is at an ASCII byte or at the end, so each `text` is a valid
/// `&str` slice of `sql`.
pub(crate) fn lex(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens: Vec<Token<'_>> = Vec::with_capacity(bytes.len() / 4 + 1);
    let mut i = 0;
    let mut space = false;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                space = true;
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find_byte(bytes, i + 2, b'\n').map_or(bytes.len(), |nl| nl + 1);
                space = true;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i + 2);
                space = true;
                continue;
            }
            b'\'' => {
                i = skip_string(bytes, i + 1);
                Kind::Value
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i + 1, b, false);
                Kind::QuotedIdent
            }
            b'0'..=b'9' => {
                i = skip_number(bytes, i);
                Kind::Value
            }
            // `.5`, but not `t.5` (a name glued to it).
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (space
                    || !tokens.last().is_some_and(|t| {
                        matches!(t.kind, Kind::Word | Kind::QuotedIdent | Kind::Close)
                    })) =>
            {
                i = skip_number(bytes, i);
                Kind::Value
            }
            b'$' => {
                let (end, kind) = dollar(bytes, i);
                i = end;
                kind
            }
            b'?' => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                Kind::Value
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                Kind::DoubleColon
            }
            b':' | b'@' if bytes.get(i + 1).is_some_and(|&n| is_ident_start(n)) => {
                i = skip_ident(bytes, i + 1);
                Kind::Value
            }
            b'(' | b'[' => {
                i += 1;
                Kind::Open
            }
            b')' | b']' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b';' => {
                i += 1;
                Kind::Semicolon
            }
            b'.' => {
                i += 1;
                Kind::Dot
            }
            _ if is_ident_start(b) => {
                i = skip_ident(bytes, i);
                let word = &bytes[start..i];
                match (word, bytes.get(i)) {
                    // E'..', B'..', X'..', N'..'
                    ([p], Some(b'\''))
                        if matches!(p.to_ascii_uppercase(), b'E' | b'B' | b'X' | b'N') =>
                    {
                        i = skip_string(bytes, i + 1);
                        Kind::Value
                    }
                    // U&'..'
                    ([p], Some(b'&'))
                        if p.eq_ignore_ascii_case(&b'U') && bytes.get(i + 1) == Some(&b'\'') =>
                    {
                        i = skip_string(bytes, i + 2);
                        Kind::Value
                    }
                    _ if word.eq_ignore_ascii_case(b"TRUE")
                        || word.eq_ignore_ascii_case(b"FALSE") =>
                    {
                        Kind::Value
                    }
                    _ => Kind::Word,
                }
            }
            _ if is_operator_char(b) => {
                i += 1;
                while let Some(&next) = bytes.get(i) {
                    let starts_comment = (next == b'-' && bytes.get(i + 1) == Some(&b'-'))
                        || (next == b'/' && bytes.get(i + 1) == Some(&b'*'));
                    // `=-5`: the sign belongs to the number.
                    let sign_of_number = matches!(next, b'-' | b'+')
                        && bytes
                            .get(i + 1)
                            .is_some_and(|d| d.is_ascii_digit() || *d == b'.');
                    if !is_operator_char(next) || starts_comment || sign_of_number {
                        break;
                    }
                    i += 1;
                }
                Kind::Op
            }
            _ => {
                // Any other character, one at a time (whole, if not ASCII).
                i += sql
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                Kind::Op
            }
        };
        let Some(text) = sql.get(start..i.min(bytes.len())) else {
            break;
        };
        i = i.min(bytes.len());
        let mut space_before = space;
        if kind == Kind::Value
            && is_number(text)
            && let Some(sign_space) = fold_sign(&mut tokens, space)
        {
            space_before = sign_space;
        }
        tokens.push(Token {
            kind,
            text,
            space_before,
        });
        space = false;
    }
    tokens
}

fn is_number(text: &str) -> bool {
    text.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
}

/// A `-` or `+` glued to the number that follows is its sign when what
/// precedes the sign is not an operand (`= -5`, `(-5`, `SELECT -5`): the
/// sign is dropped, so that `-5` and `5` have one fingerprint. Returns the
/// dropped sign's spacing, which the number takes over.
fn fold_sign(tokens: &mut Vec<Token<'_>>, space_after_sign: bool) -> Option<bool> {
    let sign = tokens.last()?;
    if space_after_sign || sign.kind != Kind::Op || !(sign.text == "-" || sign.text == "+") {
        return None;
    }
    let before = tokens.len().checked_sub(2).and_then(|i| tokens.get(i));
    if before.is_some_and(Token::is_operand) {
        return None;
    }
    tokens.pop().map(|sign| sign.space_before)
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|p| from + p)
}

/// Past a `/* */` comment starting after its `/*`; nested comments count
/// (PostgreSQL); an unterminated comment runs to the end.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 1usize;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past a string literal whose opening `'` was just before `i`. A `\`
/// escapes the next byte whatever the dialect: MySQL's `'O\'Brien'` (and
/// PostgreSQL's `E'..'`) must not end at the escaped quote, or the rest of
/// the string would be read as SQL and its words kept in the fingerprint.
/// The price, in PostgreSQL's standard strings only: a string ending in a
/// backslash (`'C:\'`) runs on to the next quote, and more of the statement
/// becomes one `?`; more is hidden, nothing leaks.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    skip_quoted(bytes, i, b'\'', true)
}

/// Past a quoted string or identifier whose opening quote was just before
/// `i`; a doubled quote is an escaped quote, and with `backslash`, so is
/// `\` followed by anything. Unterminated: to the end.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    while let Some(&b) = bytes.get(i) {
        if backslash && b == b'\\' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn skip_ident(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|&b| is_ident_char(b)) {
        i += 1;
    }
    i
}

/// Past a number: `0x1F`, `1_000`, `1.5`, `.5`, `1e-3`; letters glued to
/// it (`1abc`) are taken along, so they never become an identifier.
fn skip_number(bytes: &[u8], mut i: usize) -> usize {
    let digits = |mut i: usize, hex: bool| {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'_' || (hex && b.is_ascii_hexdigit()))
        {
            i += 1;
        }
        i
    };
    if bytes.get(i) == Some(&b'0') && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
        i = digits(i + 2, true);
    } else {
        i = digits(i, false);
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1) != Some(&b'.') {
            i = digits(i + 1, false);
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
            if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
                i = digits(i + 1 + sign, false);
            }
        }
    }
    skip_ident(bytes, i)
}

/// A token starting with `$`: a dollar-quoted string (`$$..$$`,
/// `$tag$..$tag$`), a placeholder (`$1`, `$name`), or an operator.
fn dollar(bytes: &[u8], i: usize) -> (usize, Kind) {
    let after = i + 1;
    if bytes.get(after).is_some_and(u8::is_ascii_digit) {
        let mut end = after;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        return (end, Kind::Value);
    }
    // The tag: letters, digits, `_` (not `$`), not starting with a digit.
    let mut tag_end = after;
    while bytes
        .get(tag_end)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
    {
        tag_end += 1;
    }
    if bytes.get(tag_end) == Some(&b'$') {
        let delimiter = &bytes[i..=tag_end];
        let body = tag_end + 1;
        if let Some(close) = find_slice(bytes, body, delimiter) {
            return (close + delimiter.len(), Kind::Value);
        }
    }
    if tag_end > after {
        return (tag_end, Kind::Value);
    }
    (after, Kind::Op)
}

fn find_slice(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let haystack = bytes.get(from..)?;
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// For each token, the index of its matching bracket, or `usize::MAX`.
fn partners(tokens: &[Token<'_>]) -> Vec<usize> {
    let mut partner = vec![usize::MAX; tokens.len()];
    let mut open = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::Open => open.push(i),
            Kind::Close => {
                if let Some(o) = open.pop() {
                    partner[o] = i;
                    partner[i] = o;
                }
            }
            _ => {}
        }
    }
    partner
}

/// `tokens[open]` is `(`: its matching `)` when the group is a list with a
/// value in it (`(1, 2)`, `($1::uuid, $2::uuid)`, `(lower($1), NULL)`,
/// `(($1, $2), ($3, $4))`) rather than a subquery (`(SELECT ..)`, `(WITH
/// ..)`, `(VALUES ..)`) or a list of columns: one fingerprint for every
/// length of the list.
fn value_list_end(tokens: &[Token<'_>], partner: &[usize], open: usize) -> Option<usize> {
    let close = *partner.get(open)?;
    if close == usize::MAX || tokens.get(open)?.text != "(" {
        return None;
    }
    let inner = tokens.get(open + 1..close)?;
    let subquery = inner
        .iter()
        .find(|t| t.kind != Kind::Open)
        .is_some_and(|t| t.is_word("SELECT") || t.is_word("WITH") || t.is_word("VALUES"));
    (!subquery && inner.iter().any(|t| t.kind == Kind::Value)).then_some(close)
}

struct Writer<'o> {
    out: &'o mut String,
    last: Option<Kind>,
}

impl Writer<'_> {
    fn push(&mut self, token: &Token<'_>) {
        let text = if token.kind == Kind::Value {
            "?"
        } else {
            token.text
        };
        if let Some(last) = self.last
            && needs_space(last, token)
        {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.last = Some(token.kind);
    }
}

fn needs_space(last: Kind, token: &Token<'_>) -> bool {
    match (last, token.kind) {
        (Kind::Open, _) | (_, Kind::Close | Kind::Comma | Kind::Semicolon) => false,
        (Kind::Dot | Kind::DoubleColon, _) | (_, Kind::Dot | Kind::DoubleColon) => false,
        // A call or a subscript (`count(*)`, `a[1]`) stays glued, as written.
        (Kind::Word | Kind::QuotedIdent | Kind::Close | Kind::Value, Kind::Open) => {
            token.space_before
        }
        _ => true,
    }
}

/// At `tokens[i]`, a word naming a savepoint follows (`SAVEPOINT sp`,
/// `RELEASE [SAVEPOINT] sp`, `ROLLBACK TO [SAVEPOINT] sp`): its name is
/// generated (`_sqlx_savepoint_3`), so a value.
fn names_savepoint(tokens: &[Token<'_>], i: usize) -> bool {
    let statement_start = |j: usize| j == 0 || tokens[j - 1].kind == Kind::Semicolon;
    let token = &tokens[i];
    let next_is_name = tokens.get(i + 1).is_some_and(|t| {
        matches!(t.kind, Kind::Word | Kind::QuotedIdent) && !t.is_word("SAVEPOINT")
    });
    if !next_is_name {
        return false;
    }
    if token.is_word("SAVEPOINT") {
        return statement_start(i)
            || tokens[i - 1].is_word("RELEASE")
            || tokens[i - 1].is_word("TO");
    }
    if token.is_word("RELEASE") {
        return statement_start(i);
    }
    token.is_word("TO") && i > 0 && tokens[i - 1].is_word("ROLLBACK") && statement_start(i - 1)
}

fn render(tokens: &[Token<'_>], out: &mut String) {
    let partner = partners(tokens);
    // Trailing semicolons are not part of the shape.
    let mut end = tokens.len();
    while end > 0 && tokens[end - 1].kind == Kind::Semicolon {
        end -= 1;
    }
    let tokens = &tokens[..end];
    let mut w = Writer { out, last: None };
    // The first row of a VALUES list ends here: the rows after it go.
    let mut values_row_end: Option<usize> = None;
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        if values_row_end.is_some_and(|close| close + 1 == i) {
            values_row_end = None;
            let mut j = i;
            while tokens.get(j).is_some_and(|t| t.kind == Kind::Comma) {
                match tokens.get(j + 1) {
                    Some(t) if t.text == "(" && partner[j + 1] < end => j = partner[j + 1] + 1,
                    // A row cut by truncation, or a dangling comma.
                    Some(t) if t.text == "(" => j = end,
                    None => j = end,
                    Some(_) => break,
                }
            }
            if j != i {
                i = j;
                continue;
            }
        }
        if token.is_word("IN")
            && let Some(close) = value_list_end(tokens, &partner, i + 1)
        {
            w.push(token);
            w.out.push_str(" (?)");
            w.last = Some(Kind::Close);
            i = close + 1;
            continue;
        }
        if token.is_word("VALUES")
            && tokens.get(i + 1).is_some_and(|t| t.text == "(")
            && partner[i + 1] < end
        {
            values_row_end = Some(partner[i + 1]);
        }
        w.push(token);
        if names_savepoint(tokens, i) {
            w.push(&Token {
                kind: Kind::Value,
                text: "?",
                space_before: true,
            });
            i += 2;
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
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
}
