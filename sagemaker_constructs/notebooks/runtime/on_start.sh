#!/bin/bash
# On-start lifecycle script of a sagemaker-platform-kit notebook instance, rendered at
# synth with the notebook's settings. SageMaker runs it as root at every start and fails
# the start if it runs longer than 5 minutes, so slow work (kernels) runs in background.
set -euo pipefail

# Root-owned, on the root volume (rewritten at every start): users without root cannot
# change what runs as root. The notebook volume holds what must survive a restart.
KIT_DIR=/opt/smkit
VOLUME_DIR=/home/ec2-user/SageMaker/.smkit
install -d -m 0755 "$KIT_DIR"
install -d -m 0755 -o ec2-user -g ec2-user "$VOLUME_DIR"

# SageMaker Python SDK defaults: the SDK's admin-level config file, read by every SDK
# session of every user; a user's ~/.config/sagemaker/config.yaml can still override it.
install -d -m 0755 /etc/xdg/sagemaker
cat > /etc/xdg/sagemaker/config.yaml <<'SMKIT_SDK_DEFAULTS'
{{SDK_DEFAULTS}}
SMKIT_SDK_DEFAULTS
chmod 0644 /etc/xdg/sagemaker/config.yaml
echo "SageMaker SDK defaults written to /etc/xdg/sagemaker/config.yaml"

{{IDLE_STOP_SECTION}}

{{KERNELS_SECTION}}
