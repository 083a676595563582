#!/bin/bash
set -euo pipefail

mkdir -p /etc/greeter
cat > /etc/greeter/greeter.conf <<CONF
greeting=${GREETING}
port=${LISTEN_PORT}
CONF

exec "$@"
