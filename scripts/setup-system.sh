#!/usr/bin/env bash
# Installs the Debian pieces cdc_migrate needs for local runs and tests, when they are missing:
# a MySQL-protocol server (MariaDB), the MariaDB and SQLite JDBC drivers, and a Java 17 runtime.
# Quick when everything is there: it only looks at files and commands.
set -euo pipefail

missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

{ have_cmd mariadbd || [ -x /usr/sbin/mariadbd ]; } && have_cmd mariadb-install-db || missing+=(mariadb-server)
have_cmd mariadb || missing+=(mariadb-client)
[ -f /usr/share/java/mariadb-java-client.jar ] || missing+=(libmariadb-java)
[ -f /usr/share/java/sqlite-jdbc.jar ] || missing+=(libxerial-sqlite-jdbc-java)

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! have_cmd java || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  missing+=(openjdk-17-jre-headless)
fi
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif have_cmd sudo && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "setup: these Debian packages are missing and this user cannot install them:" >&2
  echo "       sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "${missing[@]}" \
  || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; }
