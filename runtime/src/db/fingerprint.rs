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
//!
//! Longer than 500 lines because it is one tokenizer: the lexing states
//! (strings, comments, dollar quotes, numbers, identifiers) and the rules
//! that fold lists share its cursor; split, each part would need the others.

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
    let mut tokens = lex(input);
    mark_savepoint_names(&mut tokens);
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

/// Savepoint names (`SAVEPOINT sp`, `RELEASE [SAVEPOINT] sp`, `ROLLBACK TO
/// [SAVEPOINT] sp`) are generated (`_sqlx_savepoint_3`), so values. They
/// become [`Kind::Value`] before [`render`], not while it writes them out:
/// its rules (an `IN` list with a value in it folds) must see the `?` the
/// fingerprint will show, or normalising the fingerprint again applies
/// them where the first pass did not (`IN (RELEASE SAVEPOINT sp]` gave
/// `IN (RELEASE SAVEPOINT ?]`, and that gave `IN (?)`).
fn mark_savepoint_names(tokens: &mut [Token<'_>]) {
    // Left to right, in place: a word marked as a name is no longer the
    // keyword before another name (`SAVEPOINT release SAVEPOINT sp`), as
    // its `?` is not when the fingerprint is normalised again.
    for i in 0..tokens.len() {
        if names_savepoint(tokens, i)
            && let Some(name) = tokens.get_mut(i + 1)
        {
            name.kind = Kind::Value;
        }
    }
}

/// At `tokens[i]`, a word naming a savepoint follows (`SAVEPOINT sp`,
/// `RELEASE [SAVEPOINT] sp`, `ROLLBACK TO [SAVEPOINT] sp`).
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
        i += 1;
    }
}

#[cfg(test)]
mod tests;
