# A venv (with the system's site packages), a local package installed
# with pip from its directory without the network (no build isolation),
# its console script run, pip list and uninstall.
mkdir -p pkg/rbdemo
cat >pkg/pyproject.toml <<'T'
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
[project]
name = "rbdemo"
version = "0.1"
[project.scripts]
rbdemo = "rbdemo:main"
T
printf 'def main():\n    import sys, json\n    print(json.dumps({"hello": "venv", "prefix_is_venv": sys.prefix != sys.base_prefix}))\n' >pkg/rbdemo/__init__.py
/usr/bin/python3 -m venv --system-site-packages v && echo venv made
v/bin/pip install -q --no-index --no-build-isolation ./pkg 2>&1 | grep -v -i "warning\|notice" ; echo "pip exit ${PIPESTATUS[0]}"
v/bin/rbdemo
v/bin/pip list --format=freeze 2>/dev/null | grep -i rbdemo
v/bin/pip uninstall -q -y rbdemo && echo uninstalled
test -e v/bin/rbdemo || echo script gone
echo done
