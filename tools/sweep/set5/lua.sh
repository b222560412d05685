# Lua 5.4 (no C modules installed: only the standard library): io.popen
# both ways, os.execute statuses and signals, coroutines as generators,
# files (seek, lines, binary), os.tmpname and os.rename, string.pack,
# and a pipeline of lua processes.
lua5.4 -e '
local p = io.popen("seq 1 1000", "r"); local s = 0
for l in p:lines() do s = s + tonumber(l) end
print("popen sum", s, p:close())
local w = io.popen("sort -r > sorted.txt", "w"); for i = 1, 5 do w:write(i, "\n") end; print("write popen", w:close())
print((io.open("sorted.txt"):read("a"):gsub("\n", " ")))
print(os.execute("exit 3")); print(os.execute("kill -TERM $$")); print(os.execute("true"))
local gen = coroutine.wrap(function() for i = 1, 5 do coroutine.yield(i * i) end end)
local t = {}; for i = 1, 5 do t[#t + 1] = gen() end; print(table.concat(t, ","))
local co = coroutine.create(function(a) local b = coroutine.yield(a + 1); error("boom " .. b) end)
print(coroutine.resume(co, 1)); local ok, err = coroutine.resume(co, 7); print(ok, (err:gsub("^.-: ", "")))
local f = assert(io.open("data.bin", "wb")); f:write(string.pack("<i4 d z", 42, 2.5, "packed")); f:close()
f = io.open("data.bin", "rb"); local size = f:seek("end"); f:seek("set"); print(size, string.unpack("<i4 d z", f:read("a"))); f:close()
local tmp = os.tmpname(); local h = io.open(tmp, "w"); h:write("tmp\n"); h:close()
print(os.rename(tmp, tmp .. ".moved"), io.open(tmp .. ".moved"):read("l"), os.remove(tmp .. ".moved"))
print(select("#", os.rename("/nonexistent/a", "/nonexistent/b")))
print(io.open("/nonexistent/x"))
local n = 0; for l in io.lines("/etc/passwd") do if l:match("^root:") then n = n + 1 end end; print("root lines", n)
print(string.format("%5.2f|%-4s|%x", math.pi, "ab", 255), #string.rep("ab", 1000, ","), utf8.len("héllo"))
local big = {}; for i = 1, 200000 do big[i] = i % 7 end; local c = 0; for _, v in ipairs(big) do c = c + v end; print("table sum", c)
collectgarbage(); print("gc ok", collectgarbage("count") > 0)
'
lua5.4 -e 'for i = 1, 3000 do io.write(i, "\n") end' | lua5.4 -e 'local s = 0; for l in io.lines() do s = s + l end; print("piped", s)'
cat >script.lua <<'L'
local n = tonumber(arg[1])
if n > 0 then
	local p = io.popen("lua5.4 script.lua " .. (n - 1))
	local r = p:read("a"); p:close()
	io.write(n, ">", r)
else
	io.write("bottom\n")
end
L
lua5.4 script.lua 6
