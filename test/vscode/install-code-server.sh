#!/usr/bin/env bash
# Installs a real VS Code that runs offline: code-server 4.100.3 (= VS Code 1.100.3, the last release on Node 20) from
# the npm registry, plus Debian's Chromium and playwright-core to drive it. Everything lands in a cache directory
# OUTSIDE the repository (default $HOME/.cache/ztb-code-server, override with ZTB_CACHE) so a second run only checks a
# stamp file. Prints the cache directory on its last line of stdout.
#
# Why each step: npm skips install scripts (--ignore-scripts) because code-server's postinstall would try to download
# things; the native modules it needs are then built from source against the local Node 20 (argon2 for code-server
# itself; @parcel/watcher, spdlog, node-pty, ... for the VS Code server). ripgrep comes from Debian because
# @vscode/ripgrep's postinstall downloads a binary. VS Code's server looks for node_modules.asar, which only exists
# in packaged desktop builds, hence the symlink.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
RECIPE="code-server@${CODE_SERVER_VERSION} playwright-core@${PLAYWRIGHT_VERSION} node@$(node -p 'process.versions.modules') recipe-1"
CACHE="${ZTB_CACHE:-${HOME}/.cache/ztb-code-server}"
STAMP="${CACHE}/.installed"

log() { echo "[install-code-server] $*" >&2; }

install_apt_packages() {
  local wanted=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config python3 make g++)
  local missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing Debian packages: ${missing[*]} (run this script as root on Debian, or install them yourself)"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_apt_packages

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$RECIPE" ] && [ -x /usr/bin/chromium ]; then
  log "cached: $CACHE"
  echo "$CACHE"
  exit 0
fi

log "installing into $CACHE (takes several minutes the first time)"
rm -f "$STAMP"
mkdir -p "$CACHE"
cd "$CACHE"
# The cache has its own package.json: none of this is a dependency of the project itself.
if [ ! -f package.json ]; then
  echo '{ "name": "ztb-code-server-cache", "private": true }' > package.json
fi
npm install --no-audit --no-fund --ignore-scripts \
  "code-server@${CODE_SERVER_VERSION}" "playwright-core@${PLAYWRIGHT_VERSION}" >&2

log "building argon2"
(cd node_modules/argon2 && npx --yes node-pre-gyp install --fallback-to-build >&2)

log "installing the VS Code server's own dependencies"
VSCODE_DIR="$CACHE/node_modules/code-server/lib/vscode"
(
  cd "$VSCODE_DIR"
  npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2
  log "rebuilding native modules"
  npm_config_yes=true npm rebuild @parcel/watcher @vscode/spdlog node-pty native-watchdog kerberos @vscode/deviceid >&2
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  ln -sfn node_modules node_modules.asar
)

echo "$RECIPE" > "$STAMP"
log "done: $CACHE"
echo "$CACHE"
