#!/bin/bash
# Builds the kernels as the notebook's user (ec2-user on a notebook instance,
# sagemaker-user in a Studio space), in the background (rendered at synth). Each kernel is
# a conda environment on the persistent volume, in a folder named after a hash of its
# definition: a restart reuses it, a changed definition builds a new one beside it.
set -uo pipefail
export HOME={{HOME}}
VOLUME_DIR=$HOME/{{VOLUME_DIR}}
ENVS=$VOLUME_DIR/envs
export CONDA_PKGS_DIRS=$VOLUME_DIR/pkgs
export PIP_NO_CACHE_DIR=1
{{PIP_INDEX}}
CHANNELS=(--override-channels {{CHANNELS}})
mkdir -p "$ENVS"
exec 9> "$VOLUME_DIR/build.lock"
if ! flock -n 9; then
  echo "another kernel build is running"
  exit 0
fi

conda=""
for candidate in {{CONDA}}; do
  if [ -x "$candidate" ]; then
    conda=$candidate
    break
  fi
done
if [ -z "$conda" ]; then
  echo "no conda on this instance: kernels not built" >&2
  exit 1
fi

# build NAME DISPLAY PYTHON HASH, with the packages in CONDA_PKGS and PIP_PKGS.
build() {
  local name=$1 display=$2 python=$3 hash=$4
  local prefix=$ENVS/$name-$hash
  if [ ! -f "$prefix/.smkit-ready" ]; then
    echo "$(date -u +%FT%TZ) building kernel $name in $prefix"
    # A folder without the marker is an unfinished build of this script (the instance
    # stopped mid-build). Conda environments cannot be moved, so it is built in place.
    rm -rf "$prefix"
    "$conda" create --yes --quiet --prefix "$prefix" "${CHANNELS[@]}" "python=$python" ipykernel ${CONDA_PKGS[@]+"${CONDA_PKGS[@]}"} || return 1
    if [ "${#PIP_PKGS[@]}" -gt 0 ]; then
      "$prefix/bin/python" -m pip install "${PIP_PKGS[@]}" || return 1
    fi
    touch "$prefix/.smkit-ready"
  fi
  "$prefix/bin/python" -m ipykernel install --user --name "smkit-$name" --display-name "$display" || return 1
  echo "$(date -u +%FT%TZ) kernel $name ready"
}

failed=0
{{KERNELS}}
"$conda" clean --tarballs --yes > /dev/null || true
exit "$failed"
