//! [`FieldValue`]: the value of a field set at run time through the context
//! API ([`crate::tag`], [`crate::span_attribute`], [`crate::log_context`]) and
//! of the span fields that log lines carry.

use std::borrow::Cow;
use std::fmt;

/// A field value: what a span attribute and a JSON log field can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer too large for `i64`... or any `u64`.
    U64(u64),
    /// A float; non-finite values are written as strings in JSON.
    F64(f64),
    /// Text.
    Str(Cow<'static, str>),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(v) => v.fmt(f),
            FieldValue::I64(v) => v.fmt(f),
            FieldValue::U64(v) => v.fmt(f),
            FieldValue::F64(v) => v.fmt(f),
            FieldValue::Str(v) => v.fmt(f),
        }
    }
}

impl From<FieldValue> for opentelemetry::Value {
    fn from(value: FieldValue) -> Self {
        match value {
            FieldValue::Bool(v) => v.into(),
            FieldValue::I64(v) => v.into(),
            FieldValue::U64(v) => {
                i64::try_from(v).map_or_else(|_| v.to_string().into(), Into::into)
            }
            FieldValue::F64(v) => v.into(),
            FieldValue::Str(v) => v.into(),
        }
    }
}

macro_rules! from_via {
    ($variant:ident as $as:ty: $($t:ty),*) => {$(
        impl From<$t> for FieldValue {
            fn from(v: $t) -> Self { FieldValue::$variant(<$as>::from(v)) }
        }
    )*};
}
from_via!(Bool as bool: bool);
from_via!(I64 as i64: i8, i16, i32, i64);
from_via!(U64 as u64: u8, u16, u32, u64);
from_via!(F64 as f64: f32, f64);

impl From<usize> for FieldValue {
    fn from(v: usize) -> Self {
        FieldValue::U64(v as u64)
    }
}
impl From<isize> for FieldValue {
    fn from(v: isize) -> Self {
        FieldValue::I64(v as i64)
    }
}
impl From<&'static str> for FieldValue {
    fn from(v: &'static str) -> Self {
        FieldValue::Str(Cow::Borrowed(v))
    }
}
impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Str(Cow::Owned(v))
    }
}
impl From<&String> for FieldValue {
    fn from(v: &String) -> Self {
        FieldValue::Str(Cow::Owned(v.clone()))
    }
}
impl From<Cow<'static, str>> for FieldValue {
    fn from(v: Cow<'static, str>) -> Self {
        FieldValue::Str(v)
    }
}
