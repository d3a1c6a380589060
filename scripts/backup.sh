#!/usr/bin/env bash
# Back up a Parcours site: the PostgreSQL database (pg_dump, custom format) and the files
# it points to (PRIVATE_ROOT: CVs, archived reports, certificates, packages, exports;
# MEDIA_ROOT: public images and documents), with a SHA-256 manifest.
#
#   DATABASE_URL=postgres://… PRIVATE_ROOT=/srv/parcours/private MEDIA_ROOT=/srv/parcours/media \
#     scripts/backup.sh /backups/parcours-$(date +%F)
#
# The database is dumped first, then the files: a row never points to a file missing from
# the same backup (files are written before their row commits); a file written during the
# backup may be there without its row, which restore tolerates. With private files on S3
# (PRIVATE_STORAGE_S3_BUCKET), back the bucket up with the provider's versioning or
# replication instead: this script then saves the database and MEDIA_ROOT only.
set -euo pipefail

dest=${1:?usage: backup.sh DESTINATION_DIRECTORY}
: "${DATABASE_URL:?DATABASE_URL (postgres://…) is required}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "backup.sh: DATABASE_URL must be PostgreSQL" >&2; exit 2;; esac
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
  echo "backup.sh: $dest exists and is not empty" >&2
  exit 2
fi
mkdir -p "$dest"
started=$(date +%s)

pg_dump --format=custom --no-owner --no-privileges --compress=6 --file="$dest/db.dump" "$DATABASE_URL"

archive_dir() {  # name directory
  if [ -n "${2:-}" ] && [ -d "$2" ]; then
    tar --create --gzip --file="$dest/$1.tar.gz" --directory="$2" .
  else
    tar --create --gzip --file="$dest/$1.tar.gz" --files-from=/dev/null
  fi
}
if [ -n "${PRIVATE_STORAGE_S3_BUCKET:-}" ]; then
  echo "backup.sh: private files are on S3 bucket $PRIVATE_STORAGE_S3_BUCKET: not archived here" >&2
  archive_dir private ""
else
  archive_dir private "${PRIVATE_ROOT:?PRIVATE_ROOT is required}"
fi
archive_dir media "${MEDIA_ROOT:-}"

(cd "$dest" && sha256sum db.dump private.tar.gz media.tar.gz > MANIFEST.sha256)
echo "backup.sh: $(du -sh "$dest" | cut -f1) in $dest ($(( $(date +%s) - started )) s)"
