# bench/lib.sh: what bench/build and bench/disk share: the Kiln service under test, composes timed through its
# socket, the frozen package set and the host's mirrors for mmdebstrap, the peer's warm caches, its run at its best
# and Kiln's hygiene as its hook. Sourced with $work (the bench's directory) and $fast (the peer's tmpfs place) set.

# port → starts Kiln the documented way (bin/kiln-service) on $work/state and waits for it
start_kiln() {
  bin/kiln-service --kiln.state-dir="$work/state" --kiln.api.socket="$work/api.socket" --kiln.api.port="$1" >"$work/kiln.log" 2>&1 &
  server=$!
  shm="/dev/shm/kiln-$(printf '%s' "$work/state" | sha256sum | cut -c1-12)"
  for _ in $(seq 1 120); do kiln status show >/dev/null 2>&1 && break; sleep 1; done
}
load=()
# the fixed background load both sides run under: two busy loops at nice 0
start_load() { for _ in 1 2; do nice -n 0 sh -c 'while :; do :; done' & load+=($!); done; sleep 2; }
stop_load() { for p in "${load[@]}"; do kill "$p" 2>/dev/null || true; done; load=(); }
# at exit: the service stopped, and what the bench made goes but its logs (its own, the composes' logs and
# metrics): trees, images and caches of gigabytes left behind stay in the page cache and change how memory is served
# to whatever runs next on this VM (a bench/disk after 17 GB of page cache written by other work: Kiln's rounds
# 15.3 / 17.6 / 16.1 s against 13.6 / 13.8 / 14.0 s without it; noisy, but nothing a bench should leave to chance)
stop_all() {
  stop_load; kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  rm -rf "$shm-trees" "$shm-bases" "$fast"
  if grep -q " $work/" /proc/self/mounts; then
    echo "$work kept: something is still mounted under it" >&2
  else
    find "$work" -mindepth 1 -maxdepth 1 ! -name '*.log' ! -name state -exec rm -rf {} +
    find "$work/state" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
    find "$work/state/results" -mindepth 2 -maxdepth 2 ! -name logs ! -name metrics.json -exec rm -rf {} +
  fi
}
KILN="$(pwd)/bin/kiln"
kiln() { "$KILN" -s "$work/api.socket" "$@"; }  # the unix socket: the Weldr API is not on TCP by default
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
min() { printf '%s\n' "$@" | sort -n | head -1; }

# blueprint type → prints the seconds from `kiln compose start` to FINISHED, leaves the UUID in $work/uuid. The
# compose's results/<UUID>/STATUS (finalize writes FINISHED just before its step ends) is read by the shell itself
# every 50 ms, then the API is asked until it says FINISHED; the API is asked every 2 s on the way too (a failure
# the file does not show). Polling the API at 10 Hz with curl and three greps took 1.0-2.4 s of the service's CPU
# and as much again of forks per compose of about 22 s: CPU the build needs on this 2-core machine and the peer
# never pays. Each CLI call starts a JVM (about 0.6 s here), so the CLI does not poll either.
exec {pause}<> <(:) # read -t on it waits without starting a process
compose() {
  local t0 uuid s st looks=0; t0=$(now)
  uuid=$(kiln compose start "$1" "$2" | awk '{print $2}')
  st="$work/state/results/$uuid/STATUS"
  while :; do
    s=""
    if [ -r "$st" ]; then read -r s <"$st" || true; fi
    looks=$((looks + 1))
    if [ "$s" = FINISHED ] || [ "$s" = FAILED ] || [ $((looks % 40)) = 0 ]; then
      s=$(curl -s --unix-socket "$work/api.socket" "http://localhost/api/v1/compose/status/$uuid" | grep -o '"queue_status" *: *"[A-Z]*"' | grep -o '[A-Z]*"$' | tr -d '"')
      [ "$s" = FINISHED ] && { echo "$uuid" > "$work/uuid"; break; }
      [ "$s" = FAILED ] && { echo "compose $uuid FAILED" >&2; kiln compose log "$uuid" | tail -20 >&2; exit 1; }
    fi
    read -r -t 0.05 -u "$pause" _ || true
  done
  echo "$(now) - $t0" | bc
}

# blueprint hostname → pushes the blueprint again with that hostname, nothing else changed
set_hostname() {
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && kiln blueprints save "$1" >/dev/null && python3 - "$1.toml" "$2" <<'PY'
import re, sys
p, name = sys.argv[1], sys.argv[2]
s = re.sub(r'(?m)^hostname = .*\n', '', open(p).read())
line = 'hostname = "' + name + '"\n'
if "[customizations]\n" in s:
    s = s.replace("[customizations]\n", "[customizations]\n" + line, 1)
else:
    s += "\n[customizations]\n" + line
open(p, "w").write(s)
PY
  ) && kiln blueprints push "$tmp/$1.toml" >/dev/null
  rm -rf "$tmp"
}

