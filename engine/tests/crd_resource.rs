//! Custom resource admission: creates, updates and status writes of `CronTab`s and
//! cert-manager-like `Certificate`s, with the pruning, defaulting, status and generation
//! rules of upstream's custom resource strategy and the messages the API server gives.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kubespec_engine::api::Reason;
use kubespec_engine::api::crd::resource::{admit_create, admit_status_update, admit_update};
use kubespec_engine::api::crd::{
    ResourceDescription, reset_status, spec_changed, strict_decoding_error,
};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn describe(v: Value) -> ResourceDescription {
    let crd: CustomResourceDefinition = serde_json::from_value(v).expect("test CRD parses");
    let crd = kubespec_engine::api::crd::definition::admit_create(crd).expect("test CRD is valid");
    ResourceDescription::from_crd(&crd)
}

fn crontabs(subresources: Value) -> ResourceDescription {
    describe(json!({
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": subresources,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                            "image": {"type": "string"},
                            "replicas": {"type": "integer", "maximum": 10, "default": 1}
                        }},
                        "status": {"type": "object", "properties": {
                            "replicas": {"type": "integer", "minimum": 0},
                            "labelSelector": {"type": "string"}
                        }}
                    }
                }}
            }]
        }
    }))
}

fn certificates() -> ResourceDescription {
    describe(json!({
        "metadata": {"name": "certificates.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io",
            "scope": "Namespaced",
            "names": {"plural": "certificates", "kind": "Certificate"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "required": ["spec"],
                    "properties": {
                        "spec": {"type": "object", "required": ["issuerRef", "secretName"], "properties": {
                            "dnsNames": {"type": "array", "items": {"type": "string"}},
                            "issuerRef": {"type": "object", "required": ["name"], "properties": {
                                "group": {"type": "string"},
                                "kind": {"type": "string", "default": "Issuer"},
                                "name": {"type": "string"}
                            }},
                            "privateKey": {"type": "object", "properties": {
                                "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
                                "rotationPolicy": {"type": "string", "enum": ["Never", "Always"], "default": "Always"},
                                "size": {"type": "integer"}
                            }},
                            "secretName": {"type": "string"},
                            "usages": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
                        }},
                        "status": {"type": "object", "properties": {
                            "conditions": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
                                "items": {"type": "object", "required": ["status", "type"], "properties": {
                                    "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                                    "type": {"type": "string"},
                                    "lastTransitionTime": {"type": "string", "format": "date-time"}
                                }}},
                            "revision": {"type": "integer"}
                        }}
                    }
                }}
            }]
        }
    }))
}

fn crontab(spec: Value) -> Value {
    json!({
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "my-new-cron-object", "namespace": "default"},
        "spec": spec
    })
}

fn certificate(spec: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": spec
    })
}

fn causes(err: &kubespec_engine::api::ApiError) -> Vec<String> {
    err.causes.iter().map(|c| c.to_string()).collect()
}

#[test]
fn a_valid_crontab_is_defaulted_and_gets_generation_one() {
    let d = crontabs(json!(null));
    let a = admit_create(
        &d,
        "v1",
        crontab(json!({"cronSpec": "* * * * */5", "image": "my-awesome-cron-image"})),
    )
    .expect("valid");
    assert_eq!(a.unknown_fields, Vec::<String>::new());
    assert_eq!(a.object["spec"]["replicas"], json!(1));
    assert_eq!(a.object["metadata"]["generation"], json!(1));
}

#[test]
fn the_documentation_example_is_refused_with_both_causes() {
    let d = crontabs(json!(null));
    let err = admit_create(
        &d,
        "v1",
        crontab(json!({"cronSpec": "* * * *", "image": "my-awesome-cron-image", "replicas": 15})),
    )
    .expect_err("invalid");
    assert_eq!(err.reason, Reason::Invalid);
    assert_eq!(
        err.message,
        r#"CronTab.stable.example.com "my-new-cron-object" is invalid: [spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$', spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10]"#
    );
    assert_eq!(err.causes.len(), 2);
    assert_eq!(err.causes[1].field, "spec.replicas");
}

