#!/usr/bin/env bash
# The static checks CI runs, in one place (npm run lint):
#   Biome       JavaScript and JSON: formatting and lint rules (biome.json)
#   clang-format  C++ formatting (.clang-format)
#   clang-tidy  C++ checks (.clang-tidy), warnings are errors
# `npm run format` rewrites what the first two would report.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in clang-format clang-tidy; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install $tool"; exit 2; }
done
echo "biome: JavaScript and JSON"
npx --no-install biome check .
echo "clang-format: C++"
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror
echo "clang-tidy: C++"
bash scripts/clang-tidy.sh
echo "lint: clean"
