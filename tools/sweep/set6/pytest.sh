# pytest: fixtures (tmp_path, capfd, monkeypatch), a subprocess, a
# thread pool, parametrized tests and an expected failure, run once
# plainly and once with xdist's two workers (execnet over pipes).
mkdir t && cat >t/test_demo.py <<'P'
import os, subprocess, sys, threading, concurrent.futures, pytest
def test_tmp(tmp_path):
    p = tmp_path / "f.txt"; p.write_text("x" * 100)
    assert p.stat().st_size == 100 and os.access(p, os.W_OK)
def test_capfd(capfd):
    os.system("echo from-a-child")
    assert capfd.readouterr().out == "from-a-child\n"
def test_env(monkeypatch):
    monkeypatch.setenv("RB_DEMO", "1"); assert subprocess.check_output(["sh", "-c", "echo $RB_DEMO"]) == b"1\n"
@pytest.mark.parametrize("n", range(20))
def test_square(n):
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        assert list(ex.map(lambda x: x * x, range(n))) == [x * x for x in range(n)]
def test_subprocess_timeout():
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1)
@pytest.mark.xfail(strict=True)
def test_expected():
    assert 1 == 2
def test_signal_child():
    p = subprocess.Popen(["sleep", "30"]); p.terminate(); assert p.wait() == -15
P
/usr/bin/python3 -m pytest -q -p no:cacheprovider t 2>&1 | tail -1 | sed -E 's/ in [0-9.]+s.*//'
/usr/bin/python3 -m pytest -q -p no:cacheprovider -n 2 t 2>&1 | tail -1 | sed -E 's/ in [0-9.]+s.*//'
echo done
