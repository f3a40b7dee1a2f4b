#!/usr/bin/env bash
# Installs the .deb in dist/ (make packages), starts hotswapd from it the way
# its systemd unit does (the unit's ExecStart and EnvironmentFile, as the
# hotswap user, without privileges), checks /health, the bootstrap token
# (in its file, mode 0600, not on stdout) and the packaged CLI, then purges
# the package and checks what purge must delete. Runs as root on Debian or
# Ubuntu; systemd need not be running. Safe to run again: a hotswap package
# left by an interrupted run is purged first (with CI=true; elsewhere it
# refuses to touch an installed hotswap).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "check-package: $*"; }
die() { echo "check-package: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs and purges the package)"
shopt -s nullglob
debs=(dist/hotswap_*_amd64.deb)
[ ${#debs[@]} -eq 1 ] || die "want exactly one dist/hotswap_*_amd64.deb (make packages), found ${#debs[@]}"
deb=${debs[0]}
unit=/lib/systemd/system/hotswapd.service
export DEBIAN_FRONTEND=noninteractive

purge() {
  apt-get purge -y -qq hotswap >/dev/null
}
if dpkg-query -W -f='${Status}' hotswap 2>/dev/null | grep -qv 'not-installed'; then
  [ "${CI:-}" = true ] || die "a hotswap package is installed; this check would purge it (and /var/lib/hotswap). Set CI=true to allow."
  say "purging the hotswap package a previous run left"
  purge
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if dpkg-query -W -f='${Status}' hotswap 2>/dev/null | grep -q 'installed'; then purge || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say "installing $deb"
apt-get install -y -qq --no-install-recommends "./$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "install failed"; }
version=$(dpkg-query -W -f='${Version}' hotswap)
say "installed hotswap $version"
getent passwd hotswap >/dev/null || die "no hotswap user after install"
[ "$(stat -c %U:%a /var/lib/hotswap)" = hotswap:700 ] || die "/var/lib/hotswap is $(stat -c %U:%a /var/lib/hotswap), want hotswap:700"
[ "$(stat -c %U:%a /etc/hotswap/agent.yaml)" = hotswap:600 ] || die "/etc/hotswap/agent.yaml is $(stat -c %U:%a /etc/hotswap/agent.yaml), want hotswap:600"
/usr/bin/hotswap --version >/dev/null || die "the packaged CLI does not run"
wants=/etc/systemd/system/multi-user.target.wants
if command -v systemctl >/dev/null; then
  [ -L "$wants/hotswapd.service" ] && [ -L "$wants/hotswap-agent.service" ] || die "the units were not enabled on install"
fi
if command -v systemd-analyze >/dev/null; then
  ./scripts/check-systemd.sh /lib/systemd/system/hotswapd.service /lib/systemd/system/hotswap-agent.service
fi

# free_port prints a loopback port nothing listens on.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port found"
}
http_port=$(free_port) rpc_port=$(free_port) raft_port=$(free_port)

# http_get PATH prints the status code of GET PATH on the started server.
http_get() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$http_port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  reply=$(cat <&3)
  exec 3<&-
  sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$reply"
}

# The unit's command line, environment file and user, as systemd would use
# them; only the addresses are moved to free ports.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
[ -n "$exec_start" ] && [ -n "$user" ] || die "$unit has no ExecStart or User"
say "starting: $exec_start (as $user)"
(
  cd /
  set -a
  # shellcheck disable=SC1091
  [ -r /etc/hotswap/hotswapd.env ] && . /etc/hotswap/hotswapd.env
  set +a
  # The shipped config names no certificates yet: this check is of the unit,
  # its user and its sandbox, so it asks for plaintext explicitly.
  export HOTSWAPD_PLAINTEXT=true
  export HOTSWAPD_HTTP_ADDR=127.0.0.1:$http_port HOTSWAPD_RPC_ADDR=127.0.0.1:$rpc_port HOTSWAPD_RAFT_ADDR=127.0.0.1:$raft_port
  # shellcheck disable=SC2086 # ExecStart is plain words
  exec setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all -- $exec_start
) >"$work/stdout" 2>"$work/stderr" </dev/null &
pid=$!

code=""
for _ in $(seq 300); do
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; die "hotswapd exited"; }
  code=$(http_get /health 2>/dev/null || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { cat "$work/stderr" >&2; die "/health answered '${code:-nothing}' within 30s, want 200"; }
say "/health 200 on 127.0.0.1:$http_port"

token_file=/var/lib/hotswap/bootstrap-token
for _ in $(seq 100); do [ -s "$token_file" ] && break; sleep 0.1; done
[ -s "$token_file" ] || die "no $token_file"
[ "$(stat -c %U:%a "$token_file")" = "$user:600" ] || die "$token_file is $(stat -c %U:%a "$token_file"), want $user:600"
token=$(cat "$token_file")
if grep -qF "$token" "$work/stdout" "$work/stderr"; then die "the admin token was printed; the unit must keep it in $token_file only"; fi
HOTSWAP_ADDR=http://127.0.0.1:$http_port HOTSWAP_TOKEN_FILE=$token_file /usr/bin/hotswap cluster status >"$work/status" ||
  die "hotswap cluster status with the bootstrap token failed"
say "bootstrap token in $token_file only; hotswap cluster status works with it"
if find /var/lib/hotswap ! -user "$user" | grep -q .; then die "files under /var/lib/hotswap not owned by $user"; fi

kill -TERM "$pid"
for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then die "hotswapd did not stop within 15s of SIGTERM"; fi
wait "$pid" || die "hotswapd exited non-zero after SIGTERM: $(tail -n3 "$work/stderr")"
pid=""

apt-get remove -y -qq hotswap >/dev/null
[ -s "$token_file" ] || die "remove deleted the data ($token_file), it must keep it"
[ ! -e /usr/bin/hotswapd ] || die "remove left /usr/bin/hotswapd"
[ ! -e "$wants/hotswapd.service" ] || die "remove left hotswapd.service enabled"
purge
[ ! -e /var/lib/hotswap ] && [ ! -e /etc/hotswap ] || die "purge left /var/lib/hotswap or /etc/hotswap"
say "removed (data kept), then purged (data gone): ok"
