const t0 = Date.now();
const L = (m: string) => console.log(m, Date.now() - t0);
process.env.LOG_LEVEL = process.env.LL ?? 'warn';
const spec = await import('./spec.js');
const s = spec.loadRawSpec(await spec.resolveSpecFile(spec.defaultSpec()));
const cs = await import('@acala-network/chopsticks');
L('import');
const ln = await import('./localnet.js');
const top = s.genesis.raw.top;
const wasm = top[spec.CODE_KEY] as `0x${string}`;
const d = await ln.readAuraSlotDuration(cs, wasm, top);
L('slot ' + d);
(cs.getAuraSlotDuration.cache as any).set(wasm, Promise.resolve(d));
top[spec.TIMESTAMP_NOW_KEY] = spec.u64LeHex(spec.slotAligned(Date.now(), d));
const server = await cs.setupWithServer({
  genesis: s,
  host: '127.0.0.1',
  port: 0,
  'build-block-mode': cs.BuildBlockMode.Instant,
  'allow-unresolved-imports': true,
  db: '/tmp/chx/boot.db',
  resume: process.env.FRESH ? undefined : true,
} as never);
L('setup');
const hw = await server.chain.head.wasm;
L('wasm ' + (hw === wasm) + ' ' + hw.length);
const m = await server.chain.head.meta;
L('meta');
console.log(await cs.getSlotDuration(server.chain.head));
L('slotdur');
await server.close();
await cs.destroyWorker();
L('close');
