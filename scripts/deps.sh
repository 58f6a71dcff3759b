#!/bin/sh
# Install the Debian packages parimg needs to build and test, only those
# missing; apt-get as root, through sudo otherwise. Called by "make deps".
set -eu
pkgs="libstb-dev libdeflate-dev libjpeg62-turbo-dev libwebp-dev libjpeg-turbo-progs libcriterion-dev python3-numpy python3-pil parallel mandoc groff-base"
# TIFF (libtiff), the workers' seccomp filter, check's duplicate hash.
pkgs="$pkgs libtiff-dev libseccomp-dev libxxhash-dev"
# Test oracles and fixture makers: torchvision's transforms, ImageMagick's
# and libtiff's writers.
pkgs="$pkgs python3-torchvision imagemagick libtiff-tools"
# check's hash test: imagehash's phash is defined by scipy.fftpack's DCT.
pkgs="$pkgs python3-scipy"
# Archives as inputs (libarchive), and the archive test's makers.
pkgs="$pkgs libarchive-dev zstd xz-utils bzip2 zip"
# HEIC/HEIF (libheif; libde265 called by parimg's own plugin), AVIF
# (libavif: dav1d), JPEG XL
# (libjxl), JPEG 2000 (OpenJPEG); their tools make and check the fixtures of
# tests/cli_newformats_test.py (heif-enc, avifenc/avifdec, cjxl/djxl,
# opj_compress/opj_decompress).
pkgs="$pkgs libheif-dev libde265-dev libheif-examples libjxl-dev libjxl-tools libopenjp2-7-dev"
pkgs="$pkgs libopenjp2-tools libavif-dev libavif-bin"
# check's test runs the man page's jq one-liner.
pkgs="$pkgs jq"
# The Slurm test's own cluster (scripts/slurm_local.sh).
pkgs="$pkgs munge slurmctld slurmd slurm-client"
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
# No service starts on install (munge's, slurmctld's, slurmd's): a
# policy-rc.d that forbids it, for this apt-get only, in place of any there.
policy=/usr/sbin/policy-rc.d
saved=$policy.parimg-deps
if [ -e "$saved" ]; then	# the one there before an interrupted run
	trap '$sudo mv "$saved" "$policy"' EXIT
elif [ -e "$policy" ]; then
	$sudo mv "$policy" "$saved"
	trap '$sudo mv "$saved" "$policy"' EXIT
else
	trap '$sudo rm -f "$policy"' EXIT
fi
trap 'exit 1' HUP INT TERM
printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' |
	$sudo tee "$policy" >/dev/null
$sudo chmod 755 "$policy"
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
