#!/usr/bin/env bash
# Lints template.yaml with cfn-lint and with `sam validate --lint` (which adds the SAM transform). Expects the
# virtual environment .ci/sam-venv with cfn-lint and aws-sam-cli (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.ci/sam-venv/bin
"$venv/cfn-lint" template.yaml
SAM_CLI_TELEMETRY=0 "$venv/sam" validate --lint --region us-east-1 --template-file template.yaml
echo "template.yaml: cfn-lint and sam validate --lint clean"
