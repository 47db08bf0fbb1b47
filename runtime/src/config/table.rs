//! The machinery behind the key table: [`declare_keys!`], which turns the
//! one declaration of every key (in [`keys`](super::keys)) into the key
//! enum, [`KNOWN_KEYS`](super::KNOWN_KEYS), the typed settings, their
//! parsing, validation, display and storage, each profile's defaults and the
//! builder's setters; and the traits the generated code is written against.
//!
//! The macro lives apart from its one invocation so that the table reads as
//! a table, not as macro rules.
//!
//! Longer than 500 lines because one `macro_rules!` generates every derived
//! piece (the enum, parsing, display, storing, defaults, setters); a macro
//! cannot be split across files without exporting its internal rules.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(test)]
use super::keys::DefaultText;
use super::keys::Kind;
use super::value::Refusal;
use super::{BacktraceMode, Config, LogFormat, NPlusOneMode, OtlpProtocol, Profile};

/// What one key's generated code does; implemented by the marker type of
/// each key (`keys::k::SampleRate`), so per-key behaviour has a name the
/// dispatching `match`es can call without generated function names.
pub(super) trait Def {
    /// The typed value, as a source gives it.
    type Value;
    /// Reads the value written as text (an environment value, a string in
    /// `o11y.toml`).
    fn parse(text: &str) -> Result<Self::Value, Refusal>;
    /// Reads a list key from its items (a TOML array's strings, or one
    /// string split at the key's separator); refuses for other keys.
    fn parse_items(items: &[&str]) -> Result<Self::Value, Refusal>;
    /// What parsing cannot see: ranges, URLs, filters, emptiness.
    fn check(value: &Self::Value) -> Result<(), Refusal>;
    /// The value as messages and `Debug` show it (secrets as `***`).
    fn show(value: &Self::Value, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// Puts the value in its place in the configuration.
    fn store(config: &mut Config, value: Self::Value);
}

/// A key whose profile default is a value (or "unset"), as opposed to one
/// computed from the other sources (service name, log file path).
pub(super) trait HasDefault: Def {
    /// The value, or `Option` of it for a key that is unset by default.
    type Stored;
    fn default(profile: Profile) -> Self::Stored;
    /// The default as the key table shows it.
    #[cfg(test)]
    fn default_text(profile: Profile) -> DefaultText;
}

/// The default of key `K` in `profile`, e.g. `default::<k::SampleRate>(p)`.
pub(super) fn default<K: HasDefault>(profile: Profile) -> K::Stored {
    K::default(profile)
}

/// How error messages show a refused value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Redact {
    /// As written.
    None,
    /// Not at all: `***`.
    Secret,
    /// A URL without the user and password it may carry.
    Credentials,
}

/// A single (non-list) value type: its native TOML kind and how it is shown.
pub(super) trait Scalar {
    const KIND: Kind;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! scalar_by_display {
    ($($ty:ty => $kind:ident),* $(,)?) => {$(
        impl Scalar for $ty {
            const KIND: Kind = Kind::$kind;
            fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}

scalar_by_display! {
    bool => Bool,
    f64 => Number,
    u32 => Integer,
    usize => Integer,
    String => Text,
    SocketAddr => Text,
    Profile => Text,
}

impl Scalar for Duration {
    const KIND: Kind = Kind::Duration;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_duration(*self), f)
    }
}

/// A threshold that may be off (`tracing.keep_slower_than`).
impl Scalar for Option<Duration> {
    const KIND: Kind = Kind::Duration;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(duration) => duration.show(f),
            None => f.write_str("off"),
        }
    }
}

impl Scalar for PathBuf {
    const KIND: Kind = Kind::Text;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.display(), f)
    }
}

impl Scalar for OtlpProtocol {
    const KIND: Kind = Kind::Text;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::Http => "http",
        })
    }
}

impl Scalar for LogFormat {
    const KIND: Kind = Kind::Text;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Console => "console",
            LogFormat::Json => "json",
        })
    }
}

impl Scalar for NPlusOneMode {
    const KIND: Kind = Kind::Text;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Scalar for BacktraceMode {
    const KIND: Kind = Kind::Text;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource attributes: `k=v,k2=v2`, the text form they are read from.
impl Scalar for Vec<(String, String)> {
    const KIND: Kind = Kind::Table;
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{k}={v}")?;
        }
        Ok(())
    }
}

