//! How a JSON value reads when inserted into text, as in Kibana, where
//! variables are JavaScript values: strings as they are, numbers as
//! JavaScript prints them (`1.0` is `1`), objects as compact JSON (Kibana
//! gives every object a `toString()` returning `JSON.stringify`), arrays
//! joined with `,` (`Array.prototype.toString`; `{{list.asJSON}}` gives the
//! JSON), null as nothing.

use std::fmt::Write;

use serde_json::{Number, Value};

use crate::escape::json_string;

/// The text of an object, array or scalar (JavaScript's `String(value)`).
pub(crate) fn write_text(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => out.push_str(text),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_text(out, item);
            }
        }
        Value::Object(_) => write_json(out, value),
    }
}

/// Compact JSON, as `JSON.stringify`.
pub(crate) fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(_) | Value::Number(_) => write_text(out, value),
        Value::String(text) => {
            out.push('"');
            json_string(out, text);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push('"');
                json_string(out, key);
                out.push_str("\":");
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Integers exactly (JavaScript would round those beyond 2^53, which helps
/// no one); other numbers as JavaScript's `Number.prototype.toString`.
pub(crate) fn write_number(out: &mut String, number: &Number) {
    // Writing to a String cannot fail.
    if let Some(integer) = number.as_i64() {
        let _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        let _ = write!(out, "{integer}");
    } else if let Some(float) = number.as_f64() {
        write_js_double(out, float);
    }
}

/// ECMAScript's Number::toString(10): the shortest digits that round-trip
/// (Rust's `{:e}` gives those too), laid out in plain notation when the
/// decimal exponent is in -6..21 and in `1.5e+21` notation otherwise.
fn write_js_double(out: &mut String, float: f64) {
    if float == 0.0 {
        out.push('0'); // -0 too
        return;
    }
    if !float.is_finite() {
        // JSON has no such numbers; kept for completeness.
        out.push_str(if float.is_nan() {
            "NaN"
        } else if float > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    if float < 0.0 {
        out.push('-');
    }
    let scientific = format!("{:e}", float.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("{:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.as_str();
    let count = digits.len() as i32;
    // The value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    if count <= point && point <= 21 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (point - count) as usize));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(point as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if exponent >= 0 { '+' } else { '-' };
        let _ = write!(out, "e{sign}{}", exponent.abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(float: f64) -> String {
        let mut out = String::new();
        write_js_double(&mut out, float);
        out
    }

    #[test]
    fn doubles_print_as_javascript_does() {
        let cases = [
            (1.0, "1"),
            (-1.0, "-1"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (100.0, "100"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (0.0000001, "1e-7"),
            (1.2345e-7, "1.2345e-7"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.3333333333333333, "0.3333333333333333"),
        ];
        for (float, expected) in cases {
            assert_eq!(js(float), expected, "{float:e}");
        }
    }
}
