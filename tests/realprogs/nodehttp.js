// nodehttp.js: what a Node.js test suite does. An HTTP server and a
// client in one process (libuv's epoll loop), a file written and read
// (its thread pool), a child process, and a worker thread.
'use strict';
const http = require('http');
const fs = require('fs');
const { execFileSync } = require('child_process');
const { Worker } = require('worker_threads');

fs.writeFileSync('note.txt', 'written by node\n');
console.log(fs.readFileSync('note.txt', 'utf8').trim());
console.log(execFileSync('/bin/sh', ['-c', 'echo from a child; exit 0']).toString().trim());

const worker = new Worker('const { parentPort } = require("worker_threads"); let s = 0; for (let i = 0; i < 1e6; i++) s += i % 7; parentPort.postMessage(s);', { eval: true });
worker.on('message', (s) => {
  console.log('worker sum', s);
  const server = http.createServer((req, res) => res.end('hello ' + req.url));
  server.listen(0, '127.0.0.1', () => {
    const port = server.address().port;
    http.get({ host: '127.0.0.1', port, path: '/node' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        console.log(res.statusCode, body);
        server.close(() => process.exit(0));
      });
    });
  });
});
