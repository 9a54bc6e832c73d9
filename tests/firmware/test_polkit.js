// test_polkit.js — the "sync now" polkit rule (firmware/polkit/): loaded
// the way polkitd loads it (the file's text evaluated with a `polkit`
// object in scope), then asked about every case that matters: only user
// storeqr, only verb start, only storeqr-sync.service.
// usage: node test_polkit.js RULES_FILE
"use strict";
const fs = require("fs");
const vm = require("vm");
const file = process.argv[2];
const text = fs.readFileSync(file, "utf8");
const rules = [];
const polkit = {
  Result: { YES: "yes", NO: "no", AUTH_ADMIN: "auth_admin", NOT_HANDLED: null },
  addRule: (f) => rules.push(f),
  log: () => {},
};
// polkitd (bookworm: duktape, ECMAScript 5.1) runs the file as a script.
vm.runInNewContext(text, { polkit }, { filename: file });
if (rules.length !== 1) throw new Error(`expected 1 rule, got ${rules.length}`);
function ask(id, unit, verb, user) {
  const details = { unit, verb };
  const action = { id, lookup: (k) => details[k] };
  const subject = { user, isInGroup: () => false, local: true, active: true };
  const r = rules[0](action, subject);
  return r === undefined ? null : r;
}
const M = "org.freedesktop.systemd1.manage-units";
const cases = [
  [M, "storeqr-sync.service", "start", "storeqr", "yes"],
  [M, "storeqr-sync.service", "stop", "storeqr", null],
  [M, "storeqr-sync.service", "restart", "storeqr", null],
  [M, "storeqr-kiosk.service", "start", "storeqr", null],
  [M, "storeqr-sync-daemon.service", "start", "storeqr", null],
  [M, "ssh.service", "start", "storeqr", null],
  [M, "storeqr-sync.service", "start", "nobody", null],
  [M, "storeqr-sync.service", "start", "storeqr-hq", null],
  ["org.freedesktop.systemd1.manage-unit-files", "storeqr-sync.service", "start", "storeqr", null],
  ["org.freedesktop.login1.reboot", undefined, undefined, "storeqr", null],
];
let bad = 0;
for (const [id, unit, verb, user, want] of cases) {
  const got = ask(id, unit, verb, user);
  const ok = got === want;
  if (!ok) bad++;
  console.log(`${ok ? "ok" : "FAIL"}: ${user} ${verb} ${unit} (${id}) -> ${got}`);
}
if (bad) process.exit(1);
console.log("PASS polkit");
