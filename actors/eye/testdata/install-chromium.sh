#!/bin/sh
# Installs Debian's chromium (and a font for legible screenshots) for the
# dashboard test in actors/eye, unless /usr/bin/chromium is already there.
# Quiet; runs apt-get update once. `make test` calls it.
set -eu
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's chromium for the dashboard test (actors/eye)" >&2
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
test -x /usr/bin/chromium
