//! Admission of `apiextensions.k8s.io/v1` CustomResourceDefinitions: defaulting
//! (`apis/apiextensions/v1/defaults.go`, `SetDefaults_CustomResourceDefinition`), the
//! registry strategy (`registry/customresourcedefinition/strategy.go`, `PrepareForCreate`,
//! `PrepareForUpdate`), validation (`apis/apiextensions/validation/validation.go`,
//! `ValidateCustomResourceDefinition`, `ValidateCustomResourceDefinitionUpdate`), and the
//! status the naming and establishing controllers give an accepted CRD
//! (`controller/status/naming_controller.go`, `controller/establish/establishing_controller.go`).
//!
//! Entry points: [`admit_create`], [`admit_update`], [`accept`]; then
//! [`super::ResourceDescription::from_crd`] for what the server serves.
//!
//! Upstream validates the *internal* form of a v1 CRD, so error paths are internal ones: a
//! schema, subresources or printer columns shared by every version are reported at the top
//! level (`spec.validation.openAPIV3Schema…`, `spec.subresources…`,
//! `spec.additionalPrinterColumns[i]…`), per-version ones under `spec.versions[i]`; the
//! conversion webhook's fields at `spec.conversion.webhookClientConfig`.

use super::errors::{ErrorList, go_json, render_value};
use super::names::{
    is_dns1035_label, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
    name_is_dns_subdomain,
};
use super::structural::validate_version_schema;
use crate::api::ApiError;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceConversion, CustomResourceDefinition,
    CustomResourceDefinitionCondition, CustomResourceDefinitionNames,
    CustomResourceDefinitionStatus, CustomResourceDefinitionVersion, CustomResourceSubresources,
    JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;
use std::collections::BTreeSet;

/// The qualified kind in a CRD's `Invalid` message.
pub const QUALIFIED_KIND: &str = "CustomResourceDefinition.apiextensions.k8s.io";

/// The annotation protected groups (`*.k8s.io`, `*.kubernetes.io`) must carry.
pub const API_APPROVED_ANNOTATION: &str = "api-approved.kubernetes.io";

// ---------------------------------------------------------------------------------------------
// Defaults and the registry strategy
// ---------------------------------------------------------------------------------------------

/// `SetDefaults_CustomResourceDefinition`: `singular` is the lowercased kind, `listKind` is
/// `<Kind>List`, conversion defaults to `None`, a webhook service port to 443, and
/// `status.storedVersions` to the storage version.
pub fn set_defaults(crd: &mut CustomResourceDefinition) {
    let names = &mut crd.spec.names;
    if names.singular.as_deref().unwrap_or("").is_empty() {
        names.singular = Some(names.kind.to_lowercase());
    }
    if names.list_kind.as_deref().unwrap_or("").is_empty() && !names.kind.is_empty() {
        names.list_kind = Some(format!("{}List", names.kind));
    }
    let conversion = crd
        .spec
        .conversion
        .get_or_insert_with(|| CustomResourceConversion {
            strategy: "None".into(),
            webhook: None,
        });
    if let Some(svc) = conversion
        .webhook
        .as_mut()
        .and_then(|w| w.client_config.as_mut())
        .and_then(|c| c.service.as_mut())
    {
        svc.port.get_or_insert(443);
    }
    let status = crd.status.get_or_insert_with(Default::default);
    if status.stored_versions.as_ref().is_none_or(|v| v.is_empty())
        && let Some(v) = crd.spec.versions.iter().find(|v| v.storage)
    {
        status.stored_versions = Some(vec![v.name.clone()]);
    }
}

/// `strategy.PrepareForCreate`: the status a user sends is dropped, the generation is 1 and
/// the storage version is recorded as stored.
fn prepare_for_create(crd: &mut CustomResourceDefinition) {
    crd.status = Some(CustomResourceDefinitionStatus::default());
    crd.metadata.generation = Some(1);
    if let Some(v) = crd.spec.versions.iter().find(|v| v.storage) {
        crd.status
            .get_or_insert_with(Default::default)
            .stored_versions = Some(vec![v.name.clone()]);
    }
}

/// `strategy.PrepareForUpdate`: the status is the old one; a spec change bumps the
/// generation; a new storage version joins `status.storedVersions`.
fn prepare_for_update(new: &mut CustomResourceDefinition, old: &CustomResourceDefinition) {
    new.status = old.status.clone();
    let old_generation = old.metadata.generation.unwrap_or(0);
    new.metadata.generation = Some(if new.spec != old.spec {
        old_generation + 1
    } else {
        old_generation
    });
    if let Some(v) = new.spec.versions.iter().find(|v| v.storage) {
        let status = new.status.get_or_insert_with(Default::default);
        let stored = status.stored_versions.get_or_insert_with(Vec::new);
        if !stored.contains(&v.name) {
            stored.push(v.name.clone());
        }
    }
}

