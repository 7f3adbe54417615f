# Kernels: built as ec2-user in the background (setsid, so the build outlives this
# script); progress in ~/SageMaker/.smkit/kernels.log.
cat > "$KIT_DIR/build_kernels.sh" <<'SMKIT_BUILD_KERNELS'
{{BUILD_KERNELS}}
SMKIT_BUILD_KERNELS
chmod 0755 "$KIT_DIR/build_kernels.sh"
setsid runuser -u ec2-user -- /bin/bash "$KIT_DIR/build_kernels.sh" >> "$VOLUME_DIR/kernels.log" 2>&1 < /dev/null &
echo "kernels: building in the background, see $VOLUME_DIR/kernels.log"
