# shellcheck shell=bash
# Shell helpers shared by run.sh and apply-config.sh: render the templates in
# this folder. Source it; it defines functions only. The e2e harness
# (tests/support/mod.rs) renders the same templates the same way.
#
# Rendering is plain token replacement: @NAME@ -> value. Values that land
# inside JSON are JSON string literals (see json_string), so any path or
# plugin config renders to valid JSON (and JSON is valid YAML).

envoy_test_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The contents of stdin as one JSON string literal. Exact for any valid JSON
# document (JSON text never holds raw control characters inside strings, so
# turning newlines, tabs and CRs into spaces changes only whitespace).
json_string() {
  local text
  text="$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
  text="$(printf '%s' "$text" | tr '\n\r\t' '   ')"
  printf '"%s"' "$text"
}

# render TEMPLATE NAME=VALUE...: prints TEMPLATE with every @NAME@ replaced.
render() {
  local text pair name value
  text="$(cat "$envoy_test_dir/$1")"
  shift
  for pair in "$@"; do
    name="${pair%%=*}"
    value="${pair#*=}"
    # Quoted replacement: '&' and '\' in the value stay literal.
    text="${text//@"$name"@/"$value"}"
  done
  printf '%s\n' "$text"
}

# One line: the templates are JSON, whose strings never hold raw newlines,
# so a multi-line template becomes a single YAML flow mapping.
one_line() {
  tr '\n' ' '
}

# wasm_filter WASM_PATH PLUGIN_JSON_FILE: the Wasm filter's typed_config.
wasm_filter() {
  render wasm-filter.json.tmpl \
    "CANARY_WASM=$(printf '%s' "$1" | json_string)" \
    "PLUGIN_CONFIG=$(json_string <"$2")" | one_line
}

# ecds_resource WASM_PATH PLUGIN_JSON_FILE VERSION: the ECDS file's contents,
# a DiscoveryResponse holding the filter's TypedExtensionConfig.
ecds_resource() {
  render ecds-resource.json.tmpl \
    "VERSION=$(printf '%s' "$3" | json_string)" \
    "WASM_FILTER=$(wasm_filter "$1" "$2")"
}

# stage_ecds_file ECDS_FILE WASM_PATH PLUGIN_JSON_FILE VERSION: writes the
# new ECDS file in full under a sibling staging folder and prints its path,
# ready to be renamed over ECDS_FILE (Envoy reloads on a move only).
stage_ecds_file() {
  local target="$1" staging
  staging="$(dirname "$(dirname "$target")")/ecds-staging"
  mkdir -p "$staging"
  ecds_resource "$2" "$3" "$4" >"$staging/$(basename "$target")"
  printf '%s\n' "$staging/$(basename "$target")"
}

# write_ecds_file ECDS_FILE WASM_PATH PLUGIN_JSON_FILE VERSION: writes the
# ECDS file the way Envoy needs it: staged in full, then renamed into the
# watched folder.
write_ecds_file() {
  local staged
  staged="$(stage_ecds_file "$@")"
  mv -f "$staged" "$1"
}

# bootstrap_ecds ADMIN FRONT V1 V2 V3 ECDS_FILE: the bootstrap in ECDS mode.
# The connection manager's early header mutation that strips a client's
# routing headers (one line, for the @EARLY_STRIP@ token).
early_strip='early_header_mutation_extensions: [{name: envoy.http.early_header_mutation.header_mutation, typed_config: {"@type": type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation, mutations: [{remove: x-canary-cluster}, {remove: x-canary-version}]}}]'

bootstrap_ecds() {
  local source
  source="config_discovery: $(render config-discovery.json.tmpl \
    "ECDS_FILE=$(printf '%s' "$6" | json_string)" \
    "ECDS_DIR=$(dirname "$6" | json_string)" | one_line)"
  render envoy.yaml.tmpl "ADMIN_PORT=$1" "FRONT_PORT=$2" "PAY_V1_PORT=$3" \
    "PAY_V2_PORT=$4" "PAY_V3_PORT=$5" "CANARY_FILTER_SOURCE=$source" "EARLY_STRIP=$early_strip"
}

# bootstrap_static ADMIN FRONT V1 V2 V3 WASM_PATH PLUGIN_JSON_FILE: the
# bootstrap with the plugin config inline.
bootstrap_static() {
  render envoy.yaml.tmpl "ADMIN_PORT=$1" "FRONT_PORT=$2" "PAY_V1_PORT=$3" \
    "PAY_V2_PORT=$4" "PAY_V3_PORT=$5" "CANARY_FILTER_SOURCE=typed_config: $(wasm_filter "$6" "$7")" \
    "EARLY_STRIP=$early_strip"
}
