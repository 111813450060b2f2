# Shared by .ci/run and the stage scripts: timing and a summary at the end.
# shellcheck shell=bash
CI_STAGE_TIMES=()
CI_START=$(date +%s)

# stage NAME COMMAND...: runs COMMAND, prints how long it took, and stops CI
# (after printing the summary) when it fails.
stage() {
  local name=$1
  shift
  local t0 rc
  t0=$(date +%s)
  printf '\n===== stage: %s =====\n' "$name"
  set +e
  "$@"
  rc=$?
  set -e
  local took=$(($(date +%s) - t0))
  CI_STAGE_TIMES+=("$(printf '%-28s %5ss  %s' "$name" "$took" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED ($rc)")")")
  printf '===== stage %s: %ss (%s) =====\n' "$name" "$took" "$([ "$rc" -eq 0 ] && echo ok || echo "exit $rc")"
  if [ "$rc" -ne 0 ]; then
    ci_summary
    exit "$rc"
  fi
}

ci_summary() {
  printf '\n===== CI stages =====\n'
  printf '%s\n' "${CI_STAGE_TIMES[@]}"
  printf '%-28s %5ss\n' total "$(($(date +%s) - CI_START))"
}
