//! Validation of a custom resource against its OpenAPI v3 schema, with kube-openapi's
//! messages: mirrors `validate.SchemaValidator` (`kube-openapi/pkg/validation/validate`:
//! `schema.go`, `type.go`, `formats.go`, `object_validator.go`, `slice_validator.go`,
//! `schema_props.go`, `validator.go`, `values.go`) and apiextensions'
//! `kubeOpenAPIResultToFieldErrors` (`apiserver/validation/validation.go`), which turns each
//! kube-openapi error into a `field.Error`. Entry point: [`validate`].
//!
//! **How a message is built.** kube-openapi names the value by its dotted path (`spec.size`)
//! and writes e.g. `spec.size in body should be greater than or equal to 1`; apiextensions
//! turns that into `spec.size: Invalid value: 0: spec.size in body should be greater than or
//! equal to 1`, except for `required` (`spec.size: Required value`), `enum`
//! (`spec.color: Unsupported value: "pink": supported values: "red", "blue"`), `maxLength`
//! (`Too long: may not be more than 3 bytes`) and `maxItems`/`maxProperties` (`Too many: 3:
//! must have at most 2 items`). `allOf`/`anyOf`/`oneOf`/`not` failures are not field errors in
//! kube-openapi and come out on the `<nil>` path with an empty value.
//!
//! **Order.** Per schema node the validators run in kube-openapi's order: type, junctors,
//! string, format, number, array (items first), enum, object (properties, then required).
//! Properties are visited in key order (Go's map order is random), so messages are
//! deterministic.
//!
//! `x-kubernetes-validations` (CEL) rules are not evaluated.

use super::errors::{ErrorList, go_quote, join_path, render_value};
use super::schema::Additional;
use super::schema::{additional, int_or_string, items, nullable, type_of};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// Validates `value` against `schema` and returns apiextensions' field errors
/// (`apiservervalidation.ValidateCustomResource(fldPath, obj, validator)`).
///
/// `field_prefix` is upstream's `fldPath`: `None` for a custom resource (errors on the value
/// itself then print the nil path `<nil>`), `Some("…default")` when validating a default.
pub fn validate(value: &Value, schema: &JSONSchemaProps, field_prefix: Option<&str>) -> ErrorList {
    validate_at(value, schema, "", field_prefix)
}

/// [`validate`] with kube-openapi's root path set to `root` (upstream's status validator is
/// built with root `status`, so its messages read `status.replicas in body …`).
pub fn validate_at(
    value: &Value,
    schema: &JSONSchemaProps,
    root: &str,
    field_prefix: Option<&str>,
) -> ErrorList {
    let cx = Cx::default();
    let res = validate_node(&cx, root, schema, value);
    let mut out = ErrorList::default();
    for e in res.errors {
        to_field_error(&mut out, e, field_prefix);
    }
    out
}

/// Per-validation state: compiled patterns, so a pattern on the items of a long list is
/// compiled once (upstream compiles the schema into a validator once per CRD version).
#[derive(Default)]
struct Cx {
    patterns: std::cell::RefCell<std::collections::BTreeMap<String, Result<regex::Regex, String>>>,
}

impl Cx {
    /// Whether `data` matches `pattern`; `Err` with the compile error for an invalid one.
    fn matches(&self, pattern: &str, data: &str) -> Result<bool, String> {
        let mut cache = self.patterns.borrow_mut();
        let re = cache
            .entry(pattern.to_string())
            .or_insert_with(|| super::pattern::compile(pattern).map_err(|e| e.to_string()));
        match re {
            Ok(re) => Ok(re.is_match(data)),
            Err(e) => Err(e.clone()),
        }
    }
}

/// kube-openapi's error codes that `kubeOpenAPIResultToFieldErrors` distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    InvalidType,
    Required,
    TooLong,
    Enum,
    MaxItems,
    TooManyProperties,
    /// Any other `*errors.Validation` (minimum, pattern, minItems, …): `field.Invalid`.
    Other,
    /// Not an `*errors.Validation` (the junctor messages): `field.Invalid(fldPath, "", msg)`.
    Composite,
}

#[derive(Clone, Debug)]
struct OError {
    code: Code,
    /// `Validation.Name`: the dotted path, possibly with a leading `.`.
    name: String,
    /// `Validation.Value`, `None` for Go's nil.
    value: Option<Value>,
    /// `Validation.Valid` for TooLong / MaxItems / TooManyProperties: the limit.
    limit: i64,
    /// `Validation.Values` for Enum.
    values: Vec<Value>,
    message: String,
}

