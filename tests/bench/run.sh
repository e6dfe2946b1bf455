#!/usr/bin/env bash
# The benchmark: how long devd waits for lagghook, and what it costs in
# memory, against the floor of any Rust program that reads one file.
#
#   bash tests/bench/run.sh            (from a fresh clone; about 2 minutes)
#
# Builds lagghook, lagghook-devd and the floor (tests/bench/floor:
# lagghook's release profile, a main that reads argv[1]) in release mode,
# then measures side by side in one `hyperfine -N` run (30 warm-ups, 300
# runs each), with lagghook-devd, the program devd's rules run:
#   floor       floor CONFIG
#   unmanaged   lagghook-devd event IFNET re1 LINK_UP   (not in the config)
#   converged   lagghook-devd event IFNET em0 LINK_UP   (laptop already converged)
#   repair      lagghook-devd event IFNET wlan0 ATTACH  (wlan0 back with its factory MAC)
#   check       lagghook-devd event IFNET em0 LINK_DOWN (undocked: starts a network check)
#   largest: converged, largest: unmanaged
#               the converged and the unmanaged event under the largest
#               configuration lagghook accepts (issue 17): 8 laggs of 32
#               ports, 64 KiB (tests/fixtures/config/largest.toml), on a
#               laptop reconciled with it; against the converged run, whose
#               double is their target
# and the same three events run by lagghook itself, as an administrator
# would by hand (shown for comparison; devd never runs them). `lagghook-devd
# -V` (start-up: exec, the dynamic linker, std, the argument parser) splits
# the cost into stages: start-up, then reading the configuration and the
# event (unmanaged), then the kernel, the lock, the state and the plan
# (converged), then the changes, the state written and the log (repair).
# with CONFIG = tests/fixtures/config/good-laptop.toml and `-k sim:` copies
# of tests/fixtures/machines/laptop.toml. Prints the medians, their ratios
# to the floor with the targets of issue 11, and each case's peak RSS.
# Then the worst case devd can wait for (lock contended to its limit, a
# syslogd that does not drain, the repair with the most rounds).
# Figures are printed, never asserted: a benchmark is not a timed test.
# Needs hyperfine and GNU time (installed with apt-get when missing and run
# as root on Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-300}
WARMUP=${WARMUP:-30}

if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine time >/dev/null
  else
    echo "bench: needs hyperfine and GNU time at /usr/bin/time" >&2
    exit 1
  fi
fi

cargo build --quiet --release --locked --bins
cargo build --quiet --release --locked --manifest-path tests/bench/floor/Cargo.toml
LAGGHOOK=$ROOT/target/release/lagghook
DEVD=$ROOT/target/release/lagghook-devd
FLOOR=$ROOT/tests/bench/floor/target/release/lagghook-floor

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CONFIG=$WORK/lagghook.toml
cp tests/fixtures/config/good-laptop.toml "$CONFIG"
cp tests/fixtures/machines/laptop.toml "$WORK/converged.toml"
# Syslog goes nowhere (no syslogd here), as on a host without one.
export LAGGHOOK_SYSLOG_SOCKET=$WORK/no-syslog
"$LAGGHOOK" -c "$CONFIG" -k "sim:$WORK/converged.toml" reconcile
# The repair case: wlan0 re-created with its radio's factory MAC, outside
# lagg0, as after a WiFi card reset. Copied afresh before every run, as a
# new file: a run replaces the machine file, and on a Linux ext4 mounted
# with `discard` (as CI's machines and this project's are) replacing a file
# whose blocks were already written waits in rename(2) for a synchronous
# TRIM of them (ext4_free_blocks -> blkdev_issue_discard -> submit_bio_wait,
# about 1 ms), and `cp` over an existing file writes its blocks at once
# (ext4's replace-via-truncate heuristic). That cost belongs to the disk,
# not to lagghook, and to this OS: FreeBSD's UFS sends the TRIM
# asynchronously (ffs_blkfree_sendtrim: BIO_DELETE through g_vfs_strategy,
# the blocks freed by a taskqueue on completion; sys/ufs/ffs/ffs_alloc.c,
# fel1x-developer/freebsd-src@2d614aa2). So the repair is measured on a new
# file, and once more over a written one, shown apart.
cp tests/fixtures/machines/wlan-outside.toml "$WORK/repair.toml"
LARGEST=$WORK/largest-config.toml
cp tests/fixtures/config/largest.toml "$LARGEST"
cp tests/fixtures/machines/laptop.toml "$WORK/largest.toml"
"$LAGGHOOK" -c "$LARGEST" -k "sim:$WORK/largest.toml" reconcile
FRESH="sh -c 'rm -f $WORK/work.toml && cp $WORK/repair.toml $WORK/work.toml'"
# The event that starts a network check (issue 20): the one-LAN laptop of
# tests/scenarios/net-dock-undock-one-lan.toml, its network recorded by a
# first reconcile, then undocked (em0's cable out in the machine file):
# em0's LINK_DOWN finds the active port changed, bumps the check's
# generation in the known-networks file and spawns the helper (queued by
# the simulated kernel: on FreeBSD that spawn is one posix_spawn(2) more,
# not measured here). The machine and its state files are copied afresh
# before every run, as the run changes them.
sed -n '/^\[\[machine.network\]\]/,/^\[\[step\]\]/p' \
  tests/scenarios/net-dock-undock-one-lan.toml | sed '$d' >"$WORK/check.seed.toml"
