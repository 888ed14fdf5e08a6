#!/usr/bin/env bash
# The main job on the bundled example platform and firmware, start to end:
# inspect, boot (dry run with its event trace), crash + coredump + recovery
# (and the dump opened in gdb), the TEE path (sign, verify, boot through the
# OP-TEE remoteproc TA model), and the firmware's own instructions on an
# emulated Cortex-M4. Expects `bash scripts/setup.sh` to have run
# (`npm run demo` does both). Exits non-zero if any step does not end as expected.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${RPROC_DEMO_OUT:-$(mktemp -d -t rproc-demo-XXXXXX)}
mkdir -p "$out"
rproc() { node dist/cli/main.js "$@"; }
if [ -t 1 ]; then b=$'\033[1m' n=$'\033[0m'; else b='' n=''; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$b" "$1" "$n" "${*:2}"; }

FW=fixtures/firmware/stm32mp15-m4.elf
EMU_FW=fixtures/emulated/fw-m4-stm32mp157.elf
KEY=platforms/keys/rproc-test-rsa2048.pem
PUB=platforms/keys/rproc-test-rsa2048.pub.pem

step "bundled platforms" "rproc platforms"
rproc platforms

step "inspect the firmware: ELF, segments, resource table, diagnostics" "rproc inspect $FW"
rproc inspect "$FW"

step "boot it on the STM32MP157 model: where everything lands, the trace buffer, the kernel's step order" \
  "rproc boot $FW --platform stm32mp157 --trace"
rproc boot "$FW" --platform stm32mp157 --trace

step "crash it (watchdog): coredump, recovery, final state; dump written" \
  "rproc crash $FW --platform stm32mp157 --type watchdog --coredump enabled -o $out/core.elf"
rproc crash "$FW" --platform stm32mp157 --type watchdog --coredump enabled -o "$out/core.elf"

step "the dump is an ELF core file: readelf and gdb read it" "readelf -h -l $out/core.elf; gdb-multiarch -batch -ex 'print (unsigned int)fw_counter' $FW $out/core.elf"
readelf -W -h -l "$out/core.elf" | sed -n '1,12p;/Program Headers/,$p'
if command -v gdb-multiarch >/dev/null; then
  gdb-multiarch -nx -batch -ex 'print (unsigned int)fw_counter' "$FW" "$out/core.elf"
else
  echo "(gdb-multiarch not installed: apt-get install gdb-multiarch)"
fi

step "TEE path: sign as OP-TEE's sign_rproc_fw.py does, verify, inspect" \
  "rproc sign $FW --key $KEY -o $out/fw.signed && rproc verify $out/fw.signed --key $PUB"
rproc sign "$FW" --key "$KEY" -o "$out/fw.signed"
rproc verify "$out/fw.signed" --key "$PUB"
rproc inspect "$out/fw.signed" | sed -n '1,12p'

step "boot the signed image through the remoteproc TA model (TA commands in the trace)" \
  "rproc boot $out/fw.signed --platform stm32mp157 --trace | grep -E 'tee_|rproc_(boot|shutdown)'"
rproc boot "$out/fw.signed" --platform stm32mp157 --trace > "$out/tee-boot.txt"
grep -E 'tee_|rproc_(boot|shutdown)|^state' "$out/tee-boot.txt"

if ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2'; then
  step "run the firmware's own instructions on an emulated Cortex-M4: its trace buffer is what it wrote" \
    "rproc boot $EMU_FW --platform stm32mp157 --driver emulated"
  rproc boot "$EMU_FW" --platform stm32mp157 --driver emulated
  step "make that firmware fault (a bad access): the crash carries its PC and registers, the dump an NT_PRSTATUS note" \
    "rproc crash $EMU_FW --platform stm32mp157 --driver emulated --fault mmufault -o $out/emu-core.elf"
  rproc crash "$EMU_FW" --platform stm32mp157 --driver emulated --fault mmufault -o "$out/emu-core.elf"
  step "gdb points at the faulting line" "gdb-multiarch -batch -ex bt $EMU_FW $out/emu-core.elf"
  if command -v gdb-multiarch >/dev/null; then
    gdb-multiarch -nx -batch -ex bt "$EMU_FW" "$out/emu-core.elf"
  else
    echo "(gdb-multiarch not installed: apt-get install gdb-multiarch)"
  fi
else
  echo
  echo "(libunicorn2 not installed: the emulated-core steps are skipped; apt-get install libunicorn2)"
fi

printf '\nAll demo steps ended as expected. Files are in %s\n' "$out"