impl OError {
    fn new(code: Code, name: &str, value: Option<Value>, message: String) -> Self {
        OError {
            code,
            name: name.to_string(),
            value,
            limit: -1,
            values: Vec::new(),
            message,
        }
    }
}

/// `validate.Result`: errors plus the match count used to pick the "best" failing
/// alternative of an `anyOf`/`oneOf`.
#[derive(Default)]
struct Res {
    errors: Vec<OError>,
    match_count: usize,
}

impl Res {
    fn err(e: OError) -> Res {
        Res {
            errors: vec![e],
            match_count: 0,
        }
    }
    fn merge(&mut self, other: Res) {
        self.errors.extend(other.errors);
        self.match_count += other.match_count;
    }
    fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

fn to_field_error(out: &mut ErrorList, e: OError, prefix: Option<&str>) {
    let base = prefix.unwrap_or("");
    let name = e.name.strip_prefix('.').unwrap_or(&e.name);
    let path = if !e.name.is_empty() && e.name != "." {
        // `fldPath.Child(name)`: always a dot, even before an index (`default.[0]`).
        if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        }
    } else if prefix.is_some() {
        base.to_string()
    } else {
        "<nil>".to_string()
    };
    let value = e.value.clone().unwrap_or(Value::String(String::new()));
    match e.code {
        Code::Required => out.required(path, ""),
        Code::Enum => {
            let supported: Vec<String> = e
                .values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => super::errors::go_json(other),
                })
                .collect();
            let shown = e.value.as_ref().map_or_else(|| "null".into(), render_value);
            out.not_supported(path, shown, &supported);
        }
        Code::TooLong => out.too_long(path, e.limit),
        Code::MaxItems | Code::TooManyProperties => {
            let actual = e.value.as_ref().and_then(Value::as_i64).unwrap_or(-1);
            out.too_many(path, actual, e.limit)
        }
        Code::InvalidType | Code::Other => out.invalid_value(path, &value, &e.message),
        Code::Composite => {
            let p = if prefix.is_some() {
                base.to_string()
            } else {
                "<nil>".to_string()
            };
            out.invalid(p, "\"\"".into(), &e.message)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The schema validator (schema.go)
// ---------------------------------------------------------------------------------------------

/// The JSON type kube-openapi infers for an unstructured value (`schemaInfoForType`): JSON
/// integers decode to `int64`, other numbers to `float64`.
fn sch_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// The Go format kube-openapi infers alongside (`int64`, `float64`).
fn sch_format(v: &Value) -> &'static str {
    match v {
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        _ => "",
    }
}

/// `spec.Schema.Type` after `ConvertJSONSchemaProps`: `x-kubernetes-int-or-string` becomes
/// `[integer, string]`.
fn types_of(s: &JSONSchemaProps) -> Vec<&str> {
    if int_or_string(s) {
        vec!["integer", "string"]
    } else {
        match type_of(s) {
            "" => vec![],
            t => vec![t],
        }
    }
}

/// Formats apiextensions keeps (`StripUnsupportedFormatsPostProcess`); any other format is
/// erased before validation, so it neither checks strings nor takes part in type checks.
const SUPPORTED_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

fn effective_format(s: &JSONSchemaProps) -> &str {
    match s.format.as_deref() {
        Some(f) if SUPPORTED_FORMATS.contains(&f.replace('-', "").as_str()) => f,
        _ => "",
    }
}

/// `SchemaValidator.Validate`.
fn validate_node(cx: &Cx, path: &str, s: &JSONSchemaProps, data: &Value) -> Res {
    let mut result = Res::default();
    if data.is_null() {
        result.merge(type_validator(path, s, data));
        result.merge(common_validator(path, s, data));
        return result;
    }
    let format = effective_format(s);
    let types = types_of(s);
    // typeValidator applies when a type or a format is set.
    if !types.is_empty() || !format.is_empty() {
        result.merge(type_validator(path, s, data));
        result.match_count += 1;
    }
    result.merge(schema_props_validator(cx, path, s, data));
    result.match_count += 1;
    if let Value::String(st) = data {
        result.merge(string_validator(cx, path, s, st));
        result.match_count += 1;
        if !format.is_empty() {
            result.merge(format_validator(path, format, st));
            result.match_count += 1;
        }
    }
    if let Value::Number(_) = data {
        result.merge(number_validator(path, s, data));
        result.match_count += 1;
    }
    if let Value::Array(list) = data {
        result.merge(slice_validator(cx, path, s, list));
        result.match_count += 1;
    }
    result.merge(common_validator(path, s, data));
    result.match_count += 1;
    if let Value::Object(map) = data {
        result.merge(object_validator(cx, path, s, map));
        result.match_count += 1;
    }
    result.match_count += 1;
    result
}