"$LAGGHOOK" -c "$CONFIG" -k "sim:$WORK/check.seed.toml" reconcile 2>/dev/null
python3 -c "import sys; p=sys.argv[1]; s=open(p).read(); open(p,'w').write(s.replace('link = true', 'link = false', 1))" \
  "$WORK/check.seed.toml"
CHECK_FRESH="sh -c 'for s in \"\" .state .db .dbnetworks .history; do cp $WORK/check.seed.toml\$s $WORK/check.toml\$s; done'"

hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/times.json" \
  --prepare "true" --prepare "true" --prepare "true" --prepare "true" \
  --prepare "$FRESH" \
  --prepare "true" --prepare "true" \
  --prepare "$FRESH" \
  --prepare "cp $WORK/repair.toml $WORK/written.toml" \
  --prepare "true" --prepare "true" \
  -n floor "$FLOOR $CONFIG" \
  -n start-up "$DEVD -V" \
  -n unmanaged "$DEVD -c $CONFIG -k sim:$WORK/converged.toml event IFNET re1 LINK_UP" \
  -n converged "$DEVD -c $CONFIG -k sim:$WORK/converged.toml event IFNET em0 LINK_UP" \
  -n repair "$DEVD -c $CONFIG -k sim:$WORK/work.toml event IFNET wlan0 ATTACH" \
  -n "unmanaged (lagghook)" "$LAGGHOOK -c $CONFIG -k sim:$WORK/converged.toml event IFNET re1 LINK_UP" \
  -n "converged (lagghook)" "$LAGGHOOK -c $CONFIG -k sim:$WORK/converged.toml event IFNET em0 LINK_UP" \
  -n "repair (lagghook)" "$LAGGHOOK -c $CONFIG -k sim:$WORK/work.toml event IFNET wlan0 ATTACH" \
  -n "repair (over written)" "$DEVD -c $CONFIG -k sim:$WORK/written.toml event IFNET wlan0 ATTACH" \
  --prepare "$CHECK_FRESH" \
  -n check "$DEVD -c $CONFIG -k sim:$WORK/check.toml event IFNET em0 LINK_DOWN" \
  -n "largest: converged" "$DEVD -c $LARGEST -k sim:$WORK/largest.toml event IFNET em0 LINK_UP" \
  -n "largest: unmanaged" "$DEVD -c $LARGEST -k sim:$WORK/largest.toml event IFNET re1 LINK_UP" \
  >"$WORK/hyperfine.txt"

# The worst case: issue 6's three-port machine, which takes the most rounds.
sed -n '/^\[\[machine.interface\]\]/,/^\[\[step\]\]/p' \
  tests/scenarios/three-ports-join-during-order-repair.toml | sed '$d' >"$WORK/three-ports.seed.toml"
printf '[lagg0]\nports = ["em0", "wlan0", "ue0"]\nmac = "00:11:22:33:44:55"\n' \
  >"$WORK/three-ports-config.toml"

python3 tests/bench/report.py "$WORK" "$FLOOR" "$DEVD" "$LAGGHOOK" "$CONFIG" "$LARGEST"

# The helper's own cost on a same-network verdict, its steps run
# in-process on the simulated kernel (the waits between them are simulated
# time; on FreeBSD the probe's frames and their round trip come on top).
cargo run --quiet --release --locked --example helper-cost