#[test]
fn unknown_fields_are_pruned_and_reported() {
    let d = crontabs(json!(null));
    let mut obj = crontab(json!({"cronSpec": "* * * * *", "foo": 1, "bar": {"x": 1}}));
    obj["extra"] = json!(true);
    obj["metadata"]["labelz"] = json!({"a": "b"});
    let a = admit_create(&d, "v1", obj).expect("pruning is not an error");
    assert_eq!(
        a.unknown_fields,
        vec!["extra", "metadata.labelz", "spec.bar", "spec.foo"]
    );
    assert_eq!(a.object["metadata"].get("labelz"), None);
    assert_eq!(a.object.get("extra"), None);
    assert_eq!(
        a.object["spec"],
        json!({"cronSpec": "* * * * *", "replicas": 1})
    );
    assert_eq!(
        strict_decoding_error(&a.unknown_fields).message,
        r#"strict decoding error: unknown field "extra", unknown field "metadata.labelz", unknown field "spec.bar", unknown field "spec.foo""#
    );
}

#[test]
fn type_meta_must_match_the_resource() {
    let d = crontabs(json!(null));
    let mut obj = crontab(json!({}));
    obj["kind"] = json!("Cron");
    obj["apiVersion"] = json!("stable.example.com/v2");
    obj["spec"]["replicas"] = json!(100);
    let err = admit_create(&d, "v1", obj).expect_err("wrong kind");
    // Type meta errors stand alone: the schema is not looked at.
    assert_eq!(
        causes(&err),
        vec![
            r#"kind: Invalid value: "Cron": must be CronTab"#,
            r#"apiVersion: Invalid value: "stable.example.com/v2": must be stable.example.com/v1"#,
        ]
    );
}

#[test]
fn object_meta_is_validated() {
    let d = crontabs(json!(null));
    let mut obj = crontab(json!({}));
    obj["metadata"] = json!({"name": "My_Cron"});
    let err = admit_create(&d, "v1", obj).expect_err("bad meta");
    assert_eq!(
        causes(&err),
        vec![
            r#"metadata.name: Invalid value: "My_Cron": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
            "metadata.namespace: Required value",
        ]
    );
    let mut obj = crontab(json!({}));
    obj["metadata"] = json!({"generateName": "cron-", "namespace": "default"});
    let err = admit_create(&d, "v1", obj).expect_err("no name yet");
    assert_eq!(
        causes(&err),
        vec!["metadata.name: Required value: name or generateName is required"]
    );
}

#[test]
fn bodies_that_do_not_decode_are_bad_requests() {
    let d = crontabs(json!(null));
    for body in [
        json!([1, 2]),
        json!({"apiVersion": "stable.example.com/v1"}),
        json!({"kind": "CronTab", "metadata": "x"}),
    ] {
        let err = admit_create(&d, "v1", body.clone()).expect_err("undecodable");
        assert_eq!(err.reason, Reason::BadRequest, "{body}");
    }
    let err = admit_create(&d, "v2", crontab(json!({}))).expect_err("unknown version");
    assert_eq!(err.reason, Reason::BadRequest);
}

#[test]
fn certificate_required_fields_enums_defaults_and_sets() {
    let d = certificates();
    let err = admit_create(&d, "v1", certificate(json!({"issuerRef": {}, "privateKey": {"algorithm": "DSA"}, "usages": ["server auth", "server auth"]})))
        .expect_err("invalid");
    assert_eq!(
        causes(&err),
        vec![
            "spec.issuerRef.name: Required value",
            r#"spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519""#,
            "spec.secretName: Required value",
            r#"spec.usages[1]: Duplicate value: "server auth""#,
        ]
    );
    let a = admit_create(
        &d,
        "v1",
        certificate(json!({"secretName": "web-tls", "issuerRef": {"name": "letsencrypt"}, "privateKey": {}, "dnsNames": ["example.com"]})),
    )
    .expect("valid");
    assert_eq!(
        a.object["spec"]["issuerRef"],
        json!({"name": "letsencrypt", "kind": "Issuer"})
    );
    assert_eq!(
        a.object["spec"]["privateKey"],
        json!({"rotationPolicy": "Always"})
    );
    let err = admit_create(&d, "v1", json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "x", "namespace": "d"}}))
        .expect_err("spec is required");
    assert_eq!(causes(&err), vec!["spec: Required value"]);
}

