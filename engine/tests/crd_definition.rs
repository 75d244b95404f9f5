//! CRD admission with realistic definitions: the `CronTab` of the Kubernetes documentation
//! (`stable.example.com`) and a cert-manager-like `Certificate` with nested objects, arrays,
//! list types and a status subresource; then the mistakes users make, each with the message
//! the API server gives.
#![recursion_limit = "256"]

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kubespec_engine::api::Reason;
use kubespec_engine::api::crd::ResourceDescription;
use kubespec_engine::api::crd::definition::{accept, admit_create, admit_update, condition};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn crd(v: Value) -> CustomResourceDefinition {
    serde_json::from_value(v).expect("test CRD parses")
}

fn now() -> Time {
    Time(jiff::Timestamp::from_second(1_700_000_000).expect("valid timestamp"))
}

/// The CronTab from <https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/>,
/// with the validation section of the same page.
fn crontab() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "properties": {
                                "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                                "image": {"type": "string"},
                                "replicas": {"type": "integer", "minimum": 1, "maximum": 10}
                            }
                        }
                    }
                }}
            }],
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]}
        }
    })
}

/// A cert-manager-like Certificate: required nested objects, arrays of strings, an enum, a
/// `set` list, a `map` list of conditions, the status subresource and printer columns.
fn certificate() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "certificates.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io",
            "names": {"kind": "Certificate", "plural": "certificates", "shortNames": ["cert", "certs"], "categories": ["cert-manager"]},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Secret", "type": "string", "jsonPath": ".spec.secretName"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {
                            "type": "object",
                            "required": ["issuerRef", "secretName"],
                            "properties": {
                                "commonName": {"type": "string", "maxLength": 64},
                                "dnsNames": {"type": "array", "items": {"type": "string"}},
                                "duration": {"type": "string"},
                                "isCA": {"type": "boolean"},
                                "issuerRef": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "group": {"type": "string"},
                                        "kind": {"type": "string", "default": "Issuer"},
                                        "name": {"type": "string"}
                                    }
                                },
                                "privateKey": {
                                    "type": "object",
                                    "properties": {
                                        "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
                                        "rotationPolicy": {"type": "string", "enum": ["Never", "Always"], "default": "Always"},
                                        "size": {"type": "integer"}
                                    }
                                },
                                "secretName": {"type": "string"},
                                "secretTemplate": {
                                    "type": "object",
                                    "properties": {
                                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                                        "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                                    }
                                },
                                "usages": {
                                    "type": "array",
                                    "x-kubernetes-list-type": "set",
                                    "items": {"type": "string", "enum": ["digital signature", "key encipherment", "server auth", "client auth"]}
                                }
                            }
                        },
                        "status": {
                            "type": "object",
                            "properties": {
                                "conditions": {
                                    "type": "array",
                                    "x-kubernetes-list-type": "map",
                                    "x-kubernetes-list-map-keys": ["type"],
                                    "items": {
                                        "type": "object",
                                        "required": ["status", "type"],
                                        "properties": {
                                            "lastTransitionTime": {"type": "string", "format": "date-time"},
                                            "message": {"type": "string"},
                                            "reason": {"type": "string"},
                                            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                                            "type": {"type": "string"}
                                        }
                                    }
                                },
                                "notAfter": {"type": "string", "format": "date-time"},
                                "revision": {"type": "integer"}
                            }
                        }
                    }
                }}
            }]
        }
    })
}

/// The causes of a refused CRD, as `field: detail` lines.
fn causes(v: Value) -> Vec<String> {
    match admit_create(crd(v)) {
        Ok(_) => vec![],
        Err(e) => {
            assert_eq!(e.reason, Reason::Invalid);
            e.causes.iter().map(|c| c.to_string()).collect()
        }
    }
}

#[track_caller]
fn refused_with(v: Value, expected: &[&str]) {
    assert_eq!(causes(v), expected);
}

/// Where a schema shared by every version is reported: upstream validates the internal form,
/// to which the v1 conversion hoists identical per-version schemas.
const SCHEMA: &str = "spec.validation.openAPIV3Schema";

