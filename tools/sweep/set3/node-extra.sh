node -e '
const { Worker, isMainThread, parentPort } = require("worker_threads");
const fs = require("fs"), os = require("os"), net = require("net"), zlib = require("zlib");
const w = new Worker("require(\"worker_threads\").parentPort.postMessage(6*7)", { eval: true });
w.on("message", m => console.log("worker", m));
fs.promises.writeFile("f", "data").then(() => fs.promises.readFile("f", "utf8")).then(d => console.log("fs", d));
console.log("gz", zlib.gunzipSync(zlib.gzipSync("abc")).toString());
const s = net.createServer(c => c.end("hi")).listen(0, "127.0.0.1", () => {
  net.connect(s.address().port, "127.0.0.1").on("data", d => { console.log("net", d.toString()); s.close(); });
});
console.log("cpus", os.cpus().length > 0);'
