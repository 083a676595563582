#!/bin/bash
set -euo pipefail
echo "${APP_GREETING}: $(wc -l < /usr/share/app-packages.txt) packages"