fn name_of(crd: &CustomResourceDefinition) -> String {
    crd.metadata.name.clone().unwrap_or_default()
}

/// A create: defaults, `PrepareForCreate`, then `ValidateCustomResourceDefinition`.
///
/// # Errors
/// `Invalid`, with one cause per offending field and upstream's messages.
pub fn admit_create(
    mut crd: CustomResourceDefinition,
) -> Result<CustomResourceDefinition, ApiError> {
    set_defaults(&mut crd);
    prepare_for_create(&mut crd);
    let errs = validate(&crd);
    if errs.is_empty() {
        Ok(crd)
    } else {
        Err(errs.into_invalid(QUALIFIED_KIND, &name_of(&crd)))
    }
}

/// An update of the main resource: defaults, `PrepareForUpdate`, then
/// `ValidateCustomResourceDefinitionUpdate`.
///
/// # Errors
/// `Invalid`, with one cause per offending field.
pub fn admit_update(
    old: &CustomResourceDefinition,
    mut new: CustomResourceDefinition,
) -> Result<CustomResourceDefinition, ApiError> {
    set_defaults(&mut new);
    prepare_for_update(&mut new, old);
    let errs = validate_update(&new, old);
    if errs.is_empty() {
        Ok(new)
    } else {
        Err(errs.into_invalid(QUALIFIED_KIND, &name_of(&new)))
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// `ValidateCustomResourceDefinition`.
pub fn validate(crd: &CustomResourceDefinition) -> ErrorList {
    let mut errs = ErrorList::default();
    validate_metadata(&mut errs, crd);
    validate_spec(&mut errs, crd);
    if let Some(status) = crd.status.as_ref()
        && let Some(names) = status.accepted_names.as_ref()
    {
        validate_names(&mut errs, names, "status.acceptedNames");
    }
    validate_stored_versions(&mut errs, crd);
    validate_api_approval(&mut errs, crd, None);
    validate_preserve_unknown_fields(&mut errs, crd, None);
    errs
}

/// `ValidateCustomResourceDefinitionUpdate`.
pub fn validate_update(
    new: &CustomResourceDefinition,
    old: &CustomResourceDefinition,
) -> ErrorList {
    let mut errs = ErrorList::default();
    let (on, nn) = (name_of(old), name_of(new));
    if on != nn {
        errs.invalid(
            "metadata.name",
            render_value(&Value::String(nn)),
            "field is immutable",
        );
    }
    validate_spec(&mut errs, new);
    if is_established(old) {
        if new.spec.scope != old.spec.scope {
            errs.invalid(
                "spec.scope",
                render_value(&Value::String(new.spec.scope.clone())),
                "field is immutable",
            );
        }
        if new.spec.names.kind != old.spec.names.kind {
            errs.invalid(
                "spec.names.kind",
                render_value(&Value::String(new.spec.names.kind.clone())),
                "field is immutable",
            );
        }
    }
    if new.spec.group != old.spec.group {
        errs.invalid(
            "spec.group",
            render_value(&Value::String(new.spec.group.clone())),
            "field is immutable",
        );
    }
    if new.spec.names.plural != old.spec.names.plural {
        errs.invalid(
            "spec.names.plural",
            render_value(&Value::String(new.spec.names.plural.clone())),
            "field is immutable",
        );
    }
    if let Some(names) = new.status.as_ref().and_then(|s| s.accepted_names.as_ref()) {
        validate_names(&mut errs, names, "status.acceptedNames");
    }
    validate_stored_versions(&mut errs, new);
    validate_api_approval(&mut errs, new, Some(old));
    validate_preserve_unknown_fields(&mut errs, new, Some(old));
    errs
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    condition(crd, "Established").is_some_and(|c| c.status == "True")
}

/// The condition of `type_` in the CRD's status.
pub fn condition<'a>(
    crd: &'a CustomResourceDefinition,
    type_: &str,
) -> Option<&'a CustomResourceDefinitionCondition> {
    crd.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `ValidateObjectMeta` with the CRD's name rule: a DNS subdomain equal to
/// `<plural>.<group>`; a CRD is cluster-scoped; labels and annotation keys are checked.
fn validate_metadata(errs: &mut ErrorList, crd: &CustomResourceDefinition) {
    let required = format!("{}.{}", crd.spec.names.plural, crd.spec.group);
    let rule = |name: &str, prefix: bool| {
        let mut out = name_is_dns_subdomain(name, prefix);
        if name != required {
            out.push(r#"must be spec.names.plural+"."+spec.group"#.to_string());
        }
        out
    };
    let meta = &crd.metadata;
    if let Some(gn) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        for msg in rule(gn, true) {
            errs.invalid(
                "metadata.generateName",
                render_value(&Value::String(gn.into())),
                &msg,
            );
        }
    }
    match meta.name.as_deref().filter(|n| !n.is_empty()) {
        None => errs.required("metadata.name", "name or generateName is required"),
        Some(name) => {
            for msg in rule(name, false) {
                errs.invalid(
                    "metadata.name",
                    render_value(&Value::String(name.into())),
                    &msg,
                );
            }
        }
    }
    if meta.namespace.as_deref().is_some_and(|n| !n.is_empty()) {
        errs.forbidden("metadata.namespace", "not allowed on this type");
    }
    for (k, v) in meta.labels.iter().flatten() {
        for msg in is_qualified_name(k) {
            errs.invalid("metadata.labels", str_value(k), &msg);
        }
        for msg in is_valid_label_value(v) {
            errs.invalid("metadata.labels", str_value(v), &msg);
        }
    }
    for k in meta.annotations.iter().flat_map(|a| a.keys()) {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.invalid("metadata.annotations", str_value(k), &msg);
        }
    }
}

