#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and empty file roots:
#
#   DATABASE_URL=postgres://…/parcours_restored PRIVATE_ROOT=/srv/restore/private \
#   MEDIA_ROOT=/srv/restore/media scripts/restore.sh /backups/parcours-2026-12-06
#
# The manifest is checked first (a damaged backup restores nothing). The database must exist
# and be empty (createdb); the roots must be missing or empty. Then run
# `manage.py migrate` (a no-op on a backup of the same version) and start the site.
set -euo pipefail

src=${1:?usage: restore.sh BACKUP_DIRECTORY}
: "${DATABASE_URL:?DATABASE_URL (postgres://…) of the empty target database is required}"
: "${PRIVATE_ROOT:?PRIVATE_ROOT is required}"
: "${MEDIA_ROOT:?MEDIA_ROOT is required}"
started=$(date +%s)

(cd "$src" && sha256sum --check --quiet MANIFEST.sha256)

tables=$(psql "$DATABASE_URL" -XAtc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database is not empty ($tables tables)" >&2
  exit 2
fi
for root in "$PRIVATE_ROOT" "$MEDIA_ROOT"; do
  if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then
    echo "restore.sh: $root is not empty" >&2
    exit 2
  fi
done

pg_restore --no-owner --no-privileges --exit-on-error --jobs="${RESTORE_JOBS:-2}" --dbname="$DATABASE_URL" "$src/db.dump"
mkdir -p "$PRIVATE_ROOT" "$MEDIA_ROOT"
tar --extract --gzip --file="$src/private.tar.gz" --directory="$PRIVATE_ROOT"
tar --extract --gzip --file="$src/media.tar.gz" --directory="$MEDIA_ROOT"
psql "$DATABASE_URL" -XqAtc "ANALYZE" >/dev/null
echo "restore.sh: restored in $(( $(date +%s) - started )) s"
