//! The quickstart's domain: orders, their items, money in cents, and the
//! validation of a new order's JSON body (which field is wrong, and why).

use serde::{Deserialize, Serialize};

/// An order as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// Assigned by the database.
    pub id: i64,
    /// Who placed it.
    pub customer: String,
    /// `pending` until the background worker confirms it.
    pub status: String,
    /// What was ordered.
    pub items: Vec<Item>,
    /// The sum of the items, as a decimal string (`"44.48"`).
    pub total: Money,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The product's stock-keeping unit, e.g. `A-1`.
    pub sku: String,
    /// How many, at least 1.
    pub quantity: i64,
    /// The price of one.
    pub unit_price: Money,
}

impl Order {
    /// An order with `items`, its total computed.
    pub fn new(id: i64, customer: String, status: String, items: Vec<Item>) -> Self {
        let total = Money(
            items
                .iter()
                .map(|item| item.unit_price.0 * item.quantity)
                .sum(),
        );
        Order {
            id,
            customer,
            status,
            items,
            total,
        }
    }
}

/// An amount in cents, written as a decimal string: money is never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

impl Money {
    /// Parses `"9.99"`, `"10"` or `"0.5"`: digits, and at most two after the
    /// point.
    pub fn parse(text: &str) -> Option<Money> {
        let (units, cents) = match text.split_once('.') {
            Some((units, cents)) if (1..=2).contains(&cents.len()) => (units, cents),
            Some(_) => return None,
            None => (text, "0"),
        };
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(units) || !digits(cents) {
            return None;
        }
        let cents: i64 = if cents.len() == 1 {
            cents.parse::<i64>().ok()? * 10
        } else {
            cents.parse().ok()?
        };
        Some(Money(units.parse::<i64>().ok()? * 100 + cents))
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

// The total travels in a task's payload to the worker, as the same string.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = String::deserialize(deserializer)?;
        Money::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an amount: {text:?}")))
    }
}

/// A validated `POST /orders` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Who places it (trimmed, not empty).
    pub customer: String,
    /// At least one item.
    pub items: Vec<Item>,
}

/// What is wrong with a request body: the field (a path such as
/// `items[0].quantity`, or `body` when it is not JSON at all) and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invalid {
    /// `customer`, `items[0].quantity`, or `body`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Invalid {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

const MAX_ITEMS: usize = 50;
const MAX_QUANTITY: i64 = 1_000;
const MAX_TEXT: usize = 100;

#[derive(Deserialize)]
struct Body {
    customer: String,
    items: Vec<Object<BodyItem>>,
}

/// A `T` read from a JSON object only: serde's derived structs also accept
/// an array of their fields in order (`["ada", [...]]`), which is not the
/// API's shape.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Fields<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(Fields(std::marker::PhantomData))
            .map(Object)
    }
}

#[derive(Deserialize)]
struct BodyItem {
    sku: String,
    quantity: i64,
    unit_price: String,
}

impl NewOrder {
    /// Parses and validates a JSON body such as
    /// `{"customer": "ada", "items": [{"sku": "A-1", "quantity": 2, "unit_price": "9.99"}]}`.
    pub fn from_json(body: &[u8]) -> Result<NewOrder, Invalid> {
        let mut json = serde_json::Deserializer::from_slice(body);
        let body: Object<Body> = serde_path_to_error::deserialize(&mut json).map_err(|error| {
            let inner = error.inner();
            if inner.is_syntax() || inner.is_eof() {
                let at = format!(" (line {}, column {})", inner.line(), inner.column());
                let message = strip_position(&inner.to_string());
                return Invalid::new("body", format!("not valid JSON: {message}{at}"));
            }
            let path = error.path().to_string();
            let message = inner.to_string();
            // serde reports a missing or repeated field at its parent's path.
            let named = message
                .strip_prefix("missing field `")
                .or_else(|| message.strip_prefix("duplicate field `"));
            let field = match named {
                Some(rest) => {
                    let name = rest.split('`').next().unwrap_or(rest);
                    if path == "." {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    }
                }
                None if path == "." => "body".to_owned(),
                None => path,
            };
            Invalid::new(field, strip_position(&message))
        })?;
        // One JSON value and nothing after it.
        json.end().map_err(|error| {
            let message = strip_position(&error.to_string());
            Invalid::new("body", format!("not valid JSON: {message}"))
        })?;
        body.0.validate()
    }
}

