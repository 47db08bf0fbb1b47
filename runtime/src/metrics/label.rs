//! [`LabelValue`]: what a label parameter of a `#[metric]`'s `labels(..)`
//! method accepts: text, numbers, booleans, and enums that derive it (so a
//! label can only take the values the enum lists).

use std::borrow::Cow;

/// A value a metric label can take.
///
/// ```
/// use o11y_runtime::metrics::LabelValue;
/// assert_eq!("card".label_value(), "card");
/// assert_eq!(404_u16.label_value(), "404");
/// assert_eq!(true.label_value(), "true");
/// ```
///
/// With the `o11y` crate, `#[derive(o11y::LabelValue)]` implements it for a
/// fieldless enum: each variant's name in snake_case, or `#[label = "..."]`.
pub trait LabelValue {
    /// The label value as exposed.
    fn label_value(&self) -> Cow<'_, str>;
}

impl LabelValue for str {
    fn label_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl LabelValue for String {
    fn label_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl LabelValue for Cow<'_, str> {
    fn label_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    fn label_value(&self) -> Cow<'_, str> {
        (**self).label_value()
    }
}

impl LabelValue for bool {
    fn label_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}

macro_rules! integer_label_values {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            fn label_value(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
integer_label_values!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);