/// `errors.InvalidType` with `in = "body"`: `%s in body must be of type %s: %q` when the
/// value is a string (it always is here: a type name or the offending string).
fn invalid_type(path: &str, type_name: &str, value: &str) -> OError {
    OError::new(
        Code::InvalidType,
        path,
        Some(Value::String(value.to_string())),
        format!(
            "{path} in body must be of type {type_name}: {}",
            go_quote(value)
        ),
    )
}

/// `typeValidator.Validate`.
// The conditions are kept in upstream's shape so they can be read side by side.
#[allow(clippy::nonminimal_bool)]
fn type_validator(path: &str, s: &JSONSchemaProps, data: &Value) -> Res {
    let types = types_of(s);
    let contains = |t: &str| types.contains(&t);
    if data.is_null() {
        if !types.is_empty() && !contains("null") && !nullable(s) {
            return Res::err(invalid_type(path, &types.join(","), "null"));
        }
        return Res::default();
    }
    let sch = sch_type(data);
    let fmt = sch_format(data);
    let t_format = effective_format(s);
    let is_float_int = sch == "number"
        && data.as_f64().is_some_and(is_float64_a_json_integer)
        && contains("integer");
    let is_int_float = sch == "integer" && contains("number");
    let is_string_or_slice = matches!(data, Value::String(_) | Value::Array(_));
    if !is_string_or_slice
        && !t_format.is_empty()
        && !(contains(sch) || fmt == t_format || is_float_int || is_int_float)
    {
        return Res::err(invalid_type(path, t_format, fmt));
    }
    if !(contains("number") || contains("integer")) && !t_format.is_empty() && is_string_or_slice {
        return Res::default();
    }
    if !(contains(sch) || is_float_int || is_int_float) {
        return Res::err(invalid_type(path, &types.join(","), sch));
    }
    Res::default()
}

/// `swag.IsFloat64AJSONInteger`.
fn is_float64_a_json_integer(f: f64) -> bool {
    const MAX_JSON_FLOAT: f64 = 9007199254740991.0; // 2^53 - 1
    if !f.is_finite() || !(-MAX_JSON_FLOAT..=MAX_JSON_FLOAT).contains(&f) {
        return false;
    }
    if f.fract() == 0.0 {
        return true;
    }
    let g = f.trunc();
    let diff = (f - g).abs();
    let sum = f.abs() + g.abs();
    if g == 0.0 {
        return diff < 1e-9 * f64::MIN_POSITIVE;
    }
    diff / sum.min(f64::MAX) < 1e-9
}

/// `schemaPropsValidator.Validate`: anyOf, oneOf, allOf, not.
fn schema_props_validator(cx: &Cx, path: &str, s: &JSONSchemaProps, data: &Value) -> Res {
    let mut main = Res::default();
    if let Some(any_of) = s.any_of.as_ref().filter(|v| !v.is_empty()) {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        let mut succeeded = false;
        for sub in any_of {
            let r = validate_node(cx, path, sub, data);
            if r.is_valid() {
                best = None;
                succeeded = true;
                first_success = Some(r);
                break;
            }
            if best.as_ref().is_none_or(|b| r.match_count > b.match_count) {
                best = Some(r);
            }
        }
        if !succeeded {
            main.errors.push(composite(format!(
                "{} must validate at least one schema (anyOf)",
                go_quote(path)
            )));
        }
        if let Some(b) = best {
            main.merge(b);
        } else if let Some(f) = first_success {
            main.merge(f);
        }
    }
    if let Some(one_of) = s.one_of.as_ref().filter(|v| !v.is_empty()) {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        let mut validated = 0;
        for sub in one_of {
            let r = validate_node(cx, path, sub, data);
            if r.is_valid() {
                validated += 1;
                best = None;
                if first_success.is_none() {
                    first_success = Some(r);
                }
                continue;
            }
            if validated == 0 && best.as_ref().is_none_or(|b| r.match_count > b.match_count) {
                best = Some(r);
            }
        }
        if validated != 1 {
            let additional = if validated == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {validated} valid alternatives")
            };
            main.errors.push(composite(format!(
                "{} must validate one and only one schema (oneOf). {additional}",
                go_quote(path)
            )));
            if let Some(b) = best {
                main.merge(b);
            }
        } else if let Some(f) = first_success {
            main.merge(f);
        }
    }
    if let Some(all_of) = s.all_of.as_ref().filter(|v| !v.is_empty()) {
        let mut validated = 0;
        for sub in all_of {
            let r = validate_node(cx, path, sub, data);
            if r.is_valid() {
                validated += 1;
            }
            main.merge(r);
        }
        if validated != all_of.len() {
            let additional = if validated == 0 {
                ". None validated"
            } else {
                ""
            };
            main.errors.push(composite(format!(
                "{} must validate all the schemas (allOf){additional}",
                go_quote(path)
            )));
        }
    }
    if let Some(not) = s.not.as_deref()
        && validate_node(cx, path, not, data).is_valid()
    {
        main.errors.push(composite(format!(
            "{} must not validate the schema (not)",
            go_quote(path)
        )));
    }
    main.match_count += 1;
    main
}

