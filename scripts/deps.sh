#!/bin/sh
# Install the Debian packages parimg needs to build and test, only those
# missing; apt-get as root, through sudo otherwise. Called by "make deps".
set -eu
pkgs="libstb-dev libdeflate-dev libjpeg62-turbo-dev libwebp-dev libjpeg-turbo-progs libcriterion-dev python3-numpy python3-pil parallel mandoc groff-base"
missing=
for p in $pkgs ${EXTRA_PKGS:-}; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
