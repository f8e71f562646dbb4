#!/usr/bin/env bash
# Renders a `colt5 routes` page in headless Chromium to a PNG screenshot, to look at it the way a reader will.
#
#   tools/render-routes-page.sh PAGE.html [SHOT.png [WIDTH,HEIGHT [SCALE]]]   screenshot an existing page
#   tools/render-routes-page.sh --demo [DIR [WIDTH,HEIGHT [SCALE]]]           train a tiny checkpoint (built-in
#                                     task, 200 steps, ~30 s), write a sample input, its page and the screenshot
#
# Needs chromium (Debian: apt-get install -y --no-install-recommends chromium); the demo also needs the .NET SDK.
# The screenshot is the top WIDTH×HEIGHT CSS pixels of the page (default 1400,1800), SCALE image pixels per CSS
# pixel (default 1). docs/img/routes-page.png is `--demo /tmp/routes-demo 1400,1780 0.75`.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [[ -z "$browser" ]]; then
    echo "render-routes-page: no chromium found (apt-get install -y --no-install-recommends chromium)" >&2
    exit 1
fi

shoot() {   # page.html shot.png width,height scale
    local page shot
    page=$(realpath "$1")
    shot=$(realpath -m "$2")
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
        --force-device-scale-factor="$4" --screenshot="$shot" --window-size="$3" "file://$page" 2>/dev/null >/dev/null
    [[ -s "$shot" ]] || { echo "render-routes-page: chromium wrote no screenshot" >&2; exit 1; }
    echo "screenshot: $shot"
}

if [[ "${1:-}" != "--demo" ]]; then
    [[ $# -ge 1 && -f "$1" ]] || { sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
    shoot "$1" "${2:-${1%.html}.png}" "${3:-1400,1800}" "${4:-1}"
    exit 0
fi

dir=$(realpath -m "${2:-/tmp/routes-demo}")
mkdir -p "$dir"
colt5="$repo/src/CoLT5.Cli/bin/Release/net10.0/colt5"
dotnet build -c Release "$repo/src/CoLT5.Cli" -v quiet -nologo >/dev/null
if [[ ! -f "$dir/checkpoint/model.safetensors" ]]; then
    "$colt5" train --steps 200 --plain --log-every 50 --out "$dir/checkpoint"
fi

# A retrieval-task-like input: filler words, one [key=VALUE] record, more filler, the question; plus a line with
# digits, punctuation and markup characters so every token kind appears.
awk 'BEGIN {
    srand(3); letters = "abcdefghijklmnopqrstuvwxyz"
    for (part = 1; part <= 2; part++) {
        for (len = 0; len < (part == 1 ? 300 : 400); ) {
            n = 2 + int(rand() * 6); w = ""
            for (i = 0; i < n; i++) w = w substr(letters, 1 + int(rand() * 26), 1)
            printf "%s ", w; len += n + 1
        }
        if (part == 1) printf "[4821=QZM] "
    }
    printf "?[4821\n"
    printf "On 2024-05-17 the <b>rate</b> rose 3.5%% & \"stayed\" there.\n"
}' > "$dir/input.txt"

"$colt5" routes --checkpoint "$dir/checkpoint" --input "$dir/input.txt" --out "$dir/routes.html"
shoot "$dir/routes.html" "$dir/routes.png" "${3:-1400,1800}" "${4:-1}"
