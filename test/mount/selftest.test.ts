// What the kernel's remoteproc selftest (tools/testing/selftests/remoteproc/
// remoteproc_test.sh, 2024) does, written here as our own POSIX sh script and
// run by dash against the served tree: find the instances, read name, state
// and recovery, enable recovery, stop/start each instance, then all of them
// concurrently, and restore the initial states. Also ST-style and Zephyr-style
// bring-up scripts, unmodified in their file operations, with RPROC_SYS
// pointing into the mount. Skipped, with the reason, where FUSE cannot mount.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { fuseSkipReason, mountBoard, sh } from "../harness/mounted.js";
import { FW, FW_DIR, makeProc } from "../harness/interfaces.js";

const skip = fuseSkipReason();

/** Two boards' M4s (each Platform.load has its own memory), served side by side. */
function procs() {
  return [makeProc(), makeProc()];
}

const SELFTEST = `
set -u
RPROC_SYS="$1"
fails=0
check() { if [ $? -ne 0 ]; then fails=$((fails+1)); echo "# $*"; fi; }
instances=$(cd "$RPROC_SYS" && ls -d remoteproc*)
n=$(echo $instances | wc -w)
[ "$n" -gt 0 ] || { echo "1..0 # SKIP no instances"; exit 4; }
echo "1..$((n+1))"
i=0
for rp in $instances; do
  d="$RPROC_SYS/$rp"; i=$((i+1)); fails=0
  name=$(cat "$d/name"); state=$(cat "$d/state"); rec=$(cat "$d/recovery")
  if [ "$rec" != enabled ]; then echo enabled > "$d/recovery"; check "$name recovery-enable failed"; fi
  if [ "$state" != running ]; then
    echo start > "$d/state"; check "$name start failed"
    [ "$(cat "$d/state")" = running ]; check "$name not running after start"
    echo stop > "$d/state"; check "$name stop failed"
  else
    echo stop > "$d/state"; check "$name stop failed"
    echo start > "$d/state"; check "$name start failed"
  fi
  [ "$(cat "$d/state")" = "$state" ]; check "$name state not restored"
  if [ $fails -eq 0 ]; then echo "ok $i $name"; else echo "not ok $i $name"; fi
done
fails=0; orig=""
for rp in $instances; do orig="$orig $(cat "$RPROC_SYS/$rp/state")"; done
for rp in $instances; do
  d="$RPROC_SYS/$rp"
  ( if [ "$(cat "$d/state")" != running ]; then echo start > "$d/state"; else echo stop > "$d/state"; fi ) &
done
wait
for rp in $instances; do [ "$(cat "$RPROC_SYS/$rp/state")" = running ]; check "$rp not running after concurrent start"; done
k=1
for rp in $instances; do
  s=$(echo $orig | cut -d' ' -f$k); k=$((k+1))
  if [ "$s" != running ]; then echo stop > "$RPROC_SYS/$rp/state"; else echo start > "$RPROC_SYS/$rp/state"; fi
  check "$rp restore failed"
done
if [ $fails -eq 0 ]; then echo "ok $((n+1)) all concurrently"; else echo "not ok $((n+1)) all concurrently"; fi
`;

test("selftest equivalent: find instances, name/state, stop/start each and all concurrently, restore", { skip }, async () => {
  const rs = procs();
  const b = mountBoard(rs);
  try {
    const res = await sh(`sh -c '${SELFTEST.replace(/'/g, "'\\''")}' selftest ${b.dir}/sys/class/remoteproc`);
    assert.equal(res.code, 0, res.out + res.err);
    assert.match(res.out, /^1\.\.3$/m);
    assert.doesNotMatch(res.out, /not ok/, res.out);
    assert.match(res.out, /^ok 1 m4\nok 2 m4$/m);
    assert.match(res.out, /ok 3 all concurrently/);
    assert.deepEqual(rs.map((p) => p.state), [0, 0], "restored to offline");
  } finally {
    await b.close();
  }
});