#[test]
fn crontab_is_admitted_defaulted_and_established() {
    let mut c = admit_create(crd(crontab())).expect("the CronTab CRD is valid");
    assert_eq!(c.spec.names.list_kind.as_deref(), Some("CronTabList"));
    assert_eq!(c.spec.names.singular.as_deref(), Some("crontab"));
    assert_eq!(
        c.spec.conversion.as_ref().map(|c| c.strategy.as_str()),
        Some("None")
    );
    assert_eq!(c.metadata.generation, Some(1));
    assert_eq!(
        c.status.as_ref().and_then(|s| s.stored_versions.clone()),
        Some(vec!["v1".to_string()])
    );
    assert!(accept(&mut c, &[], &now()));
    let names = condition(&c, "NamesAccepted").expect("NamesAccepted is set");
    assert_eq!(
        (
            names.status.as_str(),
            names.reason.as_deref(),
            names.message.as_deref()
        ),
        ("True", Some("NoConflicts"), Some("no conflicts found"))
    );
    let established = condition(&c, "Established").expect("Established is set");
    assert_eq!(
        (
            established.status.as_str(),
            established.reason.as_deref(),
            established.message.as_deref()
        ),
        (
            "True",
            Some("InitialNamesAccepted"),
            Some("the initial names have been accepted")
        )
    );
    assert_eq!(established.last_transition_time, Some(now()));
    let accepted = c
        .status
        .as_ref()
        .and_then(|s| s.accepted_names.clone())
        .expect("accepted names");
    assert_eq!(accepted.plural, "crontabs");
    assert_eq!(accepted.short_names, Some(vec!["ct".to_string()]));

    let d = ResourceDescription::from_crd(&c);
    assert_eq!(d.group, "stable.example.com");
    assert_eq!(
        (d.plural.as_str(), d.singular.as_str()),
        ("crontabs", "crontab")
    );
    assert_eq!(
        (d.kind.as_str(), d.list_kind.as_str()),
        ("CronTab", "CronTabList")
    );
    assert!(d.namespaced);
    assert_eq!(d.qualified_kind(), "CronTab.stable.example.com");
    let v1 = d.version("v1").expect("v1 is described");
    assert!(v1.served && v1.storage && !v1.status_subresource && v1.scale.is_none());
    assert!(!v1.has_validation_rules);
    let cols = v1.printer_columns();
    assert_eq!(
        (cols[0].name.as_str(), cols[0].json_path.as_str()),
        ("Age", ".metadata.creationTimestamp")
    );
}

#[test]
fn certificate_is_admitted_with_its_subresources_and_columns() {
    let mut c = admit_create(crd(certificate())).expect("the Certificate CRD is valid");
    assert!(accept(&mut c, &[], &now()));
    let d = ResourceDescription::from_crd(&c);
    assert_eq!(d.singular, "certificate");
    assert_eq!(d.short_names, vec!["cert", "certs"]);
    assert_eq!(d.categories, vec!["cert-manager"]);
    let v1 = d.storage_version().expect("a storage version");
    assert!(v1.status_subresource);
    let cols: Vec<String> = v1.printer_columns().into_iter().map(|c| c.name).collect();
    assert_eq!(cols, vec!["Ready", "Secret", "Age"]);
}

#[test]
fn scale_subresource_is_described() {
    let mut v = crontab();
    v["spec"]["versions"][0]["subresources"] = json!({
        "status": {},
        "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.labelSelector"}
    });
    let c = admit_create(crd(v)).expect("valid");
    let d = ResourceDescription::from_crd(&c);
    let scale = d.versions[0].scale.clone().expect("scale");
    assert_eq!(scale.spec_replicas_path, ".spec.replicas");
    assert_eq!(scale.status_replicas_path, ".status.replicas");
    assert_eq!(
        scale.label_selector_path.as_deref(),
        Some(".status.labelSelector")
    );
}

#[test]
fn the_name_must_be_plural_dot_group() {
    let mut v = crontab();
    v["metadata"]["name"] = json!("crontab.stable.example.com");
    let err = admit_create(crd(v)).expect_err("wrong name");
    assert_eq!(
        err.message,
        r#"CustomResourceDefinition.apiextensions.k8s.io "crontab.stable.example.com" is invalid: metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group"#
    );
}

#[test]
fn the_group_needs_a_dot_and_the_scope_a_known_value() {
    let mut v = crontab();
    v["metadata"]["name"] = json!("crontabs.example");
    v["spec"]["group"] = json!("example");
    v["spec"]["scope"] = json!("Global");
    refused_with(
        v,
        &[
            r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
            r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
        ],
    );
}