fn str_value(s: &str) -> String {
    render_value(&Value::String(s.into()))
}

/// The versions as they render in a `spec.versions` error: JSON of the *internal*
/// `[]CustomResourceDefinitionVersion`, whose fields have no JSON tags, so they print with
/// their Go names in declaration order and without `omitempty`; a schema, subresources or
/// printer columns hoisted to the top level print `null`.
///
/// NOTE: a per-version schema, subresources or columns that were not hoisted print here in
/// their v1 JSON form, a shorter stand-in for the internal structs.
fn versions_value(versions: &[CustomResourceDefinitionVersion], hoisted: &Hoisted<'_>) -> String {
    let items: Vec<String> = versions
        .iter()
        .map(|v| {
            let json = |value: Option<Value>| value.map_or_else(|| "null".to_string(), |v| go_json(&v));
            let schema = if hoisted.schema_identical {
                None
            } else {
                v.schema.as_ref().and_then(|s| serde_json::to_value(s).ok())
            };
            let subresources = if hoisted.subresources_identical {
                None
            } else {
                v.subresources.as_ref().and_then(|s| serde_json::to_value(s).ok())
            };
            let columns = if hoisted.columns_identical {
                None
            } else {
                v.additional_printer_columns
                    .as_ref()
                    .and_then(|c| serde_json::to_value(c).ok())
            };
            let selectable = v
                .selectable_fields
                .as_ref()
                .and_then(|f| serde_json::to_value(f).ok());
            format!(
                r#"{{"Name":{},"Served":{},"Storage":{},"Deprecated":{},"DeprecationWarning":{},"Schema":{},"Subresources":{},"AdditionalPrinterColumns":{},"SelectableFields":{}}}"#,
                super::errors::json_string(&v.name),
                v.served,
                v.storage,
                v.deprecated == Some(true),
                v.deprecation_warning
                    .as_deref()
                    .map_or_else(|| "null".to_string(), super::errors::json_string),
                json(schema),
                json(subresources),
                json(columns),
                json(selectable),
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// `validateCustomResourceDefinitionSpec`.
fn validate_spec(errs: &mut ErrorList, crd: &CustomResourceDefinition) {
    let spec = &crd.spec;
    if spec.group.is_empty() {
        errs.required("spec.group", "");
    } else {
        let dns = is_dns1123_subdomain(&spec.group);
        if !dns.is_empty() {
            errs.invalid("spec.group", str_value(&spec.group), &dns.join(","));
        } else if spec.group.split('.').count() < 2 {
            errs.invalid(
                "spec.group",
                str_value(&spec.group),
                "should be a domain with at least one dot",
            );
        }
    }
    match spec.scope.as_str() {
        "" => errs.required("spec.scope", ""),
        "Cluster" | "Namespaced" => {}
        other => errs.not_supported(
            "spec.scope",
            str_value(other),
            &["Cluster".into(), "Namespaced".into()],
        ),
    }
    let hoisted = Hoisted::of(&spec.versions);
    if hoisted.schema.is_none() {
        for (i, v) in spec.versions.iter().enumerate() {
            if v.schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .is_none()
            {
                errs.required(
                    format!("spec.versions[{i}].schema.openAPIV3Schema"),
                    "schemas are required",
                );
            }
        }
    }
    let mut storage = 0;
    let mut seen = BTreeSet::new();
    let mut unique = true;
    for (i, v) in spec.versions.iter().enumerate() {
        if v.storage {
            storage += 1;
        }
        if !seen.insert(v.name.as_str()) {
            unique = false;
        }
        let dns = is_dns1035_label(&v.name);
        if !dns.is_empty() {
            errs.invalid(
                format!("spec.versions[{i}].name"),
                str_value(&v.name),
                &dns.join(","),
            );
        }
        validate_version(errs, v, &hoisted, &format!("spec.versions[{i}]"));
    }
    if !unique {
        errs.invalid(
            "spec.versions",
            versions_value(&spec.versions, &hoisted),
            "must contain unique version names",
        );
    }
    if storage != 1 {
        errs.invalid(
            "spec.versions",
            versions_value(&spec.versions, &hoisted),
            "must have exactly one version marked as storage version",
        );
    }
    // The internal `spec.version` is `versions[0].name`.
    if let Some(first) = spec.versions.first().filter(|v| !v.name.is_empty()) {
        let dns = is_dns1035_label(&first.name);
        if !dns.is_empty() {
            errs.invalid("spec.version", str_value(&first.name), &dns.join(","));
        }
    }
    let names = &spec.names;
    if names.plural.is_empty() {
        errs.required("spec.names.plural", "");
    }
    if names.singular.as_deref().unwrap_or("").is_empty() {
        errs.required("spec.names.singular", "");
    }
    if names.kind.is_empty() {
        errs.required("spec.names.kind", "");
    }
    if names.list_kind.as_deref().unwrap_or("").is_empty() {
        errs.required("spec.names.listKind", "");
    }
    validate_names(errs, names, "spec.names");
    if let Some(schema) = hoisted.schema {
        let any_status = hoisted.subresources.is_some_and(|s| s.status.is_some())
            || spec
                .versions
                .iter()
                .any(|v| v.subresources.as_ref().is_some_and(|s| s.status.is_some()));
        errs.extend(validate_version_schema(
            schema,
            any_status,
            "spec.validation",
        ));
    }
    validate_subresources(errs, hoisted.subresources, "spec.subresources");
    for (i, c) in hoisted.columns.iter().enumerate() {
        validate_column(errs, c, &format!("spec.additionalPrinterColumns[{i}]"));
    }
    validate_conversion(errs, spec.conversion.as_ref());
}

/// What the v1 → internal conversion (`Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_CustomResourceDefinitionSpec`)
/// moves to the top level because every version has the same value: the schema
/// (`spec.validation`), the subresources (`spec.subresources`) and the printer columns
/// (`spec.additionalPrinterColumns`). Upstream validates — and so reports errors on — the
/// internal form, so a single-version CRD's schema errors read
/// `spec.validation.openAPIV3Schema…`, and per-version paths appear only when versions differ.
struct Hoisted<'a> {
    /// `Some` when all versions share one non-nil schema.
    schema: Option<&'a JSONSchemaProps>,
    subresources_identical: bool,
    subresources: Option<&'a CustomResourceSubresources>,
    columns_identical: bool,
    columns: &'a [CustomResourceColumnDefinition],
    schema_identical: bool,
}

impl<'a> Hoisted<'a> {
    fn of(versions: &'a [CustomResourceDefinitionVersion]) -> Hoisted<'a> {
        let Some(first) = versions.first() else {
            return Hoisted {
                schema: None,
                schema_identical: false,
                subresources_identical: false,
                subresources: None,
                columns_identical: false,
                columns: &[],
            };
        };
        let schema_identical = versions.iter().all(|v| v.schema == first.schema);
        let subresources_identical = versions
            .iter()
            .all(|v| v.subresources == first.subresources);
        let cols =
            |v: &'a CustomResourceDefinitionVersion| -> &'a [CustomResourceColumnDefinition] {
                v.additional_printer_columns.as_deref().unwrap_or(&[])
            };
        let columns_identical = versions.iter().all(|v| cols(v) == cols(first));
        Hoisted {
            schema: if schema_identical {
                first
                    .schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref())
            } else {
                None
            },
            schema_identical,
            subresources_identical,
            subresources: if subresources_identical {
                first.subresources.as_ref()
            } else {
                None
            },
            columns_identical,
            columns: if columns_identical { cols(first) } else { &[] },
        }
    }
}

/// `validateCustomResourceDefinitionVersion` on the internal form: only the fields that
/// were not hoisted to the top level are validated here.
fn validate_version(
    errs: &mut ErrorList,
    v: &CustomResourceDefinitionVersion,
    hoisted: &Hoisted<'_>,
    path: &str,
) {
    for msg in
        deprecation_warning_errors(v.deprecated == Some(true), v.deprecation_warning.as_deref())
    {
        errs.invalid(
            format!("{path}.deprecationWarning"),
            v.deprecation_warning
                .as_deref()
                .map_or("null".into(), str_value),
            &msg,
        );
    }
    // getSubresourcesForVersion: the top-level subresources when they were hoisted.
    let subresources = if hoisted.subresources_identical {
        hoisted.subresources
    } else {
        v.subresources.as_ref()
    };
    let status_enabled = subresources.is_some_and(|s| s.status.is_some());
    if !hoisted.schema_identical
        && let Some(schema) = v
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
    {
        errs.extend(validate_version_schema(
            schema,
            status_enabled,
            &format!("{path}.schema"),
        ));
    }
    if !hoisted.subresources_identical {
        validate_subresources(
            errs,
            v.subresources.as_ref(),
            &format!("{path}.subresources"),
        );
    }
    if !hoisted.columns_identical {
        for (i, c) in v.additional_printer_columns.iter().flatten().enumerate() {
            validate_column(errs, c, &format!("{path}.additionalPrinterColumns[{i}]"));
        }
    }
}

/// `validateDeprecationWarning`.
fn deprecation_warning_errors(deprecated: bool, warning: Option<&str>) -> Vec<String> {
    let Some(w) = warning else { return vec![] };
    if !deprecated {
        return vec!["can only be set for deprecated versions".into()];
    }
    let mut out = Vec::new();
    if w.len() > 256 {
        out.push("must be <= 256 characters long".into());
    }
    if w.is_empty() {
        out.push("must not be an empty string".into());
    }
    for (i, c) in w.char_indices() {
        if c.is_control() {
            out.push(format!(
                "must only contain printable UTF-8 characters; non-printable character found at index {i}"
            ));
            break;
        }
    }
    out
}

/// `ValidateCustomResourceDefinitionNames`.
fn validate_names(errs: &mut ErrorList, names: &CustomResourceDefinitionNames, path: &str) {
    let dns = |field: &str, v: &str, errs: &mut ErrorList| {
        let e = is_dns1035_label(v);
        if !v.is_empty() && !e.is_empty() {
            errs.invalid(format!("{path}.{field}"), str_value(v), &e.join(","));
        }
    };
    dns("plural", &names.plural, errs);
    dns("singular", names.singular.as_deref().unwrap_or(""), errs);
    for (field, v) in [
        ("kind", names.kind.as_str()),
        ("listKind", names.list_kind.as_deref().unwrap_or("")),
    ] {
        let e = is_dns1035_label(&v.to_lowercase());
        if !v.is_empty() && !e.is_empty() {
            errs.invalid(
                format!("{path}.{field}"),
                str_value(v),
                &format!(
                    "may have mixed case, but should otherwise match: {}",
                    e.join(",")
                ),
            );
        }
    }
    for (i, s) in names.short_names.iter().flatten().enumerate() {
        let e = is_dns1035_label(s);
        if !e.is_empty() {
            errs.invalid(
                format!("{path}.shortNames[{i}]"),
                str_value(s),
                &e.join(","),
            );
        }
    }
    if !names.kind.is_empty() && Some(names.kind.as_str()) == names.list_kind.as_deref() {
        errs.invalid(
            format!("{path}.listKind"),
            str_value(&names.kind),
            "kind and listKind may not be the same",
        );
    }
    for (i, c) in names.categories.iter().flatten().enumerate() {
        let e = is_dns1035_label(c);
        if !e.is_empty() {
            errs.invalid(
                format!("{path}.categories[{i}]"),
                str_value(c),
                &e.join(","),
            );
        }
    }
}

/// `validateSimpleJSONPath`.
fn validate_simple_json_path(errs: &mut ErrorList, s: &str, path: &str) -> bool {
    if s.is_empty() {
        errs.invalid(path, str_value(s), "must not be empty");
        false
    } else if !s.starts_with('.') {
        errs.invalid(
            path,
            str_value(s),
            "must be a simple json path starting with .",
        );
        false
    } else {
        true
    }
}

/// `ValidateCustomResourceDefinitionSubresources`.
fn validate_subresources(
    errs: &mut ErrorList,
    sub: Option<&CustomResourceSubresources>,
    path: &str,
) {
    let Some(scale) = sub.and_then(|s| s.scale.as_ref()) else {
        return;
    };
    let spec_path = format!("{path}.scale.specReplicasPath");
    if scale.spec_replicas_path.is_empty() {
        errs.required(spec_path, "");
    } else if validate_simple_json_path(errs, &scale.spec_replicas_path, &spec_path)
        && !scale.spec_replicas_path.starts_with(".spec.")
    {
        errs.invalid(
            spec_path,
            str_value(&scale.spec_replicas_path),
            "should be a json path under .spec",
        );
    }
    let status_path = format!("{path}.scale.statusReplicasPath");
    if scale.status_replicas_path.is_empty() {
        errs.required(status_path, "");
    } else if validate_simple_json_path(errs, &scale.status_replicas_path, &status_path)
        && !scale.status_replicas_path.starts_with(".status.")
    {
        errs.invalid(
            status_path,
            str_value(&scale.status_replicas_path),
            "should be a json path under .status",
        );
    }
    if let Some(lsp) = scale
        .label_selector_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        let lpath = format!("{path}.scale.labelSelectorPath");
        if validate_simple_json_path(errs, lsp, &lpath)
            && !lsp.starts_with(".spec.")
            && !lsp.starts_with(".status.")
        {
            errs.invalid(
                lpath,
                str_value(lsp),
                "should be a json path under either .spec or .status",
            );
        }
    }
}

/// `ValidateCustomResourceColumnDefinition`.
fn validate_column(errs: &mut ErrorList, c: &CustomResourceColumnDefinition, path: &str) {
    const TYPES: &str = "boolean,date,integer,number,string";
    const FORMATS: &str = "byte,date,date-time,double,float,int32,int64,password";
    if c.name.is_empty() {
        errs.required(format!("{path}.name"), "");
    }
    if c.type_.is_empty() {
        errs.required(format!("{path}.type"), &format!("must be one of {TYPES}"));
    } else if !TYPES.split(',').any(|t| t == c.type_) {
        errs.invalid(
            format!("{path}.type"),
            str_value(&c.type_),
            &format!("must be one of {TYPES}"),
        );
    }
    if let Some(f) = c.format.as_deref().filter(|f| !f.is_empty())
        && !FORMATS.split(',').any(|t| t == f)
    {
        errs.invalid(
            format!("{path}.format"),
            str_value(f),
            &format!("must be one of {FORMATS}"),
        );
    }
    let jpath = format!("{path}.JSONPath");
    if c.json_path.is_empty() {
        errs.required(jpath, "");
    } else {
        validate_simple_json_path(errs, &c.json_path, &jpath);
    }
}

/// `validateCustomResourceConversion`, on the internal field names.
fn validate_conversion(errs: &mut ErrorList, conversion: Option<&CustomResourceConversion>) {
    let Some(c) = conversion else { return };
    match c.strategy.as_str() {
        "" => errs.required("spec.conversion.strategy", ""),
        "None" | "Webhook" => {}
        other => errs.not_supported(
            "spec.conversion.strategy",
            str_value(other),
            &["None".into(), "Webhook".into()],
        ),
    }
    let client_config = c.webhook.as_ref().and_then(|w| w.client_config.as_ref());
    let review_versions = c
        .webhook
        .as_ref()
        .map(|w| w.conversion_review_versions.as_slice())
        .unwrap_or(&[]);
    if c.strategy == "Webhook" {
        match client_config {
            None => errs.required(
                "spec.conversion.webhookClientConfig",
                "required when strategy is set to Webhook",
            ),
            Some(cc) => {
                if cc.url.is_some() == cc.service.is_some() {
                    errs.required(
                        "spec.conversion.webhookClientConfig",
                        "exactly one of url or service is required",
                    );
                }
            }
        }
        if review_versions.is_empty() {
            errs.required("spec.conversion.conversionReviewVersions", "");
        } else {
            let mut seen = BTreeSet::new();
            let mut accepted = false;
            for (i, v) in review_versions.iter().enumerate() {
                let p = format!("spec.conversion.conversionReviewVersions[{i}]");
                if !seen.insert(v.as_str()) {
                    errs.invalid(p, str_value(v), "duplicate version");
                    continue;
                }
                for e in is_dns1035_label(v) {
                    errs.invalid(p.clone(), str_value(v), &e);
                }
                accepted |= v == "v1" || v == "v1beta1";
            }
            if !accepted {
                let list = serde_json::to_value(review_versions)
                    .map(|v| go_json(&v))
                    .unwrap_or_default();
                errs.invalid(
                    "spec.conversion.conversionReviewVersions",
                    list,
                    "must include at least one of v1, v1beta1",
                );
            }
        }
    } else {
        if client_config.is_some() {
            errs.forbidden(
                "spec.conversion.webhookClientConfig",
                "should not be set when strategy is not set to Webhook",
            );
        }
        if !review_versions.is_empty() {
            errs.forbidden(
                "spec.conversion.conversionReviewVersions",
                "should not be set when strategy is not set to Webhook",
            );
        }
    }
}

/// `ValidateCustomResourceDefinitionStoredVersions`.
fn validate_stored_versions(errs: &mut ErrorList, crd: &CustomResourceDefinition) {
    let stored = crd
        .status
        .as_ref()
        .and_then(|s| s.stored_versions.clone())
        .unwrap_or_default();
    if stored.is_empty() {
        errs.invalid(
            "status.storedVersions",
            "null".into(),
            "must have at least one stored version",
        );
        return;
    }
    let stored_json = serde_json::to_value(&stored)
        .map(|v| go_json(&v))
        .unwrap_or_default();
    let mut remaining: Vec<(usize, &String)> = stored.iter().enumerate().collect();
    for v in &crd.spec.versions {
        let found = remaining.iter().any(|(_, s)| **s == v.name);
        if v.storage && !found {
            errs.invalid(
                "status.storedVersions",
                stored_json.clone(),
                &format!("must have the storage version {}", v.name),
            );
        }
        remaining.retain(|(_, s)| **s != v.name);
    }
    for (i, v) in remaining {
        errs.invalid(
            format!("status.storedVersions[{i}]"),
            str_value(v),
            &format!(
                "missing from spec.versions; {v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {v} and removes {v} from status.storedVersions"
            ),
        );
    }
}

/// `IsProtectedCommunityGroup`.
fn is_protected_group(group: &str) -> bool {
    group == "k8s.io"
        || group.ends_with(".k8s.io")
        || group == "kubernetes.io"
        || group.ends_with(".kubernetes.io")
}

#[derive(PartialEq, Eq)]
enum Approval {
    Missing,
    Invalid,
    Ok,
}

fn approval_state(crd: &CustomResourceDefinition) -> Approval {
    match crd
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(API_APPROVED_ANNOTATION))
    {
        None => Approval::Missing,
        Some(v) if v.starts_with("unapproved") => Approval::Ok,
        Some(v) if v.starts_with('/') || v.contains("://") => Approval::Ok,
        Some(_) => Approval::Invalid,
    }
}

/// `validateAPIApproval`: CRDs in protected groups carry `api-approved.kubernetes.io`.
fn validate_api_approval(
    errs: &mut ErrorList,
    new: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinition>,
) {
    if !is_protected_group(&new.spec.group) {
        return;
    }
    let state = approval_state(new);
    if old.is_some_and(|o| approval_state(o) == state) {
        return;
    }
    let path = format!("metadata.annotations[{API_APPROVED_ANNOTATION}]");
    match state {
        Approval::Missing => errs.required(
            path,
            &format!(
                "protected groups must have approval annotation \"{API_APPROVED_ANNOTATION}\", see https://github.com/kubernetes/enhancements/pull/1111"
            ),
        ),
        Approval::Invalid => {
            let v = new
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(API_APPROVED_ANNOTATION))
                .cloned()
                .unwrap_or_default();
            errs.invalid(
                path,
                str_value(&v),
                &format!(
                    "protected groups must have approval annotation \"{API_APPROVED_ANNOTATION}\" with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111"
                ),
            )
        }
        Approval::Ok => {}
    }
}

