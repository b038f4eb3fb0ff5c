#!/usr/bin/env bash
# Builds the Debian package, checks it with lintian, installs it with dpkg -i on this machine (root, or sudo),
# and checks the install: the files are where Debian expects them, the package's dependencies came from
# dpkg-shlibdeps, the smoke test passes against the installed /usr/bin/pipeline, and `systemd-analyze verify`
# accepts the installed units. Prints the package's size (the .deb and its Installed-Size). Removes the package
# again at the end (PACKAGE_TEST_KEEP=1 keeps it). .ci/run calls it after scripts/test.sh.
# Reuses ${BUILD_DIR:-build}, configured with the default prefix /usr/local (nothing is recompiled for that):
# the package must come out under /usr from such a build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
say() { echo "package_test: $*"; }
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

# dpkg-shlibdeps (dpkg-dev) computes the dependencies; lintian checks the package against Debian policy;
# systemd-analyze (systemd) checks the units.
missing=()
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
command -v lintian >/dev/null || missing+=(lintian)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=$build_dir scripts/build.sh -DCMAKE_INSTALL_PREFIX=/usr/local
rm -f "$build_dir"/pipeline_*.deb
(cd "$build_dir" && cpack -G DEB >/dev/null) || fail "cpack -G DEB failed (see $build_dir/_CPack_Packages)"
deb=$(ls "$build_dir"/pipeline_*.deb)
say "built $deb"
# Everything under /usr and nothing in /usr/local, though the build folder's prefix is /usr/local.
paths=$(dpkg-deb -c "$deb" | awk '{print $6}')
misplaced=$(grep -v -e '^\./$' -e '^\./usr/' <<<"$paths"; grep '^\./usr/local/' <<<"$paths") || true
[ -z "$misplaced" ] || fail "the package installs outside /usr or into /usr/local: $misplaced"
depends=$(dpkg-deb -f "$deb" Depends)
say "Depends: $depends"
for lib in libc6 libcurl4 libyaml-cpp libzstd1 zlib1g libssl3 libsimdjson; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib (shlibdeps?): $depends"
done
say "size: $(stat -c %s "$deb") bytes (.deb), Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"

# Any error or warning fails; info tags are printed (-I) but do not fail. lintian's note that it runs as root
# is not about the package.
lintian_rc=0
out=$(lintian -I --fail-on error,warning "$deb" 2>&1) || lintian_rc=$?
out=$(grep -v '^running with root privileges is not recommended!$' <<<"$out" || true)
say "$(lintian --version) on $(basename "$deb"): ${out:+$'\n'}${out:-no tags}"
((lintian_rc == 0)) || fail "lintian reports errors or warnings (exit $lintian_rc) on $deb"

cleanup() {
  [ "${PACKAGE_TEST_KEEP:-0}" = 1 ] || $sudo dpkg -r pipeline >/dev/null 2>&1 || true
}
trap cleanup EXIT
$sudo dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb failed"
status=$(dpkg-query -W -f='${Status} ${Version}' pipeline)
[[ $status == "install ok installed"* ]] || fail "dpkg says: $status"
say "installed: $status"

unit_dir=/usr/lib/systemd/system
for file in /usr/bin/pipeline /usr/share/man/man1/pipeline.1.gz /usr/share/bash-completion/completions/pipeline \
  /usr/share/doc/pipeline/pipeline.yaml.example /usr/share/doc/pipeline/README.md \
  /usr/share/doc/pipeline/examples/kubernetes-cronjob.yaml /usr/share/doc/pipeline/examples/airflow_dag.py \
  /usr/share/doc/pipeline/copyright /usr/share/doc/pipeline/changelog.gz \
  $unit_dir/pipeline-harvest.service $unit_dir/pipeline-harvest.timer; do
  dpkg -S "$file" >/dev/null 2>&1 || fail "$file is not in the package"
  [ -e "$file" ] || fail "$file is missing after dpkg -i"
done
/usr/bin/pipeline --version | grep -q "^pipeline " || fail "/usr/bin/pipeline --version"
man -w pipeline >/dev/null 2>&1 || say "note: man -w pipeline found no page (man-db index not updated?)"
grep -q "ExecStart=/usr/bin/pipeline " $unit_dir/pipeline-harvest.service || fail "the unit does not run /usr/bin/pipeline"
grep -q "^Documentation=file:///usr/share/doc/pipeline/README.md$" $unit_dir/pipeline-harvest.service ||
  fail "the unit's Documentation= does not name /usr/share/doc/pipeline/README.md"
bash -c 'source /usr/share/bash-completion/completions/pipeline && complete -p pipeline' >/dev/null ||
  fail "the installed completion does not register"

say "smoke test against /usr/bin/pipeline"
PIPELINE_BIN=/usr/bin/pipeline PIPELINE_FAKE_API="$PWD/$build_dir/pipeline-fake-api" scripts/smoke_test.sh >/dev/null ||
  fail "smoke test against /usr/bin/pipeline"

# systemd-analyze verify loads the units offline (no running systemd needed) and checks their syntax, the
# executables they name and the timer's unit; it exits non-zero on any problem.
if out=$(systemd-analyze verify $unit_dir/pipeline-harvest.service $unit_dir/pipeline-harvest.timer 2>&1); then
  [ -z "$out" ] || say "systemd-analyze notes: $out"
  say "systemd-analyze verify accepted the units"
elif [[ $out == *"System has not been booted with systemd"* || $out == *"Failed to connect to bus"* ]]; then
  # Some containers refuse even the offline mode: then check what can be checked by hand and say so.
  say "systemd-analyze cannot run here ($out); checking the units' keys by hand"
  grep -q '^\[Service\]' $unit_dir/pipeline-harvest.service && grep -q '^OnCalendar=' $unit_dir/pipeline-harvest.timer ||
    fail "units lack [Service] or OnCalendar="
else
  fail "systemd-analyze verify: $out"
fi
say "OK"
