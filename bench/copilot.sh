#!/usr/bin/env bash
# The copilot's accuracy on the checked-in questions (bench/copilot-questions.yml): top-1 (the
# chosen query and every expected value) and top-3 (the expected query among the first three).
# Accuracy only; nothing here is timed. Usage: bench/copilot.sh [QUESTIONS.yml]
set -euo pipefail
cd "$(dirname "$0")/.."
questions=${1:-bench/copilot-questions.yml}
swift build --product cutover >/dev/null
"$(swift build --show-bin-path)/cutover" copilot eval "$questions"
