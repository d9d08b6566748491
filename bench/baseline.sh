#!/usr/bin/env bash
# Today's scripts, re-created for the benchmark (the method of backup-table.sh / restore-table.sh):
#   backup:  one `aws dynamodb scan` into a single JSON file;
#   restore: one `aws dynamodb batch-write-item` process per 25-item batch, sequential,
#            UnprocessedItems ignored (the CLI prints them and the script carries on).
# usage: baseline.sh backup  <endpoint> <table> <file>
#        baseline.sh restore <endpoint> <table> <file>
set -euo pipefail
cmd=$1 endpoint=$2 table=$3 file=$4
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""

case "$cmd" in
  backup)
    aws dynamodb scan --table-name "$table" --endpoint-url "$endpoint" --output json > "$file"
    ;;
  restore)
    total=$(jq '.Items | length' "$file")
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    for ((i = 0; i < total; i += 25)); do
      jq -c --arg t "$table" --argjson i "$i" '{($t): [.Items[$i:$i+25][] | {PutRequest: {Item: .}}]}' "$file" > "$dir/batch.json"
      aws dynamodb batch-write-item --request-items "file://$dir/batch.json" --endpoint-url "$endpoint" --output json > /dev/null
      echo "restored $((i + 25 < total ? i + 25 : total))/$total" >&2
    done
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
