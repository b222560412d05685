python3 -m venv --without-pip v && v/bin/python -c 'import sys; print(sys.prefix.endswith("/v"))'