/// `validatePreserveUnknownFields`: v1 may not set `spec.preserveUnknownFields: true`.
fn validate_preserve_unknown_fields(
    errs: &mut ErrorList,
    new: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinition>,
) {
    if old.is_some_and(|o| o.spec.preserve_unknown_fields == Some(true)) {
        return;
    }
    if new.spec.preserve_unknown_fields == Some(true) {
        errs.invalid(
            "spec.preserveUnknownFields",
            "true".into(),
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in openAPIV3Schema instead",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Acceptance: the naming and establishing controllers
// ---------------------------------------------------------------------------------------------

/// `NamingConditionController.calculateNamesAndConditions` followed by the
/// `EstablishingController`: checks the requested names against the names the *other* CRDs of
/// the same group have been given, sets `status.acceptedNames`, and the conditions
/// `NamesAccepted` (`NoConflicts`, "no conflicts found", or e.g. `PluralConflict`,
/// "\"crontabs\" is already in use") and `Established` (`InitialNamesAccepted`, "the initial
/// names have been accepted"; `NotAccepted`, "not all names are accepted" while names
/// conflict).
///
/// `now` stamps a condition whose status changes; the engine passes its virtual clock.
/// Returns whether the CRD is established (the server then serves its resource).
pub fn accept(
    crd: &mut CustomResourceDefinition,
    others: &[CustomResourceDefinition],
    now: &Time,
) -> bool {
    let mut resources = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for o in others {
        if o.spec.group != crd.spec.group || o.metadata.name == crd.metadata.name {
            continue;
        }
        if let Some(n) = o.status.as_ref().and_then(|s| s.accepted_names.as_ref()) {
            resources.insert(n.plural.clone());
            if let Some(s) = n.singular.clone() {
                resources.insert(s);
            }
            resources.extend(n.short_names.iter().flatten().cloned());
            kinds.insert(n.kind.clone());
            if let Some(l) = n.list_kind.clone() {
                kinds.insert(l);
            }
        }
    }
    let requested = crd.spec.names.clone();
    let accepted = crd
        .status
        .as_ref()
        .and_then(|s| s.accepted_names.clone())
        .unwrap_or_default();
    let mut new_names = accepted.clone();
    let mut names_accepted: Option<(String, String)> = None;
    let fresh = |req: &str, acc: &str, used: &BTreeSet<String>| -> Result<(), String> {
        if req == acc || !used.contains(req) {
            Ok(())
        } else {
            Err(format!(
                "{} is already in use",
                super::errors::go_quote(req)
            ))
        }
    };
    match fresh(&requested.plural, &accepted.plural, &resources) {
        Ok(()) => new_names.plural = requested.plural.clone(),
        Err(m) => names_accepted = Some(("PluralConflict".into(), m)),
    }
    let req_singular = requested.singular.clone().unwrap_or_default();
    match fresh(
        &req_singular,
        accepted.singular.as_deref().unwrap_or(""),
        &resources,
    ) {
        Ok(()) => new_names.singular = requested.singular.clone(),
        Err(m) => names_accepted = Some(("SingularConflict".into(), m)),
    }
    if requested.short_names != accepted.short_names {
        let existing: BTreeSet<&String> = accepted.short_names.iter().flatten().collect();
        let conflicts: Vec<String> = requested
            .short_names
            .iter()
            .flatten()
            .filter(|s| !existing.contains(s))
            .filter_map(|s| fresh(s, "", &resources).err())
            .collect();
        if conflicts.is_empty() {
            new_names.short_names = requested.short_names.clone();
        } else {
            let msg = if conflicts.len() == 1 {
                conflicts[0].clone()
            } else {
                format!("[{}]", conflicts.join(", "))
            };
            names_accepted = Some(("ShortNamesConflict".into(), msg));
        }
    }
    match fresh(&requested.kind, &accepted.kind, &kinds) {
        Ok(()) => new_names.kind = requested.kind.clone(),
        Err(m) => names_accepted = Some(("KindConflict".into(), m)),
    }
    let req_list = requested.list_kind.clone().unwrap_or_default();
    match fresh(
        &req_list,
        accepted.list_kind.as_deref().unwrap_or(""),
        &kinds,
    ) {
        Ok(()) => new_names.list_kind = requested.list_kind.clone(),
        Err(m) => names_accepted = Some(("ListKindConflict".into(), m)),
    }
    new_names.categories = requested.categories.clone();

    let (na_status, na_reason, na_message) = match names_accepted {
        None => (
            "True",
            "NoConflicts".to_string(),
            "no conflicts found".to_string(),
        ),
        Some((r, m)) => ("False", r, m),
    };
    let established = na_status == "True" || is_established(crd);
    let (es_reason, es_message) = if is_established(crd) {
        let c = condition(crd, "Established");
        (
            c.and_then(|c| c.reason.clone()).unwrap_or_default(),
            c.and_then(|c| c.message.clone()).unwrap_or_default(),
        )
    } else if established {
        (
            "InitialNamesAccepted".into(),
            "the initial names have been accepted".into(),
        )
    } else {
        ("NotAccepted".into(), "not all names are accepted".into())
    };
    let status = crd.status.get_or_insert_with(Default::default);
    status.accepted_names = Some(new_names);
    set_condition(
        status,
        "NamesAccepted",
        na_status,
        &na_reason,
        &na_message,
        now,
    );
    set_condition(
        status,
        "Established",
        if established { "True" } else { "False" },
        &es_reason,
        &es_message,
        now,
    );
    established
}

/// `SetCRDCondition`: the transition time only moves when the status changes.
fn set_condition(
    status: &mut CustomResourceDefinitionStatus,
    type_: &str,
    value: &str,
    reason: &str,
    message: &str,
    now: &Time,
) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let new = CustomResourceDefinitionCondition {
        type_: type_.into(),
        status: value.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(now.clone()),
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        None => conditions.push(new),
        Some(c) => {
            let ltt = if c.status == value {
                c.last_transition_time.clone()
            } else {
                Some(now.clone())
            };
            *c = CustomResourceDefinitionCondition {
                last_transition_time: ltt,
                ..new
            };
        }
    }
}