test("ST fw_cortex_m4.sh and Zephyr setup style: firmware_class path, firmware, start, errors seen by the shell", { skip }, async () => {
  const rs = procs();
  const b = mountBoard(rs);
  const d = `${b.dir}/sys/class/remoteproc/remoteproc${rs[0]!.index}`;
  try {
    // ST: strip NULs from state, stop first if running, echo -n the firmware directory, name the firmware, start.
    const st = await sh(
      `rproc_state=$(tr -d '\\0' < ${d}/state)
       if [ "$rproc_state" = running ]; then echo stop > ${d}/state; fi
       echo -n ${FW_DIR} > ${b.dir}/sys/module/firmware_class/parameters/path
       echo -n ${FW} > ${d}/firmware
       echo start > ${d}/state || exit 9
       cat ${d}/state`,
      { shell: "bash" },
    );
    assert.equal(st.code, 0, st.err);
    assert.equal(st.out, "running\n");
    // Zephyr: stop, path with a trailing newline (stripped since v6.4), firmware, start; bash shows the errno.
    const z = await sh(
      `echo stop > ${d}/state
       echo ${FW_DIR} > ${b.dir}/sys/module/firmware_class/parameters/path
       echo ${FW} > ${d}/firmware
       echo start > ${d}/state
       echo start > ${d}/state; echo "again=$?"
       echo stop > ${d}/state; echo stop > ${d}/state; echo stop > ${d}/state
       echo bogus > ${d}/state
       echo x > ${d}/name
       printf start > ${b.dir}/dev/remoteproc${rs[0]!.index}; echo "cdev=$?"
       echo start > ${b.dir}/dev/remoteproc${rs[0]!.index}; echo "cdev-newline=$?"
       cat ${d}/state`,
      { shell: "bash" },
    );
    assert.match(z.out, /again=0/);
    assert.match(z.err, /echo: write error: Invalid argument/);
    assert.match(z.err, /name: Permission denied/);
    assert.match(z.out, /cdev=0\ncdev-newline=1\nrunning\n$/);
    // dash loses the errno (the kselftest's /bin/sh), but the write still fails.
    const dash = await sh(`echo bogus > ${d}/state; echo "rc=$?"`);
    assert.match(dash.out, /rc=[12]/);
    assert.ok(b.log.some((l) => l.includes("bogus") && l.endsWith("EINVAL")));
  } finally {
    await b.close();
  }
});

test("bad input through the mount: oversized writes, concurrent writers, path traversal, debugfs and devcoredump", { skip }, async () => {
  const rs = procs();
  const b = mountBoard(rs);
  const m4 = rs[0]!;
  const d = `${b.dir}/sys/class/remoteproc/${m4.devName}`;
  try {
    const big = await sh(`head -c 5000 /dev/zero | tr '\\0' a > ${d}/firmware; echo "rc=$?"; wc -c < ${d}/firmware`, { shell: "bash" });
    assert.match(big.out, /rc=0\n/);
    assert.equal(m4.firmware.length, 5000 - 4096, "kernfs split the 5000-byte write into 4096 + 904 stores");
    const trav = await sh(`echo ../../etc/passwd > ${d}/firmware && echo start > ${d}/state; echo "rc=$?"; cat ${d}/state`, { shell: "bash" });
    assert.match(trav.err, /Invalid argument/);
    assert.match(trav.out, /offline/);
    await sh(`echo ${FW} > ${d}/firmware`);
    const conc = await sh(`for i in 1 2 3 4 5 6 7 8; do (echo start > ${d}/state) & done; wait; cat ${d}/state`, { shell: "bash" });
    assert.equal(conc.out, "running\n");
    assert.equal(m4.power, 8);
    const dbg = `${b.dir}/sys/kernel/debug/remoteproc/${m4.devName}`;
    const crash = await sh(
      `echo enabled > ${d}/coredump; echo 1 > ${dbg}/crash; sleep 0.3; ls ${b.dir}/sys/class/devcoredump; ` +
        `cat ${b.dir}/sys/class/devcoredump/devcd1/data > ${b.dir}/../core-$$.elf; head -c 4 ${b.dir}/../core-$$.elf | od -An -c; rm -f ${b.dir}/../core-$$.elf; ` +
        `echo 1 > ${b.dir}/sys/class/devcoredump/devcd1/data; ls ${b.dir}/sys/class/devcoredump; cat ${d}/state; head -c 23 ${dbg}/resource_table`,
      { shell: "bash" },
    );
    assert.match(crash.out, /devcd1\ndisabled\n/);
    assert.match(crash.out, /177\s+E\s+L\s+F/);
    assert.match(crash.out, /\ndisabled\nrunning\nEntry 0 is of type vdev/);
  } finally {
    await b.close();
  }
});
