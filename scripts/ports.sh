# scripts/ports.sh — sourced by devdb.sh and devredis.sh: a server on a TCP port of the checkout's own.
# The caller defines log and die, BASE_PORT (derived from the checkout's path), PORT_FILE and LOG_FILE.

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

# start_on_own_port FIRST LAST AVOID WHAT START: choose a port (above) and run START, a function that
# starts the server on $PORT and succeeds once it runs; when LOG_FILE says the port was taken meanwhile,
# try the next one (5 times at most). Dies with the log's last lines when it cannot start WHAT.
start_on_own_port() {
  local first=$1 last=$2 avoid=$3 what=$4 start=$5 _attempt
  for _attempt in 1 2 3 4 5; do
    choose_port "$first" "$last" "$avoid"
    if "$start"; then return 0; fi
    if tail -n 20 "$LOG_FILE" 2>/dev/null | grep -qiE 'could not bind|address already in use'; then
      log "port $PORT was taken meanwhile; retrying with another port"
      printf '%s\n' $((PORT + 1)) >"$PORT_FILE"
      continue
    fi
    break
  done
  log "last lines of $LOG_FILE:"
  tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
  die "could not start $what"
}
