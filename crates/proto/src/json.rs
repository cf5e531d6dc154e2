//! `google.protobuf.Struct` <-> `serde_json`. Protobuf carries every number as
//! a double; a whole number comes back as a JSON integer so that schema
//! checks such as `port: integer` hold for what a gRPC client sent.

use prost_types::{ListValue, Struct, Value, value::Kind};
use serde_json::{Map, Number, Value as Json};

/// The largest integer a double holds exactly (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

pub fn struct_to_json(s: &Struct) -> Map<String, Json> {
    s.fields
        .iter()
        .map(|(k, v)| (k.clone(), value_to_json(v)))
        .collect()
}

/// `None` (field absent) becomes an empty object.
pub fn opt_struct_to_json(s: Option<&Struct>) -> Map<String, Json> {
    s.map(struct_to_json).unwrap_or_default()
}

pub fn value_to_json(v: &Value) -> Json {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::NumberValue(n)) => number_to_json(*n),
        Some(Kind::StructValue(s)) => Json::Object(struct_to_json(s)),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(value_to_json).collect()),
    }
}

fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT {
        Json::Number(Number::from(n as i64))
    } else {
        // NaN and infinities have no JSON form.
        Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

pub fn json_to_struct(map: &Map<String, Json>) -> Struct {
    Struct {
        fields: map
            .iter()
            .map(|(k, v)| (k.clone(), json_to_value(v)))
            .collect(),
    }
}

pub fn json_to_value(v: &Json) -> Value {
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(json_to_value).collect(),
        }),
        Json::Object(map) => Kind::StructValue(json_to_struct(map)),
    };
    Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_integers_integers() {
        let doc =
            json!({"port": 587, "ratio": 0.5, "tags": ["a", null, true], "nested": {"x": -3}});
        let map = doc.as_object().unwrap();
        let back = struct_to_json(&json_to_struct(map));
        assert_eq!(Json::Object(back), doc);
        assert!(value_to_json(&json_to_value(&json!(587))).is_i64());
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let v = Value {
            kind: Some(Kind::NumberValue(f64::NAN)),
        };
        assert_eq!(value_to_json(&v), Json::Null);
    }
}