#[test]
fn names_are_dns_1035_labels() {
    let mut v = crontab();
    v["metadata"]["name"] = json!("Cron_Tabs.stable.example.com");
    v["spec"]["names"]["plural"] = json!("Cron_Tabs");
    v["spec"]["names"]["shortNames"] = json!(["ct", "9t"]);
    v["spec"]["names"]["listKind"] = json!("CronTab");
    let got = causes(v);
    let dns1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    assert!(
        got.contains(&format!(
            r#"spec.names.plural: Invalid value: "Cron_Tabs": {dns1035}"#
        )),
        "{got:#?}"
    );
    assert!(
        got.contains(&format!(
            r#"spec.names.shortNames[1]: Invalid value: "9t": {dns1035}"#
        )),
        "{got:#?}"
    );
    assert!(got.contains(&r#"spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same"#.to_string()), "{got:#?}");
    assert!(got.iter().any(|c| c.starts_with(r#"metadata.name: Invalid value: "Cron_Tabs.stable.example.com": a lowercase RFC 1123 subdomain"#)), "{got:#?}");
}

#[test]
fn exactly_one_storage_version_and_unique_names() {
    let mut v = crontab();
    let version = v["spec"]["versions"][0].clone();
    v["spec"]["versions"] = json!([version.clone(), version]);
    let got = causes(v);
    assert!(
        got.iter()
            .any(|c| c.starts_with("spec.versions: Invalid value: [")
                && c.ends_with("]: must contain unique version names")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|c| c.ends_with("]: must have exactly one version marked as storage version")),
        "{got:#?}"
    );

    let mut v = crontab();
    v["spec"]["versions"][0]["storage"] = json!(false);
    let got = causes(v);
    // The internal versions, Go field names, hoisted schema shown as null.
    assert!(
        got.contains(&r#"spec.versions: Invalid value: [{"Name":"v1","Served":true,"Storage":false,"Deprecated":false,"DeprecationWarning":null,"Schema":null,"Subresources":null,"AdditionalPrinterColumns":null,"SelectableFields":null}]: must have exactly one version marked as storage version"#.to_string()),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|c| c.ends_with("]: must have exactly one version marked as storage version")),
        "{got:#?}"
    );
    assert!(
        got.contains(
            &"status.storedVersions: Invalid value: null: must have at least one stored version"
                .to_string()
        ),
        "{got:#?}"
    );
}

#[test]
fn every_version_needs_a_schema() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"] = Value::Null;
    refused_with(
        v,
        &["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"],
    );
}

#[test]
fn schemas_must_be_structural() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["cronSpec"] =
        json!({"pattern": "^a"});
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[spec].properties[cronSpec].type: Required value: must not be empty for specified object fields"
        )],
    );

    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["state"] = json!({
        "type": "string",
        "oneOf": [{"type": "string", "description": "a"}, {"type": "string", "enum": ["x"]}]
    });
    refused_with(
        v,
        &[
            &format!(
                "{SCHEMA}.properties[spec].properties[state].oneOf[0].description: Forbidden: must be empty to be structural"
            ),
            &format!(
                "{SCHEMA}.properties[spec].properties[state].oneOf[0].type: Forbidden: must be empty to be structural"
            ),
            &format!(
                "{SCHEMA}.properties[spec].properties[state].oneOf[1].type: Forbidden: must be empty to be structural"
            ),
        ],
    );

    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["tags"] =
        json!({"type": "array"});
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[tags].items: Required value: must be specified"
        )],
    );

    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"] = json!("array");
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["items"] = json!({"type": "string"});
    refused_with(
        v,
        &[&format!(
            r#"{SCHEMA}.type: Invalid value: "array": must be object at the root"#
        )],
    );
}

#[test]
fn junctors_may_only_talk_about_specified_fields() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["anyOf"] = json!([
        {"properties": {"spec": {"properties": {"cronSpec": {"minLength": 1}, "schedule": {"minLength": 1}}}}}
    ]);
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[spec].properties[schedule]: Required value: because it is defined in {SCHEMA}.anyOf[0].properties[spec].properties[schedule]"
        )],
    );
}

#[test]
fn additional_properties_and_properties_are_exclusive() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["additionalProperties"] =
        json!({"type": "string"});
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
        )],
    );
}

#[test]
fn metadata_may_only_restrict_name_and_generate_name() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = json!({
        "type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}
    });
    assert_eq!(causes(v), Vec::<String>::new());

    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = json!({
        "type": "object", "properties": {"labels": {"type": "object"}}
    });
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
        )],
    );
}

