# Kernels: built in the background (setsid and nohup, so the build outlives this script
# and the start is not held up); progress in ~/.smkit/kernels.log.
cat > "$KIT_DIR/build_kernels.sh" <<'SMKIT_BUILD_KERNELS'
{{BUILD_KERNELS}}
SMKIT_BUILD_KERNELS
chmod 0755 "$KIT_DIR/build_kernels.sh"
nohup setsid /bin/bash "$KIT_DIR/build_kernels.sh" >> "$KIT_DIR/kernels.log" 2>&1 < /dev/null &
echo "kernels: building in the background, see $KIT_DIR/kernels.log"
