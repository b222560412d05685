# PHP 8.2 CLI: pcntl_fork with waitpid statuses, a socket pair between
# parent and child, a TCP server on 127.0.0.1 served with stream_select,
# proc_open pipes, signals through pcntl, System V shared memory and
# semaphores across a fork, flock, and files.
php -r '
$kids = [];
for ($i = 0; $i < 3; $i++) { $p = pcntl_fork(); if ($p == 0) { exit(20 + $i); } $kids[] = $p; }
$codes = []; foreach ($kids as $p) { pcntl_waitpid($p, $st); $codes[] = pcntl_wexitstatus($st); }
sort($codes); echo "exit codes ", implode(",", $codes), "\n";
[$a, $b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
$p = pcntl_fork();
if ($p == 0) { fclose($a); fwrite($b, "child says " . array_sum(range(1, 100)) . "\n"); fclose($b); exit(0); }
fclose($b); echo fgets($a); pcntl_waitpid($p, $st); echo "child ok ", pcntl_wifexited($st) ? "yes" : "no", "\n";
'
php -r '
$srv = stream_socket_server("tcp://127.0.0.1:0", $errno, $err);
$name = stream_socket_get_name($srv, false);
$p = pcntl_fork();
if ($p == 0) {
	fclose($srv); $out = [];
	for ($i = 0; $i < 3; $i++) { $c = stream_socket_client("tcp://$name", $e, $s, 30); fwrite($c, "req $i\n"); $out[] = trim(fgets($c)); fclose($c); }
	file_put_contents("client.txt", implode("\n", $out) . "\n"); exit(0);
}
$clients = []; $served = 0;
while ($served < 3) {
	$r = array_merge([$srv], $clients); $w = $x = null;
	if (stream_select($r, $w, $x, 30) < 1) break;
	foreach ($r as $s) {
		if ($s === $srv) { $clients[] = stream_socket_accept($srv); continue; }
		$l = fgets($s); if ($l !== false) fwrite($s, strtoupper($l)); fclose($s); $served++;
		$clients = array_filter($clients, fn($c) => $c !== $s);
	}
}
pcntl_waitpid($p, $st); echo file_get_contents("client.txt");
'
php -r '
$proc = proc_open(["sort", "-n"], [0 => ["pipe", "r"], 1 => ["pipe", "w"], 2 => ["pipe", "w"]], $pipes);
fwrite($pipes[0], implode("\n", [5, 3, 10, 1]) . "\n"); fclose($pipes[0]);
echo str_replace("\n", " ", stream_get_contents($pipes[1])), "\n"; echo "proc_close ", proc_close($proc), "\n";
echo shell_exec("echo shell_exec; exit 0");
exec("sh -c \"echo a; echo b; exit 5\"", $lines, $rc); echo implode("+", $lines), " rc=$rc\n";
pcntl_async_signals(true); $got = 0; pcntl_signal(SIGUSR1, function () use (&$got) { $got++; });
posix_kill(posix_getpid(), SIGUSR1); posix_kill(posix_getpid(), SIGUSR1); usleep(100000); echo "signals $got\n";
$p = pcntl_fork(); if ($p == 0) { sleep(30); exit(0); } posix_kill($p, SIGTERM); pcntl_waitpid($p, $st); echo "term ", pcntl_wtermsig($st), "\n";
'
php -r '
$key = 0x5a0000 + 17; $shm = shm_attach($key, 4096, 0600); $sem = sem_get($key, 1, 0600, true);
shm_put_var($shm, 1, 0);
$kids = [];
for ($i = 0; $i < 4; $i++) { $p = pcntl_fork(); if ($p == 0) { for ($j = 0; $j < 50; $j++) { sem_acquire($sem); shm_put_var($shm, 1, shm_get_var($shm, 1) + 1); sem_release($sem); } exit(0); } $kids[] = $p; }
foreach ($kids as $p) pcntl_waitpid($p, $st);
echo "shared counter ", shm_get_var($shm, 1), "\n"; shm_remove($shm); sem_remove($sem);
$f = fopen("lock.txt", "c"); var_dump(flock($f, LOCK_EX | LOCK_NB));
$p = pcntl_fork(); if ($p == 0) { $g = fopen("lock.txt", "c"); exit(flock($g, LOCK_EX | LOCK_NB) ? 0 : 1); } pcntl_waitpid($p, $st); echo "child lock ", pcntl_wexitstatus($st), "\n";
mkdir("d"); for ($i = 0; $i < 20; $i++) file_put_contents("d/f$i", str_repeat("p", $i));
$n = 0; foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator("d", FilesystemIterator::SKIP_DOTS)) as $f) $n += $f->getSize();
echo "bytes $n ", md5(json_encode(array_map("filesize", glob("d/*")))), "\n";
'