#[test]
fn defaults_must_be_valid_and_pruned() {
    let mut v = crontab();
    let spec = &mut v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    spec["properties"]["replicas"]["default"] = json!(20);
    spec["properties"]["image"]["default"] = json!(3);
    spec["properties"]["policy"] = json!({"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": "x", "b": "y"}});
    refused_with(
        v,
        &[
            &format!(
                r#"{SCHEMA}.properties[spec].properties[image].default: Invalid value: "integer":  in body must be of type string: "integer""#
            ),
            &format!(
                r#"{SCHEMA}.properties[spec].properties[policy].default: Invalid value: {{"a":"x","b":"y"}}: must not have unknown fields"#
            ),
            &format!(
                "{SCHEMA}.properties[spec].properties[replicas].default: Invalid value: 20:  in body should be less than or equal to 10"
            ),
        ],
    );
}

#[test]
fn defaults_are_forbidden_in_top_level_metadata() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] =
        json!({"type": "object", "default": {}});
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[metadata].default: Forbidden: must not be set in top-level metadata"
        )],
    );
}

#[test]
fn list_types_are_checked() {
    let mut v = crontab();
    let props = &mut v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    props["ports"] = json!({"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object", "properties": {"name": {"type": "string"}}}});
    props["tags"] =
        json!({"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}});
    props["uniq"] = json!({"type": "array", "uniqueItems": true, "items": {"type": "string"}});
    refused_with(
        v,
        &[
            &format!(
                "{SCHEMA}.properties[spec].properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
            ),
            &format!(
                r#"{SCHEMA}.properties[spec].properties[tags].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#
            ),
            &format!(
                "{SCHEMA}.properties[spec].properties[uniq].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
            ),
        ],
    );
}

#[test]
fn cel_rules_are_accepted_but_flagged() {
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] =
        json!([{"rule": "self.replicas <= 5", "message": "at most 5"}]);
    let c = admit_create(crd(v)).expect("CEL rules do not block admission");
    assert!(ResourceDescription::from_crd(&c).versions[0].has_validation_rules);

    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] =
        json!([{"rule": " "}]);
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified"
        )],
    );
}

#[test]
fn status_subresource_restricts_the_root() {
    let mut v = crontab();
    v["spec"]["versions"][0]["subresources"] = json!({"status": {}});
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["minProperties"] = json!(1);
    let got = causes(v);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with(&format!("{SCHEMA}: Invalid value: {{"))
            && got[0].ends_with(
                "fields are allowed at the root of the schema if the status subresource is enabled"
            ),
        "{got:#?}"
    );
}

#[test]
fn scale_paths_must_point_under_spec_and_status() {
    let mut v = crontab();
    v["spec"]["versions"][0]["subresources"] = json!({"scale": {"specReplicasPath": ".replicas", "statusReplicasPath": "status.replicas"}});
    refused_with(
        v,
        &[
            r#"spec.subresources.scale.specReplicasPath: Invalid value: ".replicas": should be a json path under .spec"#,
            r#"spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with ."#,
        ],
    );
}

#[test]
fn protected_groups_need_approval() {
    let mut v = crontab();
    v["metadata"]["name"] = json!("crontabs.example.k8s.io");
    v["spec"]["group"] = json!("example.k8s.io");
    refused_with(
        v.clone(),
        &[
            r#"metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111"#,
        ],
    );
    v["metadata"]["annotations"] =
        json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"});
    assert_eq!(causes(v), Vec::<String>::new());
}

