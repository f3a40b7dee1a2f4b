#!/bin/sh
# Prints the version packages are built with, valid for dpkg and rpm:
#   on a release tag vX.Y.Z                -> X.Y.Z
#   N commits after vX.Y.Z                 -> X.Y.Z+git<date>.<sha>
#   no tag at all                          -> 0.0.0~git<date>.<sha>
#   uncommitted changes                    -> the above + .dirty
#   not a git checkout                     -> 0.0.0~dev
# <date> is the commit's date (YYYYMMDD, UTC), so versions sort in time and
# the same commit always gives the same version. '~' sorts before the empty
# string in both dpkg and rpm, so 0.0.0~git... < 0.0.1 and < 0.0.0.
set -eu
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "0.0.0~dev"
  exit 0
fi
sha=$(git rev-parse --short=12 HEAD)
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d HEAD)
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null); then
  base=${tag#v}
  # dpkg and rpm both refuse '-' in an upstream version without a revision:
  # v1.2.0-rc1 becomes 1.2.0~rc1 (before 1.2.0 in both).
  base=$(printf '%s' "$base" | tr '-' '~')
  if [ "$(git rev-list -n1 "$tag")" = "$(git rev-parse HEAD)" ]; then
    echo "${base}${dirty}"
  else
    echo "${base}+git${date}.${sha}${dirty}"
  fi
else
  echo "0.0.0~git${date}.${sha}${dirty}"
fi
