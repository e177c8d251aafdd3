# scripts/ports.sh — sourced by devdb.sh and devredis.sh: a TCP port of the checkout's own.
# The caller defines log and die, BASE_PORT (derived from the checkout's path) and PORT_FILE.

port_in_use() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# choose_port FIRST LAST AVOID: set PORT to the port recorded in PORT_FILE (else BASE_PORT) or, when
# something else listens there, the next free one in FIRST..LAST (wrapping, never AVOID); record it.
choose_port() {
  local first=$1 last=$2 avoid=$3 p=$BASE_PORT i
  if [[ -r $PORT_FILE ]]; then
    read -r p <"$PORT_FILE" || p=$BASE_PORT
    [[ $p =~ ^[0-9]+$ ]] || p=$BASE_PORT
  fi
  for ((i = first; i <= last; i++)); do
    if [[ $p != "$avoid" ]] && ! port_in_use "$p"; then
      PORT=$p
      printf '%s\n' "$PORT" >"$PORT_FILE"
      return 0
    fi
    log "port $p is in use by something else; trying the next one"
    p=$((p + 1))
    if ((p > last)); then p=$first; fi
  done
  die "no free TCP port found in $first-$last"
}