#[test]
fn conflicting_names_are_not_accepted() {
    let mut first = admit_create(crd(crontab())).expect("valid");
    assert!(accept(&mut first, &[], &now()));
    let mut v = crontab();
    v["metadata"]["name"] = json!("crontables.stable.example.com");
    v["spec"]["names"] = json!({"plural": "crontables", "kind": "CronTab", "shortNames": ["ct"]});
    let mut second = admit_create(crd(v)).expect("valid on its own");
    assert!(!accept(&mut second, std::slice::from_ref(&first), &now()));
    let names = condition(&second, "NamesAccepted").expect("set");
    assert_eq!(
        (
            names.status.as_str(),
            names.reason.as_deref(),
            names.message.as_deref()
        ),
        // Every conflicting name overwrites the reason; listKind is checked last.
        (
            "False",
            Some("ListKindConflict"),
            Some(r#""CronTabList" is already in use"#)
        )
    );
    let established = condition(&second, "Established").expect("set");
    assert_eq!(
        (established.status.as_str(), established.reason.as_deref()),
        ("False", Some("NotAccepted"))
    );
    // Accepting itself again (it is in the list) is not a conflict.
    let mut again = first.clone();
    assert!(accept(&mut again, std::slice::from_ref(&first), &now()));
}

#[test]
fn updates_keep_status_bump_generation_and_freeze_group_and_plural() {
    let mut old = admit_create(crd(crontab())).expect("valid");
    accept(&mut old, &[], &now());
    let mut v = crontab();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["image"]
        ["maxLength"] = json!(100);
    let new = admit_update(&old, crd(v)).expect("a schema change is fine");
    assert_eq!(new.metadata.generation, Some(2));
    assert_eq!(new.status, old.status);

    let same = admit_update(&old, crd(crontab())).expect("no change");
    assert_eq!(same.metadata.generation, Some(1));

    let mut v = crontab();
    v["spec"]["names"]["kind"] = json!("Cron");
    v["spec"]["scope"] = json!("Cluster");
    let got: Vec<String> = admit_update(&old, crd(v))
        .expect_err("established: kind and scope are frozen")
        .causes
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            r#"spec.scope: Invalid value: "Cluster": field is immutable"#,
            r#"spec.names.kind: Invalid value: "Cron": field is immutable"#,
        ]
    );
}

#[test]
fn differing_versions_are_reported_per_version() {
    let mut v = crontab();
    let mut v2 = v["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    v2["storage"] = json!(false);
    v2["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["image"] =
        json!({"format": "uri"});
    v["spec"]["versions"] = json!([v["spec"]["versions"][0].clone(), v2.clone()]);
    refused_with(
        v.clone(),
        &[
            "spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields",
        ],
    );
    // Two versions with the same (bad) schema: reported once, at the top level.
    v2["schema"] = v["spec"]["versions"][1]["schema"].clone();
    let mut v1 = v2.clone();
    v1["name"] = json!("v1");
    v1["storage"] = json!(true);
    v["spec"]["versions"] = json!([v1, v2]);
    refused_with(
        v,
        &[&format!(
            "{SCHEMA}.properties[spec].properties[image].type: Required value: must not be empty for specified object fields"
        )],
    );
}

#[test]
fn a_bad_first_version_name_is_also_the_internal_spec_version() {
    let mut v = crontab();
    v["spec"]["versions"][0]["name"] = json!("V1");
    let got = causes(v);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with(r#"spec.versions[0].name: Invalid value: "V1": a DNS-1035 label"#),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with(r#"spec.version: Invalid value: "V1": a DNS-1035 label"#),
        "{got:#?}"
    );
}

#[test]
fn crd_labels_are_validated_and_crds_have_no_namespace() {
    let mut v = crontab();
    v["metadata"]["labels"] = json!({"app.kubernetes.io/part-of": "cron", "bad/key/x": "v"});
    v["metadata"]["namespace"] = json!("default");
    refused_with(
        v,
        &[
            "metadata.namespace: Forbidden: not allowed on this type",
            r#"metadata.labels: Invalid value: "bad/key/x": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"#,
        ],
    );
}

#[test]
fn a_stored_version_cannot_leave_spec_versions() {
    let mut v = crontab();
    let mut v2 = v["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    v2["storage"] = json!(false);
    v["spec"]["versions"] = json!([v["spec"]["versions"][0].clone(), v2]);
    let old = admit_create(crd(v.clone())).expect("two versions");
    // v2 becomes the storage version: both are now stored.
    v["spec"]["versions"][0]["storage"] = json!(false);
    v["spec"]["versions"][1]["storage"] = json!(true);
    let moved = admit_update(&old, crd(v.clone())).expect("storage moves to v2");
    assert_eq!(
        moved
            .status
            .as_ref()
            .and_then(|s| s.stored_versions.clone()),
        Some(vec!["v1".to_string(), "v2".to_string()])
    );
    // Dropping v1 while it is still stored is refused.
    let mut only_v2 = v.clone();
    only_v2["spec"]["versions"] = json!([v["spec"]["versions"][1].clone()]);
    let got: Vec<String> = admit_update(&moved, crd(only_v2))
        .expect_err("v1 is stored")
        .causes
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            r#"status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions"#
        ]
    );
}
