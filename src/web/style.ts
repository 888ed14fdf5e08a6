/** The page's one stylesheet, inlined so a report is a single file. */
export const STYLE = `
:root{--fg:#1d232b;--muted:#5b6673;--bg:#fbfbfa;--line:#cfd5dc;--err:#c0262d;--warn:#b86b00;--ok:#1f7a3a}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:12px 20px;border-bottom:1px solid var(--line);background:#fff}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 8px}
main{padding:0 20px 40px}
.sub{color:var(--muted);font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#e5e9ee;font-weight:600}
.badge.running,.badge.attached{background:#d5f0dc;color:var(--ok)}.badge.crashed{background:#fbd9d9;color:var(--err)}
.banner{margin:10px 0;padding:8px 12px;border-left:4px solid var(--err);background:#fdeeee}
.scroll{overflow:auto;max-width:100%;border:1px solid var(--line);background:#fff}
svg text{font:10px monospace;fill:var(--fg)}
.space-title{font:bold 12px system-ui,sans-serif}
.tick{fill:var(--muted);font-size:9px}.gap{stroke:#b9c1ca;stroke-dasharray:2 3}
.lane-bg{fill:#f3f5f7}.lane-title{font:bold 10px system-ui,sans-serif}
.box rect{stroke:#44505c;stroke-width:.7;fill:#dbe4ee}
.box:hover rect{stroke:#000;stroke-width:1.6}
.box .tail{stroke:none}.hatch-bg{fill:#f6f1e1}.hatch-line{stroke:#a08a4a;stroke-width:2}
.window rect{fill:#e9e1f5}.window.missed rect{stroke:var(--err);stroke-width:2;fill:#fbe3e3}
.segment rect{fill:#bcd7f2}.failed rect{fill:#f6c6c6;stroke:var(--err);stroke-dasharray:4 2;stroke-width:1.6}
.carveout.allocated rect{fill:#c7ebd1}.carveout.registered rect{fill:#fff;stroke-dasharray:3 2}
.rsc rect{fill:#f5d99b}.trace rect{fill:#e2d5f7}.vring-desc rect{fill:#bfe5e8}.vring-avail rect{fill:#9ed6db}.vring-used rect{fill:#7cc4cc}
.rpmsg.rx rect{fill:#d5eec0}.rpmsg.tx rect{fill:#f2e2c0}.devmem rect{fill:#f0c8e0}.coredump rect{fill:#f4c3a8}
.region rect{fill:#eceff2}.region.kind-ddr rect{fill:#dfe7f5}.region.kind-mmio rect{fill:#f2e9dc}.region.owner-tee rect{fill:#3c3f58}.region.owner-tee text{fill:#fff}
.pool rect{fill:#fff6d8}
.join{fill:#7d6bb3;fill-opacity:.13;stroke:#7d6bb3;stroke-opacity:.4}.join:hover{fill-opacity:.3}.join.missed{fill:var(--err);fill-opacity:.2}
.diag-pin circle{fill:var(--warn)}.diag-pin.error circle{fill:var(--err)}.diag-pin.info circle{fill:#4a7bb7}.diag-pin text{fill:#fff;font-weight:bold}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;color:var(--muted);margin:6px 0}
.legend i{display:inline-block;width:14px;height:10px;border:1px solid #44505c;margin-right:4px;vertical-align:middle}
#tip{position:fixed;pointer-events:none;z-index:10;background:#1d232b;color:#fff;font:12px/1.35 monospace;padding:6px 8px;border-radius:4px;white-space:pre;display:none;max-width:640px}
.diags li{margin:2px 0}.diags .error{color:var(--err)}.diags .warning{color:var(--warn)}
.states .state rect{fill:#fff;stroke:#7a8693}.states .state.current rect{fill:#1d4f91;stroke:#1d4f91}.states .state.current text{fill:#fff;font-weight:bold}
.states .state text{font:12px system-ui,sans-serif}.edge{stroke:#98a2ad}.arrowhead{fill:#98a2ad}.edge-label{fill:var(--muted);font-size:9px}
.state-facts{font:bold 13px system-ui,sans-serif}
.timeline{list-style:none;padding:0;margin:0;font:12px/1.5 monospace;max-height:480px;overflow:auto;border:1px solid var(--line);background:#fff}
.ev{padding:0 8px 0 calc(8px + var(--depth,0) * 14px);border-left:3px solid transparent;white-space:nowrap}
.ev .seq{color:var(--muted);display:inline-block;min-width:3em}.ev .phase{display:inline-block;min-width:3.3em;color:var(--muted)}
.ev.ph-fail{background:#fdeeee;border-left-color:var(--err)}.ev.ph-fail .phase{color:var(--err);font-weight:bold}
.ev.milestone{background:#fff6e5;border-left-color:var(--warn)}.ev.injected{background:#fde2e2;border-left-color:#8b0000}
.ev .errno{color:var(--err);font-weight:bold}.ev .args{color:var(--muted)}
pre.trace,pre.console{background:#14181d;color:#d7f5d0;padding:8px 10px;max-height:240px;overflow:auto;margin:4px 0}
#controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:12px 0;padding:10px;border:1px solid var(--line);background:#fff}
#controls fieldset{border:1px solid var(--line);padding:4px 8px;margin:0}
button{font:inherit;padding:3px 10px;cursor:pointer}
#cmd-status{font:12px monospace;color:var(--muted)}
table.kv td{padding:1px 10px 1px 0;font:12px monospace}
`;
