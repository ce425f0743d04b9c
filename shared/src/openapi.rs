//! OpenAPI schemas written by hand, for the types whose JSON form is hand-written (their serde impls); every
//! other type the API sends or receives derives `utoipa::ToSchema` next to its definition.

use crate::domain::DayOfMonth;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// What [`DayOfMonth`]'s `Deserialize` accepts as a string: `last` in any case, or a day number (surrounding
/// spaces and leading zeros allowed).
const DAY_OF_MONTH_TEXT: &str = r"^([Ll][Aa][Ss][Tt]|\s*\+?0*([1-9]|[12][0-9]|3[01])\s*)$";

impl utoipa::PartialSchema for DayOfMonth {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(31)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(DAY_OF_MONTH_TEXT)),
            )
            .description(Some(
                "A day of the month, 1-31, or \"last\". A day the month lacks runs on the month's last day.",
            ))
            .examples([serde_json::json!(15), serde_json::json!("last")])
            .into()
    }
}

impl utoipa::ToSchema for DayOfMonth {}

#[cfg(test)]
mod tests {
    use super::DAY_OF_MONTH_TEXT;
    use crate::domain::DayOfMonth;
    use regex::Regex;

    /// The pattern says exactly which strings the hand-written `Deserialize` accepts.
    #[test]
    fn the_day_of_month_pattern_matches_what_deserializes() {
        let pattern = Regex::new(DAY_OF_MONTH_TEXT).unwrap();
        for text in [
            "last", "LAST", "Last", "1", "31", "07", " 5 ", "+9", "0", "32", "-1", "1.0", "",
            "lastt", " last", "x", "1 5",
        ] {
            let parsed = serde_json::from_value::<DayOfMonth>(serde_json::json!(text)).is_ok();
            assert_eq!(pattern.is_match(text), parsed, "{text:?}");
        }
    }

    /// JSON Schema's `integer` includes `20.0`; so does the day of month.
    #[test]
    fn the_day_of_month_takes_every_json_integer_from_1_to_31() {
        let day = |v: serde_json::Value| serde_json::from_value::<DayOfMonth>(v).ok();
        assert_eq!(day(serde_json::json!(20)), Some(DayOfMonth::Day(20)));
        assert_eq!(day(serde_json::json!(20.0)), Some(DayOfMonth::Day(20)));
        assert_eq!(day(serde_json::json!(31.0)), Some(DayOfMonth::Day(31)));
        for rejected in [
            serde_json::json!(20.5),
            serde_json::json!(0.0),
            serde_json::json!(32),
            serde_json::json!(-1),
        ] {
            assert_eq!(day(rejected.clone()), None, "{rejected}");
        }
    }
}
