//! A command's arguments, from `O11Y_COMMAND_ARGS`: split as a POSIX shell
//! splits words (shlex), taken by name (`--json`, `--out DIR` or
//! `--out=DIR`), and anything left over refused with the closest known
//! argument. Why a command could not run to its end: [`Failure`].

use super::ARGS_VAR;

/// Why a command stopped before its end.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An argument it does not take, or a value missing: exit status 2, with
    /// the usage.
    Usage(String),
    /// Its output could not be written (a closed pipe).
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Output(error)
    }
}

/// The arguments not taken yet.
#[derive(Debug)]
pub(crate) struct Args {
    words: Vec<String>,
}

impl Args {
    /// Splits `text`; unbalanced quotes are a usage error.
    pub(crate) fn parse(text: &str) -> Result<Args, String> {
        shlex::split(text)
            .map(|words| Args { words })
            .ok_or_else(|| {
                format!("{ARGS_VAR} {text:?} has an unclosed quote or a trailing backslash")
            })
    }

    /// Whether `--help` (or `-h`) was given.
    pub(crate) fn help(&self) -> bool {
        self.words.iter().any(|w| w == "--help" || w == "-h")
    }

    /// Takes the flag `name` (`--json`): true if it was given.
    pub(crate) fn flag(&mut self, name: &str) -> bool {
        let before = self.words.len();
        self.words.retain(|w| w != name);
        self.words.len() != before
    }

    /// Takes the option `name` and its value (`--out DIR`, `--out=DIR`);
    /// the last one wins.
    pub(crate) fn value(&mut self, name: &str) -> Result<Option<String>, Failure> {
        let mut found = None;
        let mut i = 0;
        while i < self.words.len() {
            let word = &self.words[i];
            if word == name {
                let Some(value) = self.words.get(i + 1).filter(|v| !v.starts_with("--")) else {
                    return Err(Failure::Usage(format!("{name} needs a value")));
                };
                found = Some(value.clone());
                self.words.drain(i..i + 2);
            } else if let Some(value) = word.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                found = Some(value.to_owned());
                self.words.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(found)
    }

    /// Refuses what is left, naming the closest of the arguments the
    /// command takes (`known`).
    pub(crate) fn finish(&self, known: &[&str]) -> Result<(), Failure> {
        let Some(word) = self.words.first() else {
            return Ok(());
        };
        let name = word.split('=').next().unwrap_or(word);
        let suggestion = closest(name, known)
            .map(|close| format!("; did you mean `{close}`?"))
            .unwrap_or_default();
        Err(Failure::Usage(format!(
            "unknown argument `{word}` ({ARGS_VAR}){suggestion}"
        )))
    }
}

/// The name in `known` closest to `wrong`, if one is close enough to be a
/// likely typo.
pub(crate) fn closest<'a>(wrong: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|name| (strsim::jaro_winkler(wrong, name), *name))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_as_a_shell_splits_them() {
        let mut args = Args::parse(r#"--json --out "my dir""#).unwrap();
        assert!(args.flag("--json"));
        assert_eq!(args.value("--out").unwrap().as_deref(), Some("my dir"));
        args.finish(&[]).unwrap();
        assert!(Args::parse("--out 'open").is_err());
    }

    #[test]
    fn values_take_either_form_and_need_a_value() {
        let mut args = Args::parse("--out=a --out b").unwrap();
        assert_eq!(args.value("--out").unwrap().as_deref(), Some("b"));
        let mut args = Args::parse("--out").unwrap();
        assert!(
            matches!(args.value("--out"), Err(Failure::Usage(m)) if m == "--out needs a value")
        );
    }

    #[test]
    fn what_is_left_is_refused_with_the_closest_argument() {
        let args = Args::parse("--jsn").unwrap();
        let Err(Failure::Usage(message)) = args.finish(&["--json"]) else {
            panic!("refused")
        };
        assert_eq!(
            message,
            "unknown argument `--jsn` (O11Y_COMMAND_ARGS); did you mean `--json`?"
        );
        assert_eq!(closest("zzz", &["--json"]), None);
    }
}
