//! What the server serves for an accepted CRD: [`ResourceDescription`], a plain summary of
//! names, scope, versions, subresources and printer columns, built by
//! [`ResourceDescription::from_crd`] from the CRD's accepted names (upstream's
//! `crdInfo` in `customresource_handler.go`).

use super::schema::any_node;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, JSONSchemaProps,
};

/// One served resource, as the API server's discovery and handlers need it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDescription {
    /// `stable.example.com`
    pub group: String,
    /// `crontabs`
    pub plural: String,
    /// `crontab`
    pub singular: String,
    /// `CronTab`
    pub kind: String,
    /// `CronTabList`
    pub list_kind: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// `spec.scope == "Namespaced"`.
    pub namespaced: bool,
    /// In the CRD's order.
    pub versions: Vec<VersionDescription>,
}

/// One version of a [`ResourceDescription`].
#[derive(Clone, Debug, PartialEq)]
pub struct VersionDescription {
    pub name: String,
    pub served: bool,
    /// Exactly one version of an admitted CRD is the storage version.
    pub storage: bool,
    pub deprecated: bool,
    pub deprecation_warning: Option<String>,
    /// `schema.openAPIV3Schema`; required for every version of an admitted v1 CRD.
    pub schema: Option<JSONSchemaProps>,
    /// `subresources.status` is set: writes to the main resource ignore `.status`.
    pub status_subresource: bool,
    pub scale: Option<ScaleDescription>,
    /// `additionalPrinterColumns`, as written (see [`VersionDescription::printer_columns`]).
    pub additional_printer_columns: Vec<CustomResourceColumnDefinition>,
    /// The schema holds `x-kubernetes-validations` (CEL) rules, which are *not* evaluated:
    /// the server should warn.
    pub has_validation_rules: bool,
}

/// `subresources.scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleDescription {
    /// `.spec.replicas`
    pub spec_replicas_path: String,
    /// `.status.replicas`
    pub status_replicas_path: String,
    /// `.status.labelSelector`
    pub label_selector_path: Option<String>,
}

impl ResourceDescription {
    /// The description of an admitted CRD, with the names the naming controller accepted
    /// (`status.acceptedNames`), falling back to the (defaulted) `spec.names`.
    pub fn from_crd(crd: &CustomResourceDefinition) -> ResourceDescription {
        let names = crd
            .status
            .as_ref()
            .and_then(|s| s.accepted_names.clone())
            .filter(|n| !n.plural.is_empty())
            .unwrap_or_else(|| crd.spec.names.clone());
        let versions = crd
            .spec
            .versions
            .iter()
            .map(|v| {
                let schema = v.schema.as_ref().and_then(|s| s.open_api_v3_schema.clone());
                let has_validation_rules = schema.as_ref().is_some_and(|s| {
                    any_node(s, &|n| {
                        n.x_kubernetes_validations
                            .as_ref()
                            .is_some_and(|r| !r.is_empty())
                    })
                });
                let sub = v.subresources.as_ref();
                VersionDescription {
                    name: v.name.clone(),
                    served: v.served,
                    storage: v.storage,
                    deprecated: v.deprecated == Some(true),
                    deprecation_warning: v.deprecation_warning.clone(),
                    schema,
                    status_subresource: sub.is_some_and(|s| s.status.is_some()),
                    scale: sub
                        .and_then(|s| s.scale.as_ref())
                        .map(|s| ScaleDescription {
                            spec_replicas_path: s.spec_replicas_path.clone(),
                            status_replicas_path: s.status_replicas_path.clone(),
                            label_selector_path: s.label_selector_path.clone(),
                        }),
                    additional_printer_columns: v
                        .additional_printer_columns
                        .clone()
                        .unwrap_or_default(),
                    has_validation_rules,
                }
            })
            .collect();
        let kind = names.kind.clone();
        ResourceDescription {
            group: crd.spec.group.clone(),
            plural: names.plural.clone(),
            singular: names
                .singular
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| kind.to_lowercase()),
            list_kind: names
                .list_kind
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("{kind}List")),
            kind,
            short_names: names.short_names.clone().unwrap_or_default(),
            categories: names.categories.clone().unwrap_or_default(),
            namespaced: crd.spec.scope == "Namespaced",
            versions,
        }
    }

    /// `CronTab.stable.example.com`: the qualified kind in `Invalid` messages.
    pub fn qualified_kind(&self) -> String {
        format!("{}.{}", self.kind, self.group)
    }

    /// `crontabs.stable.example.com`: the qualified resource in `NotFound` and similar
    /// messages.
    pub fn qualified_resource(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    pub fn version(&self, name: &str) -> Option<&VersionDescription> {
        self.versions.iter().find(|v| v.name == name)
    }

    pub fn storage_version(&self) -> Option<&VersionDescription> {
        self.versions.iter().find(|v| v.storage)
    }

    /// The warning a request to a deprecated version gets: the CRD's `deprecationWarning`, or
    /// upstream's default `stable.example.com/v1beta1 CronTab is deprecated`
    /// (`customresource_handler.go`); `None` for a version that is not deprecated.
    pub fn deprecation_warning(&self, version: &str) -> Option<String> {
        let v = self.version(version).filter(|v| v.deprecated)?;
        Some(
            v.deprecation_warning.clone().unwrap_or_else(|| {
                format!("{}/{} {} is deprecated", self.group, v.name, self.kind)
            }),
        )
    }
}

impl VersionDescription {
    /// The columns `kubectl get` shows after `NAME`: the additional printer columns, or
    /// upstream's default `AGE` column (`.metadata.creationTimestamp`) when there are none.
    pub fn printer_columns(&self) -> Vec<CustomResourceColumnDefinition> {
        if !self.additional_printer_columns.is_empty() {
            return self.additional_printer_columns.clone();
        }
        vec![CustomResourceColumnDefinition {
            name: "Age".into(),
            type_: "date".into(),
            json_path: ".metadata.creationTimestamp".into(),
            description: Some(
                "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata".into(),
            ),
            format: None,
            priority: None,
        }]
    }
}
