#!/usr/bin/env bash
# scripts/test.sh — run the whole suite and the time-dependent tests at every instant, TEST_JOBS at a time.
#
# `make test` calls it (`make test-instants` with --instants-only); the Makefile passes its variables in the
# environment: BIN, TEST_DB, TEST_REDIS_DB, PYTEST_ARGS, INSTANT_TESTS, TEST_INSTANTS, INSTANT_ARGS, TEST_JOBS.
#
# Jobs: the whole suite (at the machine's clock), then INSTANT_TESTS at each instant of TEST_INSTANTS
# ("YYYY-MM-DD HH:MM Zone", ';' between them) with the machine's TZ set to that zone. INSTANT_ARGS leave out,
# at every instant, what does not depend on the instant but costs (the whole suite runs it); an instant
# written with a trailing "+demo" keeps the tests marked demo_city (each loads the whole demo city, ~10 s).
# Each job has databases of its own ($TEST_DB_at<N>_test, _e2e, _migration_test) and Redis database
# (TEST_REDIS_DB + N, modulo 16), so jobs never share a row; its output goes to instance/test-logs/<job>.log
# and is printed when the job ends. Exits 1 if any job failed, naming them.
set -uo pipefail
cd "$(dirname "$0")/.."

only_instants=false
[[ ${1:-} == --instants-only ]] && only_instants=true
jobs_max=${TEST_JOBS:-2}
logs=instance/test-logs
mkdir -p "$logs"
rm -f "$logs"/*.log

labels=() dbs=() redis=() zones=() runs=()
if ! $only_instants; then
  labels+=(suite) dbs+=("$TEST_DB") redis+=("$TEST_REDIS_DB") zones+=("${TZ:-}")
  runs+=("$BIN/python -m pytest $PYTEST_ARGS")
fi
IFS=';' read -ra instants <<< "$(tr -s ' \t\n' ' ' <<< "$TEST_INSTANTS")"
n=0
for at in "${instants[@]}"; do
  at=$(sed 's/^ *//; s/ *$//' <<< "$at")
  [[ -n $at ]] || continue
  n=$((n + 1))
  filter="-m 'not demo_city'"
  if [[ $at == *" +demo" ]]; then
    at=${at% +demo}
    filter=""
  fi
  labels+=("at $at") dbs+=("${TEST_DB}_at$n") redis+=("$(((TEST_REDIS_DB + n) % 16))") zones+=("${at##* }")
  runs+=("$BIN/python -m pytest -q --at '$at' $filter $INSTANT_ARGS $INSTANT_TESTS")
done

# Set up once, one after another, what the jobs would otherwise race for: the cluster and each job's
# databases, Redis, Chromium, the compiled catalogues.
for i in "${!labels[@]}"; do
  make --no-print-directory test-env-run TEST_DB="${dbs[$i]}" TEST_REDIS_DB="${redis[$i]}" \
    RUN=true || exit 1
done

log_of() { echo "$logs/$(tr -c 'A-Za-z0-9_.\n-' '_' <<< "$1").log"; }
declare -A started=() label_of=()
failed=()
finish() {  # pid status
  local pid=$1 status=$2 label=${label_of[$1]}
  echo "== $label: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $(($(date +%s) - started[$pid])) s"
  cat "$(log_of "$label")"
  [[ $status -eq 0 ]] || failed+=("$label")
}
running=()
reap() {  # wait for one running job to end, report it and forget it
  local pid status rest=()
  wait -n -p pid "${running[@]}"
  status=$?
  finish "$pid" "$status"
  for other in "${running[@]}"; do [[ $other == "$pid" ]] || rest+=("$other"); done
  running=(${rest[@]+"${rest[@]}"})
}
for i in "${!labels[@]}"; do
  while ((${#running[@]} >= jobs_max)); do
    reap
  done
  file=$(log_of "${labels[$i]}")
  echo "== ${labels[$i]}: started (log: $file)"
  (
    [[ -n ${zones[$i]} ]] && export TZ="${zones[$i]}"
    exec make --no-print-directory -o translations test-env-run TEST_DB="${dbs[$i]}" \
      TEST_REDIS_DB="${redis[$i]}" RUN="${runs[$i]}" </dev/null >"$file" 2>&1
  ) &
  started[$!]=$(date +%s) label_of[$!]=${labels[$i]}
  running+=("$!")
done
while ((${#running[@]})); do
  reap
done

if ((${#failed[@]})); then
  printf 'failed: %s\n' "$(IFS=';'; echo "${failed[*]}")"
  exit 1
fi
echo "every job passed"
