// An impl block's `err` skips the methods that return no `Result`, but an
// `err` written on the method itself is checked as on a function: the
// error points at that `err`.
struct SearchResult {
    hits: usize,
}

struct Catalog;

#[o11y::observe(err)]
impl Catalog {
    fn count(&self) -> SearchResult {
        SearchResult { hits: 0 }
    }

    #[observe(err)]
    fn search(&self, query: &str) -> SearchResult {
        SearchResult { hits: query.len() }
    }
}

fn main() {
    let _ = (Catalog.count().hits, Catalog.search("shoes").hits);
}
