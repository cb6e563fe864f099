#!/bin/sh
# Installs the Debian packages listed in test/system-packages.txt, idempotently.
# As root it runs apt-get; otherwise it prints the one command to run and goes on,
# so tests that need a missing tool skip with a message instead of failing obscurely.
set -eu
here=$(dirname "$0")
pkgs=$(sed -e 's/#.*//' "$here/system-packages.txt" | tr -s ' \t\n' ' ')
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all test packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing"
	echo "install-deps: run: sudo apt-get install -y --no-install-recommends$missing"
	exit 0
fi
# No service may start inside a test machine or CI (rsyslog, ssh): policy-rc.d says no.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing
}
