# Idle stop: the kit's runtime/idle_stop.py, embedded here (never downloaded) without
# its comments, gzip-compressed and base64-encoded to fit the lifecycle script's size
# limit. Runs every 5 minutes with the notebook's own role, as ec2-user: the Python
# that has boto3 belongs to the user, so running it as root would hand users root.
base64 -d <<'SMKIT_IDLE_STOP_PY' | gunzip > "$KIT_DIR/idle_stop.py"
{{IDLE_STOP_PY}}
SMKIT_IDLE_STOP_PY
chmod 0755 "$KIT_DIR/idle_stop.py"
install -d -m 0755 -o ec2-user -g ec2-user /var/lib/smkit
python=""
for candidate in /home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin/python3 \
  /home/ec2-user/anaconda3/bin/python3 /home/ec2-user/anaconda3/envs/*/bin/python3 \
  /usr/bin/python3; do
  if [ -x "$candidate" ] && runuser -u ec2-user -- "$candidate" -c 'import boto3' 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  # Refuse to start rather than run a (GPU) instance nothing would stop.
  echo "idle stop: no Python with boto3 on this instance" >&2
  exit 1
fi
command="$python $KIT_DIR/idle_stop.py --notebook-name {{NOTEBOOK_NAME}} --idle-minutes {{IDLE_MINUTES}} --log-group {{LOG_GROUP}} --region {{REGION}} --state-file /var/lib/smkit/idle-stop-state.json"
if command -v crond >/dev/null 2>&1; then
  echo "*/5 * * * * ec2-user $command >> /var/lib/smkit/idle-stop.log 2>&1" > /etc/cron.d/smkit-idle-stop
  chmod 0644 /etc/cron.d/smkit-idle-stop
  echo "idle stop scheduled by cron: after {{IDLE_MINUTES}} idle minutes"
else
  # Platforms without cron (Amazon Linux 2023 drops it) get a systemd timer instead.
  printf '[Service]\nType=oneshot\nUser=ec2-user\nExecStart=%s\n' "$command" > /etc/systemd/system/smkit-idle-stop.service
  printf '[Timer]\nOnBootSec=5min\nOnUnitActiveSec=5min\n[Install]\nWantedBy=timers.target\n' > /etc/systemd/system/smkit-idle-stop.timer
  systemctl daemon-reload
  systemctl enable --now smkit-idle-stop.timer
  echo "idle stop scheduled by a systemd timer: after {{IDLE_MINUTES}} idle minutes"
fi
