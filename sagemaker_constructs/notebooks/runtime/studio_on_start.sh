#!/bin/bash
# JupyterLab lifecycle configuration of a sagemaker-platform-kit Studio domain, rendered at
# synth. SageMaker runs it as sagemaker-user at every start of a JupyterLab app and fails
# the start if it runs longer than 5 minutes, so slow work (kernels) runs in background.
set -euo pipefail

# On the space's EBS volume (sagemaker-user's home), kept while the app is stopped.
KIT_DIR=/home/sagemaker-user/.smkit
mkdir -p "$KIT_DIR"

# SageMaker Python SDK defaults. Written as the SDK's admin-level config file where the
# image gives sudo (the container's root file system is new at every start, so it is
# written again each time); otherwise as the user-level file, unless the user keeps an
# own one there (a file the kit wrote starts with its marker line).
DEFAULTS="$KIT_DIR/sdk-defaults.yaml"
cat > "$DEFAULTS" <<'SMKIT_SDK_DEFAULTS'
{{SDK_DEFAULTS}}
SMKIT_SDK_DEFAULTS
USER_CONFIG=/home/sagemaker-user/.config/sagemaker/config.yaml
MARKER="# sagemaker-platform-kit SDK defaults, rewritten at every start; delete this line to keep your own"
if sudo -n true 2>/dev/null; then
  sudo install -D -m 0644 "$DEFAULTS" /etc/xdg/sagemaker/config.yaml
  echo "SageMaker SDK defaults written to /etc/xdg/sagemaker/config.yaml"
elif [ ! -s "$USER_CONFIG" ] || [ "$(head -n 1 "$USER_CONFIG")" = "$MARKER" ]; then
  mkdir -p "$(dirname "$USER_CONFIG")"
  { echo "$MARKER"; cat "$DEFAULTS"; } > "$USER_CONFIG"
  echo "SageMaker SDK defaults written to $USER_CONFIG"
else
  echo "SageMaker SDK defaults: $USER_CONFIG is the user's own; the kit's are in $DEFAULTS"
fi

{{KERNELS_SECTION}}
