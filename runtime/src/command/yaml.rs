//! A YAML writer for the rule files the `rules` command writes: block
//! mappings and sequences, every string double-quoted as JSON quotes it
//! (a JSON string is a YAML double-quoted scalar), so that no value, a
//! PromQL expression or a route, is ever read as YAML syntax.

/// A YAML value.
#[derive(Debug, Clone)]
pub(super) enum Yaml {
    /// A mapping, in the order given.
    Map(Vec<(&'static str, Yaml)>),
    List(Vec<Yaml>),
    Str(String),
}

impl Yaml {
    pub(super) fn str(text: impl Into<String>) -> Yaml {
        Yaml::Str(text.into())
    }

    /// The document, ending in a newline.
    pub(super) fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            Yaml::Map(entries) => {
                for (key, value) in entries {
                    push_indent(out, indent);
                    out.push_str(key);
                    out.push(':');
                    value.write_after_key(out, indent);
                }
            }
            Yaml::List(items) => {
                for item in items {
                    push_indent(out, indent);
                    out.push('-');
                    match item {
                        // The first entry on the dash's line, the rest below it.
                        Yaml::Map(entries) if !entries.is_empty() => {
                            let mut first = String::new();
                            item.write(&mut first, indent + 2);
                            out.push(' ');
                            out.push_str(first.trim_start());
                        }
                        _ => item.write_after_key(out, indent),
                    }
                }
            }
            Yaml::Str(text) => {
                out.push_str(&quote(text));
                out.push('\n');
            }
        }
    }

    /// After `key:` or `-`: a scalar on the same line, a collection below.
    fn write_after_key(&self, out: &mut String, indent: usize) {
        match self {
            Yaml::Str(text) => {
                out.push(' ');
                out.push_str(&quote(text));
                out.push('\n');
            }
            Yaml::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
            Yaml::List(items) if items.is_empty() => out.push_str(" []\n"),
            collection => {
                out.push('\n');
                collection.write(out, indent + 2);
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_collections_are_indented_and_strings_quoted() {
        let document = Yaml::Map(vec![(
            "groups",
            Yaml::List(vec![Yaml::Map(vec![
                ("name", Yaml::str("a")),
                (
                    "rules",
                    Yaml::List(vec![Yaml::Map(vec![
                        ("alert", Yaml::str("X")),
                        ("expr", Yaml::str("up{job=\"a\"} == 0")),
                        (
                            "labels",
                            Yaml::Map(vec![("severity", Yaml::str("warning"))]),
                        ),
                    ])]),
                ),
                ("empty", Yaml::List(Vec::new())),
            ])]),
        )]);
        assert_eq!(
            document.to_text(),
            "groups:\n\
             \x20 - name: \"a\"\n\
             \x20   rules:\n\
             \x20     - alert: \"X\"\n\
             \x20       expr: \"up{job=\\\"a\\\"} == 0\"\n\
             \x20       labels:\n\
             \x20         severity: \"warning\"\n\
             \x20   empty: []\n"
        );
    }
}
