cat > child.js <<'J'
process.on("message", m => { process.send({ got: m, pid: typeof process.pid }); if (m === "bye") process.exit(4); });
J
node -e '
const cp = require("child_process"), fs = require("fs"), dgram = require("dgram"), http = require("http");
const c = cp.fork("./child.js"); let n = 0;
c.on("message", m => { console.log("reply", JSON.stringify(m)); if (++n === 2) c.send("bye"); });
c.on("exit", code => {
  console.log("child exit", code);
  const s = dgram.createSocket("udp4");
  s.on("message", (msg) => { console.log("udp", msg.toString()); s.close();
    const srv = http.createServer((q, r) => r.end("hello " + q.url)).listen(0, "127.0.0.1", async () => {
      const res = await fetch("http://127.0.0.1:" + srv.address().port + "/x"); console.log(res.status, await res.text()); srv.close();
      fs.mkdirSync("wd", { recursive: true });
      const w = fs.watch("wd", (ev, f) => { console.log("watch", ev, f); w.close(); });
      setTimeout(() => fs.writeFileSync("wd/new.txt", "1"), 100);
    });
  });
  s.bind(0, "127.0.0.1", () => { const a = dgram.createSocket("udp4"); a.send("ping", s.address().port, "127.0.0.1", () => a.close()); });
});
c.send("one"); c.send("two");'