# results directory → sets $includes (every package of its frozen set, pinned) and $mirror_args (the host's apt
# sources as mmdebstrap's mirror lines)
peer_set() {
  includes=$(python3 - "$1/deps.toml" <<'PY'
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
print(",".join(p["name"] + "=" + (str(p["epoch"]) + ":" if p["epoch"] else "") + p["version"] + ("-" + p["release"] if p["release"] else "") for p in d["packages"]))
PY
  )
  local mirrors
  mirrors=$(python3 - <<'PY'
import glob, re
out = []
for f in glob.glob("/etc/apt/sources.list.d/*.sources"):
    for stanza in open(f).read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r"^(\w[\w-]*):\s*(.*)$", line)
            if m: fields[m.group(1).lower()] = m.group(2)
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no": continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                out.append(f"deb {uri} {suite} {fields.get('components', 'main')}")
print("\n".join(out))
PY
  )
  mapfile -t mirror_args <<<"$mirrors"
}

# → the peer's caches, once, untimed: every .deb and the apt lists (kept by sync-out), on disk ($work/disk) and on
# tmpfs ($fast); sets $sde (the newest package's build time: the mtime of its data.tar member, as Kiln's trees
# get) and $hygiene (Kiln's clean-up as a customize hook: no machine identity, host keys, logs or backups, every
# time clamped to $sde)
peer_warm() {
  mkdir -p "$work/disk" "$fast"
  mmdebstrap --mode=root --variant=essential --include="$includes" --skip=essential/unlink --skip=cleanup/apt \
    --customize-hook="sync-out /var/cache/apt/archives $work/disk/debs" \
    --customize-hook="sync-out /var/lib/apt/lists $work/disk/lists" \
    bookworm "$work/disk/tree" "${mirror_args[@]}" </dev/null >"$work/mmdebstrap-warm.log" 2>&1
  rm -rf "$work/disk/lists/partial" "$work/disk/lists/lock" "$work/disk/debs/partial" "$work/disk/debs/lock"
  cp -a "$work/disk/debs" "$work/disk/lists" "$fast/"
  sde=$(python3 - "$work/disk/debs" <<'PY'
import os, sys
best = 0
for n in os.listdir(sys.argv[1]):
    if not n.endswith(".deb"): continue
    with open(os.path.join(sys.argv[1], n), "rb") as f:
        assert f.read(8) == b"!<arch>\n"
        while True:
            h = f.read(60)
            if len(h) < 60: break
            name, mtime, size = h[:16].strip(), int(h[16:28]), int(h[48:58])
            if name.startswith(b"data.tar"): best = max(best, mtime); break
            f.seek(size + (size & 1), 1)
print(best)
PY
  )
  hygiene="cd \"\$1\" && : > etc/machine-id && rm -f etc/ssh/ssh_host_* var/cache/debconf/*-old var/lib/dpkg/*-old var/cache/ldconfig/aux-cache && find var/log -type f -delete && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \\) -prune -o -newermt @$sde -print0 | xargs -0r touch -h -d @$sde"
  echo "peer cache: $(ls "$work/disk/debs" | wc -l) packages, $(du -sm "$work/disk/debs" | cut -f1) MiB; lists $(du -sm "$work/disk/lists" | cut -f1) MiB"
}

# place, more mmdebstrap options... → mmdebstrap of the set into $place/tree at its best: on that place's file
# system (tmpfs or disk), dpkg's force-unsafe-io, the warm caches hard-linked in by a setup hook, no apt-get
# update, Kiln's hygiene last. The tree of an earlier run is removed before (outside the caller's clock).
peer_tree() {
  local place=$1; shift
  mmdebstrap --mode=root --variant=essential --include="$includes" --skip=update --dpkgopt=force-unsafe-io \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives" "$1/var/lib/apt/lists"' \
    --setup-hook="cp -al $place/debs/. \"\$1/var/cache/apt/archives/\" && cp -al $place/lists/. \"\$1/var/lib/apt/lists/\"" \
    "$@" --customize-hook="$hygiene" \
    bookworm "$place/tree" "${mirror_args[@]}" </dev/null >"$work/mmdebstrap.log" 2>&1 \
    || { echo "mmdebstrap failed:" >&2; tail -20 "$work/mmdebstrap.log" >&2; exit 1; }
}