#[test]
fn the_status_subresource_makes_main_writes_ignore_status() {
    let d = crontabs(json!({"status": {}}));
    let mut obj = crontab(json!({"cronSpec": "* * * * *"}));
    obj["status"] = json!({"replicas": 3});
    let created = admit_create(&d, "v1", obj).expect("valid").object;
    assert_eq!(created.get("status"), None, "create cannot set status");

    // A status write sets status only.
    let mut body = created.clone();
    body["status"] = json!({"replicas": 2});
    body["spec"]["image"] = json!("ignored");
    let with_status = admit_status_update(&d, "v1", &created, body)
        .expect("valid status")
        .object;
    assert_eq!(with_status["status"], json!({"replicas": 2}));
    assert_eq!(with_status["spec"].get("image"), None);
    assert_eq!(with_status["metadata"]["generation"], json!(1));

    // A main write keeps the old status and leaves the generation alone...
    let mut body = with_status.clone();
    body["status"] = json!({"replicas": 9});
    let same = admit_update(&d, "v1", &with_status, body)
        .expect("valid")
        .object;
    assert_eq!(same["status"], json!({"replicas": 2}));
    assert_eq!(same["metadata"]["generation"], json!(1));
    // ...unless the spec changes.
    let mut body = with_status.clone();
    body["spec"]["replicas"] = json!(3);
    body["metadata"]["labels"] = json!({"a": "b"});
    let bumped = admit_update(&d, "v1", &with_status, body)
        .expect("valid")
        .object;
    assert_eq!(bumped["metadata"]["generation"], json!(2));
}

#[test]
fn without_the_subresource_status_is_part_of_the_object() {
    let d = crontabs(json!(null));
    let mut obj = crontab(json!({"cronSpec": "* * * * *"}));
    obj["status"] = json!({"replicas": 3});
    let created = admit_create(&d, "v1", obj).expect("valid").object;
    assert_eq!(created["status"], json!({"replicas": 3}));
    let mut body = created.clone();
    body["status"] = json!({"replicas": 4});
    let updated = admit_update(&d, "v1", &created, body)
        .expect("valid")
        .object;
    assert_eq!(updated["metadata"]["generation"], json!(2));
    let err = admit_status_update(&d, "v1", &created, created.clone())
        .expect_err("no status subresource");
    assert_eq!(err.reason, Reason::BadRequest);
}

#[test]
fn status_writes_are_validated_against_the_status_schema() {
    let d = crontabs(json!({"status": {}}));
    let created = admit_create(&d, "v1", crontab(json!({})))
        .expect("valid")
        .object;
    let mut body = created.clone();
    body["status"] = json!({"replicas": -1});
    let err = admit_status_update(&d, "v1", &created, body).expect_err("negative");
    assert_eq!(
        causes(&err),
        vec![
            "status.replicas: Invalid value: -1: status.replicas in body should be greater than or equal to 0"
        ]
    );

    let d = certificates();
    let created = admit_create(
        &d,
        "v1",
        certificate(json!({"secretName": "s", "issuerRef": {"name": "i"}})),
    )
    .expect("valid")
    .object;
    let mut body = created.clone();
    body["status"] = json!({"conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
        {"type": "Ready", "status": "Maybe"}
    ]});
    let err = admit_status_update(&d, "v1", &created, body).expect_err("duplicate condition");
    assert_eq!(
        causes(&err),
        vec![
            r#"status.conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown""#,
            r#"status.conditions[1]: Duplicate value: {"type":"Ready"}"#,
        ]
    );
}

