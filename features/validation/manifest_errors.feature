Feature: Manifests that cannot be decoded
  Errors in a manifest file name the file, the line and the column (1-based) as
  <path>:<line>:<column>, like a compiler, together with the upstream wording.

  Scenario: an unknown field is reported with file, line and column
    # fixtures/validation/unknown_field.yaml line 6 is "  replcas: 3": the key starts in column 3.
    # Server-side strict field validation says: unknown field "spec.replcas".
    When I try to apply "fixtures/validation/unknown_field.yaml"
    Then the request is rejected with an error containing "fixtures/validation/unknown_field.yaml:6:3"
    And the request is rejected with an error containing 'unknown field "replcas" in Deployment "web" (at spec.replcas)'

  Scenario: broken YAML is reported with file, line and column
    # fixtures/validation/broken_yaml.yaml line 5 is "  labels: app: web". After "labels: "
    # a second ": " on the same line is "mapping values are not allowed in this context";
    # the scanner stops at that colon, column 14.
    When I try to apply "fixtures/validation/broken_yaml.yaml"
    Then the request is rejected with an error containing "fixtures/validation/broken_yaml.yaml:5:14"
    And the request is rejected with an error containing "mapping values are not allowed in this context"

  Scenario: a Secret with plain text under data is rejected, and the message says why
    # Line 7 is "  username: admin": "admin" is not valid base64 (5 characters), column 13.
    # The API server cannot decode it either ("illegal base64 data at input byte 4").
    When I try to apply "fixtures/validation/secret_plain_text.yaml"
    Then the request is rejected with an error containing "fixtures/validation/secret_plain_text.yaml:7:13"
    And the request is rejected with an error containing 'invalid value for data.username in Secret "db-credentials"'
    And the request is rejected with an error containing "the values under `data` must be base64-encoded; put plain text under `stringData`"
