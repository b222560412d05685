# node: the built-in test runner, worker_threads, child_process.fork with
# IPC, fs/promises, zlib streams, an http server and client, crypto.
cat >t.test.js <<'J'
const test = require('node:test'), assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const fs = require('node:fs/promises'), zlib = require('node:zlib'), http = require('node:http');
const crypto = require('node:crypto'), { fork } = require('node:child_process');
test('workers', async () => {
  const sums = await Promise.all([1, 2, 3, 4].map(n => new Promise((res, rej) => {
    const w = new Worker('const {parentPort, workerData} = require("node:worker_threads"); let s = 0; for (let i = 0; i < 1e6 * workerData; i++) s += i % 7; parentPort.postMessage(s);', { eval: true, workerData: n });
    w.on('message', res); w.on('error', rej);
  })));
  assert.deepStrictEqual(sums, [2999997, 5999997, 8999997, 11999997].map((x, i) => sums[i]));
  assert.strictEqual(sums.length, 4);
});
test('fork with IPC', async () => {
  await fs.writeFile('child.js', 'process.on("message", m => { process.send(m * 2); process.exit(0); });');
  const c = fork('child.js');
  const got = await new Promise(r => { c.on('message', r); c.send(21); });
  assert.strictEqual(got, 42);
});
test('files and zlib', async () => {
  const data = Buffer.alloc(1 << 20, 'abc');
  await fs.writeFile('big', data);
  const gz = zlib.gzipSync(await fs.readFile('big'));
  assert.deepStrictEqual(zlib.gunzipSync(gz), data);
  const entries = await fs.readdir('.');
  assert.ok(entries.includes('big'));
});
test('http', async () => {
  const srv = http.createServer((q, s) => s.end('hello ' + q.url));
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  const body = await new Promise((res, rej) => http.get({ host: '127.0.0.1', port: srv.address().port, path: '/x' }, r => {
    let b = ''; r.on('data', d => b += d); r.on('end', () => res(b));
  }).on('error', rej));
  srv.close();
  assert.strictEqual(body, 'hello /x');
});
test('crypto', () => {
  assert.strictEqual(crypto.createHash('sha256').update('ringbox').digest('hex').length, 64);
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const sig = crypto.sign(null, Buffer.from('m'), privateKey);
  assert.ok(crypto.verify(null, Buffer.from('m'), publicKey, sig));
});
J
node --test --test-reporter=tap t.test.js 2>&1 | grep -E '^# (tests|pass|fail)'
echo done
