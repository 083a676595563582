#!/bin/sh
set -e

# Prepare the data directory, then hand over to the command.
mkdir -p /tmp/app-data
if [ "${1#-}" != "$1" ]; then
	set -- python3 /app/server.py "$@"
fi
exec "$@"
