#!/usr/bin/env bash
# scripts/chromium.sh — print the path of a Chromium/Chrome binary on stdout.
#
# Looks for (in order): $CHROMIUM_BIN if set and executable, chromium,
# chromium-browser, google-chrome, google-chrome-stable (in /usr/bin or on PATH).
# If none is found and we are root with apt-get, installs Debian's `chromium`
# non-interactively (running `apt-get update` first if the plain install fails, e.g.
# because the package lists are missing), then prints its path.
# Otherwise exits 1 with the exact command to run. Messages go to stderr; stdout gets
# only the path. Never reads standard input.
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }

find_chromium() {
  local name path
  if [[ -n ${CHROMIUM_BIN:-} && -x ${CHROMIUM_BIN} ]]; then
    printf '%s\n' "$CHROMIUM_BIN"
    return 0
  fi
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if [[ -x /usr/bin/$name ]]; then
      printf '%s\n' "/usr/bin/$name"
      return 0
    fi
    if path=$(command -v "$name" 2>/dev/null) && [[ -x $path ]]; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  return 1
}

# Chinese pages need a CJK font for screenshots and for a person watching a headed run (text
# assertions do not): as root with apt, install Noto CJK when no font covers Chinese. Best effort.
ensure_cjk_font() {
  if command -v fc-list >/dev/null 2>&1 && [[ -n $(fc-list :lang=zh 2>/dev/null | head -n 1) ]]; then
    return 0
  fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "no font covers Chinese; installing it: apt-get install -y fonts-noto-cjk"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
      fonts-noto-cjk >&2 || log "could not install fonts-noto-cjk: Chinese shows as boxes in screenshots"
  else
    log "no font covers Chinese (screenshots show boxes): sudo apt-get install -y fonts-noto-cjk"
  fi
}

if find_chromium; then
  ensure_cjk_font
  exit 0
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=600)
  log "no Chromium found; installing it: apt-get install -y chromium"
  if ! apt-get "${apt_opts[@]}" install -y chromium >&2; then
    log "install failed; running apt-get update and retrying"
    apt-get "${apt_opts[@]}" update >&2 || log "apt-get update failed"
    apt-get "${apt_opts[@]}" install -y chromium >&2 || {
      log "ERROR: apt-get install -y chromium failed (see above)"
      exit 1
    }
  fi
  if find_chromium; then
    ensure_cjk_font
    exit 0
  fi
  log "ERROR: chromium was installed but no binary was found"
  exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
  log "ERROR: no Chromium found. Install it with:  sudo apt-get update && sudo apt-get install -y chromium"
else
  log "ERROR: no Chromium found. Install Chromium or Google Chrome (e.g. Debian/Ubuntu:" \
    "sudo apt-get install -y chromium), or set CHROMIUM_BIN=/path/to/chrome"
fi
exit 1