fn composite(message: String) -> OError {
    OError::new(Code::Composite, "", None, message)
}

/// `stringValidator.Validate`: maxLength, minLength, pattern, the first failure only.
fn string_validator(cx: &Cx, path: &str, s: &JSONSchemaProps, data: &str) -> Res {
    let len = data.chars().count() as i64;
    let value = Some(Value::String(data.to_string()));
    if let Some(max) = s.max_length
        && len > max
    {
        let mut e = OError::new(
            Code::TooLong,
            path,
            value,
            format!("{path} in body should be at most {max} chars long"),
        );
        e.limit = max;
        return Res::err(e);
    }
    if let Some(min) = s.min_length
        && len < min
    {
        return Res::err(OError::new(
            Code::Other,
            path,
            value,
            format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = s.pattern.as_deref().filter(|p| !p.is_empty()) {
        match cx.matches(pattern, data) {
            Ok(matched) => {
                if !matched {
                    return Res::err(OError::new(
                        Code::Other,
                        path,
                        value,
                        format!("{path} in body should match '{pattern}'"),
                    ));
                }
            }
            Err(err) => {
                return Res::err(OError::new(
                    Code::Other,
                    path,
                    value,
                    format!(
                        "{path} in body should match '{pattern}, but pattern is invalid: {err}'"
                    ),
                ));
            }
        }
    }
    Res::default()
}

/// `formatValidator.Validate`: `errors.InvalidType(path, in, format, value)`.
fn format_validator(path: &str, format: &str, data: &str) -> Res {
    if super::formats::is_valid(format, data) {
        Res::default()
    } else {
        Res::err(invalid_type(path, format, data))
    }
}

/// `numberValidator.Validate` for a schema (no type/format range checks: the schema
/// validator does not pass them): multipleOf, maximum, minimum.
///
/// For an integer value the bounds are truncated to integers first, as
/// `MaximumNativeType` does.
fn number_validator(path: &str, s: &JSONSchemaProps, data: &Value) -> Res {
    let mut res = Res::default();
    let int_val = data.as_i64();
    let f = data.as_f64().unwrap_or(0.0);
    if let Some(factor) = s.multiple_of {
        if factor <= 0.0 {
            res.errors.push(OError::new(
                Code::Other,
                path,
                Some(serde_json::json!(factor)),
                format!(
                    "factor MultipleOf declared for {path} must be positive: {}",
                    super::errors::go_float(factor)
                ),
            ));
        } else {
            let fails = match int_val {
                Some(i) if factor.trunc() >= 1.0 && factor.fract() == 0.0 => {
                    i % (factor as i64) != 0
                }
                _ => {
                    let mult = if factor < 1.0 {
                        1.0 / factor * f
                    } else {
                        f / factor
                    };
                    !is_float64_a_json_integer(mult)
                }
            };
            if fails {
                res.errors.push(OError::new(
                    Code::Other,
                    path,
                    Some(data.clone()),
                    format!(
                        "{path} in body should be a multiple of {}",
                        bound(factor, int_val.is_some())
                    ),
                ));
            }
        }
    }
    if let Some(max) = s.maximum {
        let excl = s.exclusive_maximum == Some(true);
        let fails = match int_val {
            Some(i) => {
                let m = max as i64;
                if excl { i >= m } else { i > m }
            }
            None => {
                if excl {
                    f >= max
                } else {
                    f > max
                }
            }
        };
        if fails {
            let word = if excl {
                "less than"
            } else {
                "less than or equal to"
            };
            res.errors.push(OError::new(
                Code::Other,
                path,
                Some(data.clone()),
                format!(
                    "{path} in body should be {word} {}",
                    bound(max, int_val.is_some())
                ),
            ));
        }
    }
    if let Some(min) = s.minimum {
        let excl = s.exclusive_minimum == Some(true);
        let fails = match int_val {
            Some(i) => {
                let m = min as i64;
                if excl { i <= m } else { i < m }
            }
            None => {
                if excl {
                    f <= min
                } else {
                    f < min
                }
            }
        };
        if fails {
            let word = if excl {
                "greater than"
            } else {
                "greater than or equal to"
            };
            res.errors.push(OError::new(
                Code::Other,
                path,
                Some(data.clone()),
                format!(
                    "{path} in body should be {word} {}",
                    bound(min, int_val.is_some())
                ),
            ));
        }
    }
    res
}

/// A bound as `%v` prints it: the truncated `int64` for an integer value, else the float.
fn bound(b: f64, integer: bool) -> String {
    if integer {
        (b as i64).to_string()
    } else {
        super::errors::go_float(b)
    }
}

/// `schemaSliceValidator.Validate`: items, then minItems, maxItems, uniqueItems.
fn slice_validator(cx: &Cx, path: &str, s: &JSONSchemaProps, list: &[Value]) -> Res {
    let mut res = Res::default();
    let size = list.len() as i64;
    if let Some(item_schema) = items(s) {
        for (i, v) in list.iter().enumerate() {
            res.merge(validate_node(cx, &format!("{path}[{i}]"), item_schema, v));
        }
    }
    if let Some(min) = s.min_items
        && size < min
    {
        res.errors.push(OError::new(
            Code::Other,
            path,
            Some(Value::from(size)),
            format!("{path} in body should have at least {min} items"),
        ));
    }
    if let Some(max) = s.max_items
        && size > max
    {
        let mut e = OError::new(
            Code::MaxItems,
            path,
            Some(Value::from(size)),
            format!("{path} in body should have at most {max} items"),
        );
        e.limit = max;
        res.errors.push(e);
    }
    if s.unique_items == Some(true) {
        let dup = list
            .iter()
            .enumerate()
            .any(|(i, a)| list[i + 1..].iter().any(|b| json_equal(a, b)));
        if dup {
            res.errors.push(OError::new(
                Code::Other,
                path,
                None,
                format!("{path} in body shouldn't contain duplicates"),
            ));
        }
    }
    res
}

/// Deep equality where numbers compare by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// `basicCommonValidator.Validate`: enum.
fn common_validator(path: &str, s: &JSONSchemaProps, data: &Value) -> Res {
    let Some(enum_) = s.enum_.as_ref().filter(|e| !e.is_empty()) else {
        return Res::default();
    };
    let matches = enum_
        .iter()
        .any(|e| !e.0.is_null() && !data.is_null() && json_equal(&e.0, data));
    if matches {
        return Res::default();
    }
    let values: Vec<Value> = enum_.iter().map(|e| e.0.clone()).collect();
    let listed: Vec<String> = values.iter().map(go_fmt_v).collect();
    let mut e = OError::new(
        Code::Enum,
        path,
        if data.is_null() {
            None
        } else {
            Some(data.clone())
        },
        format!("{path} in body should be one of [{}]", listed.join(" ")),
    );
    e.values = values;
    Res::err(e)
}

/// Go's `%v` of an unstructured value (only used inside kube-openapi's enum message, which
/// apiextensions replaces by its own `Unsupported value` body).
fn go_fmt_v(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => render_value(other),
    }
}

/// `objectValidator.Validate`.
fn object_validator(
    cx: &Cx,
    path: &str,
    s: &JSONSchemaProps,
    map: &serde_json::Map<String, Value>,
) -> Res {
    let num_keys = map.len() as i64;
    if let Some(min) = s.min_properties
        && num_keys < min
    {
        return Res::err(OError::new(
            Code::Other,
            path,
            Some(Value::from(num_keys)),
            format!("{path} in body should have at least {min} properties"),
        ));
    }
    if let Some(max) = s.max_properties
        && num_keys > max
    {
        let mut e = OError::new(
            Code::TooManyProperties,
            path,
            Some(Value::from(num_keys)),
            format!("{path} in body should have at most {max} properties"),
        );
        e.limit = max;
        return Res::err(e);
    }
    let mut res = Res::default();
    let props = s.properties.as_ref();
    let is_prop = |k: &str| props.is_some_and(|p| p.contains_key(k));
    match additional(s) {
        Additional::Bool(false) => {
            for k in map.keys() {
                if !is_prop(k) {
                    res.errors.push(OError::new(
                        Code::Other,
                        path,
                        Some(Value::String(k.clone())),
                        format!("{path}.{k} in body is a forbidden property"),
                    ));
                }
            }
        }
        Additional::Schema(a) => {
            for (k, v) in map {
                if !is_prop(k) {
                    res.merge(validate_node(cx, &format!("{path}.{k}"), a, v));
                }
            }
        }
        Additional::Bool(true) | Additional::None => {}
    }
    if let Some(props) = props {
        for (name, ps) in props {
            if let Some(v) = map.get(name) {
                let r_name = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                res.merge(validate_node(cx, &r_name, ps, v));
            }
        }
    }
    for k in s.required.iter().flatten() {
        if !map.contains_key(k) {
            let name = format!("{path}.{k}");
            res.errors.push(OError::new(
                Code::Required,
                &name,
                None,
                format!("{name} in body is required"),
            ));
        }
    }
    res
}

// ---------------------------------------------------------------------------------------------
// x-kubernetes-list-type (apiserver/schema/listtype/validation.go)
// ---------------------------------------------------------------------------------------------

/// `listtype.ValidateListSetsAndMaps`: `set` lists hold unique items, `map` lists unique
/// keys; the second appearance of a value is reported as `Duplicate value`.
pub fn validate_list_sets_and_maps(path: &str, s: &JSONSchemaProps, obj: &Value) -> ErrorList {
    let mut errs = ErrorList::default();
    list_sets_and_maps(&mut errs, path, s, obj);
    errs
}

fn list_sets_and_maps(errs: &mut ErrorList, path: &str, s: &JSONSchemaProps, obj: &Value) {
    match obj {
        Value::Object(map) => {
            if let Additional::Schema(a) = additional(s) {
                for (k, v) in map {
                    list_sets_and_maps(errs, &format!("{path}[{k}]"), a, v);
                }
            }
            if let Some(props) = s.properties.as_ref() {
                for (k, v) in map {
                    if let Some(sub) = props.get(k) {
                        list_sets_and_maps(errs, &join_path(path, k), sub, v);
                    }
                }
            }
        }
        Value::Array(list) => {
            match s.x_kubernetes_list_type.as_deref() {
                Some("set") => {
                    for i in non_unique(list) {
                        errs.duplicate(format!("{path}[{i}]"), &list[i]);
                    }
                }
                Some("map") => validate_list_map(errs, path, s, list),
                _ => {}
            }
            if let Some(item) = items(s) {
                for (i, v) in list.iter().enumerate() {
                    list_sets_and_maps(errs, &format!("{path}[{i}]"), item, v);
                }
            }
        }
        _ => {}
    }
}

/// `validateListSet`: the index of each value's *second* appearance.
fn non_unique(list: &[Value]) -> Vec<usize> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, x) in list.iter().enumerate() {
        let key = serde_json::to_string(x).unwrap_or_default();
        match seen.iter_mut().find(|(k, _)| *k == key) {
            None => seen.push((key, 1)),
            Some((_, times)) => {
                if *times == 1 {
                    out.push(i);
                }
                *times += 1;
            }
        }
    }
    out
}

/// `validateListMap`.
fn validate_list_map(errs: &mut ErrorList, path: &str, s: &JSONSchemaProps, list: &[Value]) {
    for (i, x) in list.iter().enumerate() {
        if !x.is_null() && !x.is_object() {
            errs.invalid_value(
                format!("{path}[{i}]"),
                x,
                "must be an object for an array of list-type map",
            );
            return;
        }
    }
    if list.len() <= 1 {
        return;
    }
    let key_fields = s.x_kubernetes_list_map_keys.as_deref().unwrap_or(&[]);
    let keys: Vec<Value> = list
        .iter()
        .map(|x| {
            let mut key = serde_json::Map::new();
            if let Value::Object(m) = x {
                for f in key_fields {
                    if let Some(v) = m.get(f) {
                        key.insert(f.clone(), v.clone());
                    }
                }
            }
            Value::Object(key)
        })
        .collect();
    for i in non_unique(&keys) {
        errs.duplicate(format!("{path}[{i}]"), &keys[i]);
    }
}