#[test]
fn name_and_namespace_are_immutable() {
    let d = crontabs(json!(null));
    let created = admit_create(&d, "v1", crontab(json!({})))
        .expect("valid")
        .object;
    let mut body = created.clone();
    body["metadata"]["name"] = json!("other");
    let err = admit_update(&d, "v1", &created, body).expect_err("renamed");
    assert_eq!(
        causes(&err),
        vec![r#"metadata.name: Invalid value: "other": field is immutable"#]
    );
}

#[test]
fn scale_replicas_must_be_non_negative_integers() {
    let d = describe(json!({
        "metadata": {"name": "dbs.example.com"},
        "spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"plural": "dbs", "kind": "DB"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }}}}]
        }
    }));
    let db = |spec: Value| json!({"apiVersion": "example.com/v1", "kind": "DB", "metadata": {"name": "db"}, "spec": spec});
    let err = admit_create(&d, "v1", db(json!({"replicas": -1}))).expect_err("negative");
    assert_eq!(
        causes(&err),
        vec![".spec.replicas: Invalid value: -1: should be a non-negative integer"]
    );
    let err = admit_create(&d, "v1", db(json!({"replicas": "3"}))).expect_err("string");
    assert_eq!(
        causes(&err),
        vec![
            ".spec.replicas: Invalid value: 0: .spec.replicas accessor error: 3 is of the type string, expected int64"
        ]
    );
    assert!(admit_create(&d, "v1", db(json!({"replicas": 3}))).is_ok());
    // Cluster-scoped: no namespace.
    let mut obj = db(json!({}));
    obj["metadata"]["namespace"] = json!("default");
    let err = admit_create(&d, "v1", obj).expect_err("namespaced object of a cluster-scoped kind");
    assert_eq!(
        causes(&err),
        vec!["metadata.namespace: Forbidden: not allowed on this type"]
    );
}

#[test]
fn reset_status_and_spec_changed() {
    let old = json!({"metadata": {"generation": 4}, "spec": {"a": 1}, "status": {"x": 1}});
    let mut new = json!({"metadata": {"generation": 4, "labels": {"a": "b"}}, "spec": {"a": 1}, "status": {"x": 2}});
    assert!(
        spec_changed(&old, &new),
        "status counts when there is no subresource"
    );
    reset_status(&old, &mut new);
    assert_eq!(new["status"], json!({"x": 1}));
    assert!(!spec_changed(&old, &new), "metadata never counts");
    let mut without = json!({"spec": {}, "status": {"x": 1}});
    reset_status(&json!({"spec": {}}), &mut without);
    assert_eq!(without, json!({"spec": {}}));
}

#[test]
fn labels_and_annotations_are_validated() {
    let d = crontabs(json!(null));
    let mut obj = crontab(json!({}));
    obj["metadata"]["labels"] = json!({"app": "web", "bad key!": "x", "tier": "front end"});
    obj["metadata"]["annotations"] = json!({"example.com/ok": "anything at all", "/nope": "x"});
    let err = admit_create(&d, "v1", obj).expect_err("bad labels");
    assert_eq!(
        causes(&err),
        vec![
            r#"metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
            r#"metadata.labels: Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"#,
            r#"metadata.annotations: Invalid value: "/nope": prefix part must be non-empty"#,
        ]
    );
}

#[test]
fn embedded_resources_need_api_version_and_kind() {
    let d = describe(json!({
        "metadata": {"name": "jobtemplates.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "jobtemplates", "kind": "JobTemplate"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}
                    }}
                }}}}]
        }
    }));
    let obj = |template: Value| {
        json!({
            "apiVersion": "example.com/v1", "kind": "JobTemplate",
            "metadata": {"name": "t", "namespace": "default"},
            "spec": {"template": template}
        })
    };
    let err = admit_create(&d, "v1", obj(json!({"apiVersion": "a/b/c", "spec": {}})))
        .expect_err("no kind");
    assert_eq!(
        causes(&err),
        vec![
            "spec.template.kind: Required value: must not be empty",
            r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#,
        ]
    );
    let ok = admit_create(&d, "v1", obj(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"x": 1}})))
        .expect("a complete embedded object");
    assert_eq!(ok.object["spec"]["template"]["spec"], json!({"x": 1}));
}

#[test]
fn deprecated_versions_carry_a_warning() {
    let mut d = crontabs(json!(null));
    assert_eq!(d.deprecation_warning("v1"), None);
    d.versions[0].deprecated = true;
    assert_eq!(
        d.deprecation_warning("v1").as_deref(),
        Some("stable.example.com/v1 CronTab is deprecated")
    );
    d.versions[0].deprecation_warning = Some("use v2".into());
    assert_eq!(d.deprecation_warning("v1").as_deref(), Some("use v2"));
}