/// Declares every configuration key once. Each entry:
///
/// ```text
/// /// One line of doc.
/// section.key: Type => Variant {
///     env: "O11Y_SECTION_KEY",
///     alias: "OTEL_...",            // optional: a standard variable read as this key
///     also: &[VAR, ...],            // optional: standard variables with their own handling
///     parse: parser,                // or  list: ',' of item_parser,
///     check: |value| ...,           // optional
///     redact: secret,               // optional: secret or credentials
///     expected: "what is allowed",
///     default: [value],             // or [dev: a, prod: b, test: c], [unset], [computed "doc"]
///     store: |config, value| ...,   // optional: else `config.section.key = value`
///     setter: builder_method(arg),  // optional; arg: Type, `arg: into`, `arg: each Item`,
///                                   // `arg: each into Item`
/// }
/// ```
///
/// followed by `qualified { Variant(Qualifier, Type) of Key => store, }`:
/// settings of a key that also carry which part they apply to (one OTLP
/// signal's endpoint), parsed, checked and shown as that key.
///
/// The dotted name is the path of the field in [`Config`], so a key cannot
/// be stored anywhere its name does not say.
macro_rules! declare_keys {
    (
        $(
            #[doc = $doc:literal]
            $first:ident $(. $rest:ident)* : $ty:ty => $Key:ident {
                env: $env:literal,
                $( alias: $alias:literal, )?
                $( also: $also:expr, )?
                $( parse: $parse:expr, )?
                $( list: $sep:literal of $item:expr, )?
                $( check: $check:expr, )?
                $( redact: $redact:ident, )?
                expected: $expected:expr,
                default: [$($default:tt)*],
                $( store: $store:expr, )?
                $( setter: $setter:ident ( $arg:ident $(: $($shape:tt)+ )? ), )?
            }
        )*
        qualified {
            $( $Q:ident($qualifier:ty, $qty:ty) of $QKey:ident => $qstore:expr, )*
        }
    ) => {
        /// A known key, in the order of [`KNOWN_KEYS`], which is also the
        /// order the values of one source are applied in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Key {
            $( $Key, )*
        }

        /// Every configuration key. Resource attributes come before the
        /// service name and version so an explicit name wins over
        /// `service.name` in the attributes of the same source.
        pub const KNOWN_KEYS: &[KnownKey] = &[$(
            KnownKey {
                key: Key::$Key,
                name: concat!(stringify!($first) $(, ".", stringify!($rest))*),
                env: $env,
                alias: declare_keys!(@option $($alias)?),
                also: declare_keys!(@or [$($also)?] &[]),
                kind: declare_keys!(@kind [$($sep)?] $ty),
                redact: declare_keys!(@redact $($redact)?),
                expected: $expected,
                doc: $doc,
            },
        )*];

        /// Marker types, one per key, carrying its [`Def`] (the enum's
        /// variants cannot carry impls of their own).
        pub(super) mod k {
            $( pub(in super::super) struct $Key; )*
        }

        /// One parsed value of one key.
        #[derive(Debug, Clone, PartialEq)]
        pub(super) enum Setting {
            $( $Key($ty), )*
            $( $Q($qualifier, $qty), )*
        }

        $(
            impl Def for k::$Key {
                type Value = $ty;

                fn parse(text: &str) -> Result<$ty, Refusal> {
                    declare_keys!(@parse text [$($parse)?] [$($sep)?])
                }

                fn parse_items(items: &[&str]) -> Result<$ty, Refusal> {
                    declare_keys!(@parse_items items [$($sep $item)?])
                }

                fn check(value: &$ty) -> Result<(), Refusal> {
                    declare_keys!(@check value $ty [$($check)?])
                }

                fn show(value: &$ty, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    declare_keys!(@show value f [$($redact)?] [$($sep)?])
                }

                fn store(config: &mut Config, value: $ty) {
                    declare_keys!(
                        @store config value $ty [$first $(. $rest)*] [$($store)?] [$($default)*]
                    )
                }
            }

            declare_keys!(@default $Key $ty [$($default)*]);
        )*

        impl Setting {
            pub(super) fn key(&self) -> Key {
                match self {
                    $( Setting::$Key(_) => Key::$Key, )*
                    $( Setting::$Q(..) => Key::$QKey, )*
                }
            }
        }

        /// The value as an error message shows a builder argument.
        impl fmt::Display for Setting {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Setting::$Key(value) => <k::$Key as Def>::show(value, f), )*
                    $( Setting::$Q(_, value) => <k::$QKey as Def>::show(value, f), )*
                }
            }
        }

        /// Reads `text` as a value of `key`. Syntax only, plus the items of
        /// a list; the rest is [`check`]ed so builder values go through the
        /// same rules.
        pub(super) fn parse_text(key: Key, text: &str) -> Result<Setting, Refusal> {
            match key {
                $( Key::$Key => <k::$Key as Def>::parse(text).map(Setting::$Key), )*
            }
        }

        /// The value of a list key from its items, each trimmed, empty ones
        /// skipped.
        pub(super) fn parse_list(key: Key, items: &[&str]) -> Result<Setting, Refusal> {
            match key {
                $( Key::$Key => <k::$Key as Def>::parse_items(items).map(Setting::$Key), )*
            }
        }

        /// Checks what parsing cannot: ranges, URLs, filters, emptiness.
        pub(super) fn check(setting: &Setting) -> Result<(), Refusal> {
            match setting {
                $( Setting::$Key(value) => <k::$Key as Def>::check(value), )*
                $( Setting::$Q(_, value) => <k::$QKey as Def>::check(value), )*
            }
        }

        /// Puts a checked setting in its place in `config`.
        pub(super) fn store(config: &mut Config, setting: Setting) {
            match setting {
                $( Setting::$Key(value) => <k::$Key as Def>::store(config, value), )*
                $(
                    Setting::$Q(qualifier, value) => {
                        let store: fn(&mut Config, $qualifier, $qty) = $qstore;
                        store(config, qualifier, value)
                    }
                )*
            }
        }

        /// The default of `key` in `profile` as the key table shows it.
        #[cfg(test)]
        pub(super) fn default_text(key: Key, profile: Profile) -> DefaultText {
            match key {
                $( Key::$Key => declare_keys!(@default_text $Key profile [$($default)*]), )*
            }
        }

        /// The default of `key` in `profile`, when it is a value.
        #[cfg(test)]
        pub(super) fn default_setting(key: Key, profile: Profile) -> Option<Setting> {
            match key {
                $( Key::$Key => declare_keys!(@default_setting $Key profile [$($default)*]), )*
            }
        }

        /// The value of `key` in `config`, read where its dotted name says
        /// (`None` for keys stored by hand or whose default is computed).
        pub(super) fn read(config: &Config, key: Key) -> Option<Setting> {
            match key {
                $(
                    Key::$Key => declare_keys!(
                        @read config $Key [$first $(. $rest)*] [$($store)?] [$($default)*]
                    ),
                )*
            }
        }

        impl ConfigBuilder {
            $(
                declare_keys!(
                    @setter [$( $setter ($arg $(: $($shape)+)?) )?] $Key $doc $env
                    [$first $(. $rest)*] $ty
                );
            )*
        }
    };

    (@option) => { None };
    (@option $value:expr) => { Some($value) };

    (@or [] $default:expr) => { $default };
    (@or [$given:expr] $default:expr) => { $given };

    (@kind [] $ty:ty) => { <$ty as Scalar>::KIND };
    (@kind [$sep:literal] $ty:ty) => { Kind::List };

    (@redact) => { Redact::None };
    (@redact secret) => { Redact::Secret };
    (@redact credentials) => { Redact::Credentials };

    (@parse $text:ident [$parse:expr] []) => {{
        let parse: fn(&str) -> Result<Self::Value, Refusal> = $parse;
        parse($text)
    }};
    (@parse $text:ident [] [$sep:literal]) => {{
        let items: Vec<&str> = $text.split($sep).collect();
        Self::parse_items(&items)
    }};

    (@parse_items $items:ident []) => {{
        let item = $items.iter().copied().map(str::trim).find(|i| !i.is_empty());
        Err(Refusal::because(format!("{:?}: not a list key", item.unwrap_or_default())))
    }};
    (@parse_items $items:ident [$sep:literal $item:expr]) => {
        $items
            .iter()
            .copied()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map($item)
            .collect()
    };

    (@check $value:ident $ty:ty []) => {{
        let _ = $value;
        Ok(())
    }};
    (@check $value:ident $ty:ty [$check:expr]) => {{
        let check: fn(&$ty) -> Result<(), Refusal> = $check;
        check($value)
    }};

    (@show $value:ident $f:ident [secret] []) => {
        $f.write_str(redacted($value))
    };
    (@show $value:ident $f:ident [$($redact:ident)?] []) => {
        Scalar::show($value, $f)
    };
    (@show $value:ident $f:ident [$($redact:ident)?] [$sep:literal]) => {{
        for (i, item) in $value.iter().enumerate() {
            if i > 0 {
                fmt::Write::write_char($f, $sep)?;
            }
            write!($f, "{item}")?;
        }
        Ok(())
    }};

    (@store $config:ident $value:ident $ty:ty [$($path:tt)*] [$store:expr] [$($default:tt)*]) => {{
        let store: fn(&mut Config, $ty) = $store;
        store($config, $value)
    }};
    (@store $config:ident $value:ident $ty:ty [$first:ident $(. $rest:ident)*] [] [unset]) => {
        $config.$first $(. $rest)* = Some($value)
    };
    (@store $config:ident $value:ident $ty:ty [$first:ident $(. $rest:ident)*] [] [$($default:tt)*]) => {
        $config.$first $(. $rest)* = $value
    };

    (@default $Key:ident $ty:ty [dev: $dev:expr, prod: $prod:expr, test: $test:expr]) => {
        impl HasDefault for k::$Key {
            type Stored = $ty;
            fn default(profile: Profile) -> $ty {
                match profile {
                    Profile::Dev => $dev,
                    Profile::Prod => $prod,
                    Profile::Test => $test,
                }
            }
            #[cfg(test)]
            fn default_text(profile: Profile) -> DefaultText {
                DefaultText::Value(Setting::$Key(Self::default(profile)).to_string())
            }
        }
    };
    (@default $Key:ident $ty:ty [unset]) => {
        impl HasDefault for k::$Key {
            type Stored = Option<$ty>;
            fn default(_: Profile) -> Option<$ty> {
                None
            }
            #[cfg(test)]
            fn default_text(_: Profile) -> DefaultText {
                DefaultText::Unset
            }
        }
    };
    (@default $Key:ident $ty:ty [computed $text:literal]) => {};
    (@default $Key:ident $ty:ty [$value:expr]) => {
        declare_keys!(@default $Key $ty [dev: $value, prod: $value, test: $value]);
    };

    (@default_text $Key:ident $profile:ident [computed $text:literal]) => {
        DefaultText::Computed($text)
    };
    (@default_text $Key:ident $profile:ident [$($default:tt)*]) => {
        <k::$Key as HasDefault>::default_text($profile)
    };

    (@default_setting $Key:ident $profile:ident [computed $text:literal]) => { None };
    (@default_setting $Key:ident $profile:ident [unset]) => { None };
    (@default_setting $Key:ident $profile:ident [$($default:tt)*]) => {
        Some(Setting::$Key(<k::$Key as HasDefault>::default($profile)))
    };

    (@read $config:ident $Key:ident [$($path:tt)*] [$store:expr] [$($default:tt)*]) => { None };
    (@read $config:ident $Key:ident [$($path:tt)*] [] [computed $text:literal]) => { None };
    (@read $config:ident $Key:ident [$first:ident $(. $rest:ident)*] [] [unset]) => {
        $config.$first $(. $rest)*.clone().map(Setting::$Key)
    };
    (@read $config:ident $Key:ident [$first:ident $(. $rest:ident)*] [] [$($default:tt)*]) => {
        Some(Setting::$Key($config.$first $(. $rest)*.clone()))
    };

    (@setter [] $($ignored:tt)*) => {};
    (@setter [$setter:ident ($arg:ident $(: $($shape:tt)+)?)] $($rest:tt)*) => {
        declare_keys!(@setter_fn $setter $arg [$($($shape)+)?] $($rest)*);
    };
    (@setter_fn $setter:ident $arg:ident [] $Key:ident $doc:literal $env:literal
        [$first:ident $(. $rest:ident)*] $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($first) $(, ".", stringify!($rest))*, "` (`", $env, "`):", $doc)]
        #[must_use]
        pub fn $setter(self, $arg: $ty) -> Self {
            self.with(Setting::$Key($arg))
        }
    };
    (@setter_fn $setter:ident $arg:ident [into] $Key:ident $doc:literal $env:literal
        [$first:ident $(. $rest:ident)*] $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($first) $(, ".", stringify!($rest))*, "` (`", $env, "`):", $doc)]
        #[must_use]
        pub fn $setter(self, $arg: impl Into<$ty>) -> Self {
            self.with(Setting::$Key($arg.into()))
        }
    };
    (@setter_fn $setter:ident $arg:ident [each into $item:ty] $Key:ident $doc:literal $env:literal
        [$first:ident $(. $rest:ident)*] $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($first) $(, ".", stringify!($rest))*, "` (`", $env, "`):", $doc)]
        ///
        /// Replaces the list of lower sources.
        #[must_use]
        pub fn $setter<I, P>(self, $arg: I) -> Self
        where
            I: IntoIterator<Item = P>,
            P: Into<$item>,
        {
            self.with(Setting::$Key($arg.into_iter().map(Into::into).collect()))
        }
    };
    (@setter_fn $setter:ident $arg:ident [each $item:ty] $Key:ident $doc:literal $env:literal
        [$first:ident $(. $rest:ident)*] $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($first) $(, ".", stringify!($rest))*, "` (`", $env, "`):", $doc)]
        ///
        /// Replaces the list of lower sources.
        #[must_use]
        pub fn $setter(self, $arg: impl IntoIterator<Item = $item>) -> Self {
            self.with(Setting::$Key($arg.into_iter().collect()))
        }
    };
}

pub(super) use declare_keys;
