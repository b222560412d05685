printf 'const test = require("node:test"); const assert = require("assert");\ntest("adds", () => assert.strictEqual(1+1, 2));\ntest("async", async () => { await new Promise(r => setTimeout(r, 50)); });\n' > t.test.js
node --test t.test.js > out 2>&1; echo "status $?"; grep -E '^# (pass|fail)' out
