#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (trust auth, user postgres) before the
# tests run: start the local cluster if it is stopped, install one if the machine has none.
set -euo pipefail
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
  echo "postgres: ready on $host:$port"
  exit 0
fi

if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "postgres: no local cluster; installing PostgreSQL from Debian's packages"
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres: not running and not installed; install PostgreSQL 15 or set PGHOST/PGPORT" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "postgres: starting cluster $version/main"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  ready && { echo "postgres: ready on $host:$port"; exit 0; }
  sleep 1
done
echo "postgres: did not become ready on $host:$port; see /var/log/postgresql/" >&2
exit 1
