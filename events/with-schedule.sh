#!/bin/sh
# Prints an API fixture with its schedule id replaced by yours, for invoking the API function against a schedule
# you created (the fixtures name sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY, which exists only in the tests):
#
#   events/with-schedule.sh sch_... events/api/run-now.json > /tmp/run-now.json
#   cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port 9003 --data-file /tmp/run-now.json api
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 <schedule-id> <fixture.json>" >&2
  exit 2
fi
bad() { echo "$0: $1 does not look like a schedule id (sch_...)" >&2; exit 2; }
case "$1" in sch_*) ;; *) bad "$1" ;; esac
case "$1" in *[!A-Za-z0-9_]*) bad "$1" ;; esac
sed "s/sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY/$1/g" "$2"
