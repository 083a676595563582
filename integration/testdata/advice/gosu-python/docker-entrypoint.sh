#!/bin/sh
set -e

# As root: prepare the data directory for the application's user, then
# run this script again as that user.
if [ "$(id -u)" = '0' ]; then
	mkdir -p /data/cache
	chown -R app:app /data
	exec gosu app "$0" "$@"
fi
exec "$@"