impl Body {
    fn validate(self) -> Result<NewOrder, Invalid> {
        let customer = self.customer.trim();
        check_text("customer", customer)?;
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(Invalid::new(
                "items",
                format!("must hold 1 to {MAX_ITEMS} items"),
            ));
        }
        let items = self
            .items
            .into_iter()
            .enumerate()
            .map(|(i, Object(item))| {
                let sku = item.sku.trim();
                check_text(&format!("items[{i}].sku"), sku)?;
                if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                    return Err(Invalid::new(
                        format!("items[{i}].quantity"),
                        format!("must be between 1 and {MAX_QUANTITY}"),
                    ));
                }
                let unit_price = Money::parse(&item.unit_price).ok_or_else(|| {
                    Invalid::new(
                        format!("items[{i}].unit_price"),
                        "must be a decimal string with at most two decimals, such as \"9.99\"",
                    )
                })?;
                Ok(Item {
                    sku: sku.to_owned(),
                    quantity: item.quantity,
                    unit_price,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(NewOrder {
            customer: customer.to_owned(),
            items,
        })
    }
}

/// serde_json appends " at line 1 column 42" to its messages: the field
/// path already says where.
/// A name or code: 1 to [`MAX_TEXT`] characters (not bytes), none of them
/// a control character (they would reach logs and terminals as they are).
fn check_text(field: &str, text: &str) -> Result<(), Invalid> {
    let length = text.chars().count();
    if length == 0 || length > MAX_TEXT {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {MAX_TEXT} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(body: &str) -> Invalid {
        NewOrder::from_json(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn a_valid_body_is_parsed_with_prices_in_cents() {
        let order = NewOrder::from_json(
            br#"{"customer": " ada ", "items": [{"sku": "A-1", "quantity": 2, "unit_price": "9.99"},
                {"sku": "B-7", "quantity": 1, "unit_price": "24.5"}]}"#,
        )
        .unwrap();
        assert_eq!(order.customer, "ada");
        assert_eq!(order.items[0].unit_price, Money(999));
        assert_eq!(order.items[1].unit_price, Money(2450));
        let total = Order::new(1, order.customer, "pending".into(), order.items).total;
        assert_eq!(total.to_string(), "44.48");
    }

    #[test]
    fn each_kind_of_mistake_names_its_field() {
        let cases = [
            ("{", "body"),
            ("[]", "body"),
            (r#"{"items": []}"#, "customer"),
            (r#"{"customer": "ada"}"#, "items"),
            (r#"{"customer": "", "items": []}"#, "customer"),
            (r#"{"customer": "ada", "items": []}"#, "items"),
            (r#"{"customer": 7, "items": []}"#, "customer"),
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "quantity": "2", "unit_price": "1"}]}"#,
                "items[0].quantity",
            ),
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "unit_price": "1"}]}"#,
                "items[0].quantity",
            ),
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "quantity": 0, "unit_price": "1"}]}"#,
                "items[0].quantity",
            ),
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "quantity": 1, "unit_price": "1"},
                    {"sku": "B", "quantity": 1, "unit_price": "1.999"}]}"#,
                "items[1].unit_price",
            ),
            (
                r#"{"customer": "ada", "items": [{"sku": " ", "quantity": 1, "unit_price": "1"}]}"#,
                "items[0].sku",
            ),
            // Objects only: serde would take a struct's fields as an array.
            (r#"["ada", [["A-1", 2, "9.99"]]]"#, "body"),
            (
                r#"{"customer": "ada", "items": [["A-1", 2, "9.99"]]}"#,
                "items[0]",
            ),
            // One JSON value, nothing after it.
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "quantity": 1, "unit_price": "1"}]} x"#,
                "body",
            ),
            (
                r#"{"customer": "ada", "items": [{"sku": "A", "quantity": 1, "unit_price": "1"}]}{}"#,
                "body",
            ),
            (
                r#"{"customer": "ada", "customer": "bob", "items": []}"#,
                "customer",
            ),
            (
                r#"{"customer": "ev\u001b[2Jil", "items": [{"sku": "A", "quantity": 1, "unit_price": "1"}]}"#,
                "customer",
            ),
        ];
        for (body, field) in cases {
            let error = invalid(body);
            assert_eq!(error.field, field, "{body}: {error:?}");
            assert!(!error.message.is_empty());
            // serde_json's " at line 1 column 9" suffix is gone: the field
            // says where (the body's own errors say line and column).
            assert!(!error.message.contains(" at line "), "{error:?}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let name = "é".repeat(60);
        let body = format!(
            r#"{{"customer": "{name}", "items": [{{"sku": "A", "quantity": 1, "unit_price": "1"}}]}}"#
        );
        assert_eq!(NewOrder::from_json(body.as_bytes()).unwrap().customer, name);
        let name = "é".repeat(101);
        let body = body.replace(&"é".repeat(60), &name);
        assert_eq!(invalid(&body).field, "customer");
    }

    #[test]
    fn money_parses_and_prints_two_decimals() {
        for (text, cents) in [("0", 0), ("9.99", 999), ("10.5", 1050), ("0.05", 5)] {
            assert_eq!(Money::parse(text), Some(Money(cents)), "{text}");
        }
        for text in [
            "",
            ".5",
            "5.",
            "1.234",
            "-1",
            "1e3",
            "9,99",
            "9999999999999",
        ] {
            assert_eq!(Money::parse(text), None, "{text}");
        }
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(4448).to_string(), "44.48");
    }
}
