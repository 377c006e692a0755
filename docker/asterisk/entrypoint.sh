#!/bin/sh
# Copy the project's configuration in and write the per-deployment includes, then run Asterisk.
set -eu
conf=/etc/asterisk
gen=$conf/generated
find "$conf" -maxdepth 1 -type f -delete
cp /opt/switchboard/asterisk-conf/*.conf "$conf/"
mkdir -p "$gen"
echo "bindport = ${HTTP_PORT:-8088}" > "$gen/http.conf"
echo "port = ${AMI_PORT:-5038}" > "$gen/manager_general.conf"
cat > "$gen/manager_users.conf" <<EOT
[switchboard]
secret = ${SWITCHBOARD_AMI_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,agent,user,dtmf,reporting
write = system,call,agent,user,command,originate,reporting
eventfilter = !Event: TestEvent
eventfilter = !Event: Newexten
eventfilter = !Event: VarSet
EOT
printf '[switchboard]\ntype = user\nread_only = no\npassword = %s\n' "$SWITCHBOARD_ARI_PASSWORD" > "$gen/ari_users.conf"
printf 'rtpstart = %s\nrtpend = %s\n' "${RTP_START:-10000}" "${RTP_END:-20000}" > "$gen/rtp.conf"
echo "bind = ${SIP_BIND:-0.0.0.0:5060}" > "$gen/pjsip_transport_udp.conf"
# where the trunk sends outbound calls (the carrier's SBC, e.g. sip:sbc.carrier.example:5060)
if [ -n "${SWITCHBOARD_TRUNK_CONTACT:-}" ]; then
  echo "contact = $SWITCHBOARD_TRUNK_CONTACT" > "$gen/pjsip_trunk_contact.conf"
else
  echo "; no SWITCHBOARD_TRUNK_CONTACT: the trunk takes the carrier's calls only" > "$gen/pjsip_trunk_contact.conf"
fi
# `switchboard call` (a demo customer) sends its INVITE to Asterisk's own SIP port ([sb-loopback])
sip_bind=${SIP_BIND:-0.0.0.0:5060}
echo "contact = sip:127.0.0.1:${sip_bind##*:}" > "$gen/pjsip_loopback_contact.conf"
[ -f "$gen/pjsip_agents.conf" ] || echo "; written by the orchestrator" > "$gen/pjsip_agents.conf"
[ -f "$gen/queue_members.conf" ] || echo "; written by the orchestrator" > "$gen/queue_members.conf"
[ -f "$gen/extensions_work_numbers.conf" ] || echo "; written by the orchestrator" > "$gen/extensions_work_numbers.conf"
# outbound route, company number and display-number key (derived from the secret key): the orchestrator
# writes the real values and reloads the dialplan; until then outbound calls go to the trunk
[ -f "$gen/extensions_globals.conf" ] || echo "; written by the orchestrator" > "$gen/extensions_globals.conf"
chmod 600 "$gen/manager_users.conf" "$gen/ari_users.conf"
# The call ledger (cel_custom.conf): Asterisk appends to it, the worker (user nobody) reads it and
# renames it when it rotates it.
mkdir -p /var/log/asterisk/cel-custom
chmod 0777 /var/log/asterisk/cel-custom
# Asterisk reads its configuration after it has dropped to user asterisk (-U below).
chown asterisk:asterisk "$gen/manager_users.conf" "$gen/ari_users.conf"
exec /usr/sbin/asterisk -f -U asterisk -G asterisk -vvv
