# Ruby 3.1: fork with pipes and exit statuses, threads with a Queue and a
# Mutex, a TCP server on 127.0.0.1 answering threads, UNIX sockets, IO.popen
# and Open3, signals, files with flock and Dir.glob, and a forked Process
# that reports back through a UNIXSocket pair.
ruby -e '
r, w = IO.pipe
pids = 3.times.map { |i| fork { r.close; w.puts "child #{i} pid ok"; exit!(10 + i) } }
w.close
puts r.read.lines.sort
puts pids.map { |p| Process.wait2(p)[1].exitstatus }.sort.inspect
'
ruby -e '
q = Queue.new; m = Mutex.new; total = 0
workers = 4.times.map { Thread.new { while (n = q.pop) != :stop; m.synchronize { total += n }; end } }
(1..10000).each { |i| q << i }; 4.times { q << :stop }; workers.each(&:join)
puts "threads total #{total}"
puts Thread.new { Thread.current[:x] = 5; Thread.current[:x] * 2 }.value
'
ruby -rsocket -e '
srv = TCPServer.new("127.0.0.1", 0); port = srv.addr[1]
t = Thread.new { 3.times { c = srv.accept; Thread.new(c) { |s| l = s.gets; s.puts l.upcase; s.close } } }
res = 3.times.map { |i| Thread.new { s = TCPSocket.new("127.0.0.1", port); s.puts "msg #{i}"; r = s.gets; s.close; r } }.map(&:value)
puts res.sort; t.join; srv.close
a, b = UNIXSocket.pair
pid = fork { a.close; b.send("from child #{[1,2,3].sum}", 0); b.close; exit! 0 }
b.close; puts a.recv(100); Process.wait(pid)
path = "r.sock"; File.unlink(path) rescue nil
us = UNIXServer.new(path)
Thread.new { c = us.accept; c.write(c.read.reverse); c.close }
c = UNIXSocket.new(path); c.write("abcdef"); c.close_write; puts c.read
'
ruby -ropen3 -e '
puts IO.popen(["sh", "-c", "echo popen; exit 3"]) { |io| io.read }; puts $?.exitstatus
o, e, s = Open3.capture3("sh", "-c", "echo out; echo err >&2; exit 2"); puts [o, e, s.exitstatus].inspect
got = nil; Signal.trap("USR1") { got = :usr1 }; Process.kill("USR1", Process.pid); sleep 0.1 until got; puts got
pid = spawn("sleep 30"); Process.kill("TERM", pid); _, st = Process.wait2(pid); puts "signaled #{st.termsig}"
File.open("lock.txt", "w") { |f| puts f.flock(File::LOCK_EX | File::LOCK_NB); f.puts "x" * 10 }
File.open("lock.txt") { |f| f.flock(File::LOCK_SH); p = fork { g = File.open("lock.txt"); exit!(g.flock(File::LOCK_EX | File::LOCK_NB) ? 0 : 1) }; puts "locked out: #{Process.wait2(p)[1].exitstatus}" }
Dir.mkdir("g") rescue nil; 5.times { |i| File.write("g/f#{i}.rb", "x" * i) }
puts Dir.glob("g/*.rb").sort.map { |f| File.size(f) }.inspect
require "digest"; puts Digest::SHA256.hexdigest(File.read("lock.txt"))
require "json"; puts JSON.generate({ a: [1, 2, { b: nil }] })
'
